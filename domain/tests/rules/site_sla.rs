//! A site's SLA policies and business hours: decided against the site,
//! validated, replaced whole.

use chrono::{NaiveDate, Weekday};
use livedesk_domain::conversation::Provider;
use livedesk_domain::limits::{InputError, MAX_CONDITION_VALUES, MAX_HOLIDAYS, MAX_SLA_POLICIES};
use livedesk_domain::site::*;
use livedesk_domain::sla::{BusinessHours, SlaConditions, SlaPolicy, WeeklyInterval};

use crate::given::{Scenario, at, given, given_no_events, id};

pub fn site_with_team() -> Scenario<Site> {
    given([
        SiteEvent::Created(SiteCreated {
            site_id: id(1),
            name: "Shop".into(),
            allowed_origins: vec![],
            widget_key: "wk_shop_123".into(),
            at: at(0),
        }),
        SiteEvent::TeamCreated(TeamCreated {
            team_id: id(50),
            name: "Sales".into(),
            at: at(0),
        }),
    ])
}

fn policy(n: u128) -> SlaPolicy {
    SlaPolicy {
        id: id(n),
        name: "Standard".into(),
        conditions: SlaConditions {
            providers: vec![Provider::WebChat],
            visitor_labels: vec!["vip".into()],
            teams: vec![id(50)],
            page_path_prefixes: vec!["/pricing".into()],
        },
        first_response_secs: Some(300),
        next_response_secs: Some(600),
        resolution_secs: Some(86_400),
    }
}

fn define(policies: Vec<SlaPolicy>) -> SiteCommand {
    SiteCommand::DefineSlaPolicies { policies, at: at(1) }
}

fn rejected(policy: SlaPolicy) -> SiteError {
    site_with_team().when(define(vec![policy])).error()
}

#[test]
fn sla_policies_are_defined_as_an_ordered_list_and_the_same_list_again_records_nothing() {
    let policies = vec![
        policy(10),
        SlaPolicy {
            conditions: SlaConditions::default(),
            ..policy(11)
        },
    ];
    let state = site_with_team()
        .when(define(policies.clone()))
        .then([SiteEvent::SlaPoliciesDefined(SlaPoliciesDefined {
            policies: policies.clone(),
            at: at(1),
        })]);
    let site = state.active().expect("created");
    assert_eq!(site.sla_and_routing.sla_policies, policies);
    let defined = SiteEvent::SlaPoliciesDefined(SlaPoliciesDefined {
        policies: policies.clone(),
        at: at(1),
    });
    site_with_team_and(defined.clone())
        .when(define(policies.clone()))
        .then_nothing();
    let reordered = vec![policies[1].clone(), policies[0].clone()];
    site_with_team_and(defined)
        .when(define(reordered.clone()))
        .then([SiteEvent::SlaPoliciesDefined(SlaPoliciesDefined {
            policies: reordered,
            at: at(1),
        })]);
}

#[test]
fn bad_sla_policies_are_rejected_naming_the_rule() {
    assert_eq!(
        site_with_team().when(define(vec![policy(10), policy(10)])).error(),
        SiteError::DuplicateSlaPolicy(id(10))
    );
    let no_target = SlaPolicy {
        first_response_secs: None,
        next_response_secs: None,
        resolution_secs: None,
        ..policy(10)
    };
    assert_eq!(rejected(no_target), SiteError::NoSlaTarget(id(10)));
    let zero = SlaPolicy {
        first_response_secs: Some(0),
        ..policy(10)
    };
    let too_long = SlaPolicy {
        resolution_secs: Some(91 * 86_400),
        ..policy(10)
    };
    assert!(matches!(
        rejected(zero),
        SiteError::Invalid(InputError::Invalid {
            field: "first_response_secs",
            ..
        })
    ));
    assert!(matches!(
        rejected(too_long),
        SiteError::Invalid(InputError::Invalid {
            field: "resolution_secs",
            ..
        })
    ));
    let unnamed = SlaPolicy {
        name: "  ".into(),
        ..policy(10)
    };
    assert_eq!(
        rejected(unnamed),
        SiteError::Invalid(InputError::Empty {
            field: "SLA policy name"
        })
    );
    let mut unknown_team = policy(10);
    unknown_team.conditions.teams = vec![id(99)];
    assert_eq!(rejected(unknown_team), SiteError::UnknownTeam(id(99)));
    let mut bad_path = policy(10);
    bad_path.conditions.page_path_prefixes = vec!["pricing".into()];
    assert_eq!(rejected(bad_path), SiteError::InvalidPathPrefix("pricing".into()));
    let mut empty_label = policy(10);
    empty_label.conditions.visitor_labels = vec![String::new()];
    assert_eq!(
        rejected(empty_label),
        SiteError::Invalid(InputError::Empty { field: "visitor label" })
    );
    let mut many_labels = policy(10);
    many_labels.conditions.visitor_labels = vec!["x".into(); MAX_CONDITION_VALUES + 1];
    assert!(matches!(
        rejected(many_labels),
        SiteError::Invalid(InputError::TooMany {
            field: "visitor labels",
            ..
        })
    ));
    let too_many: Vec<SlaPolicy> = (0..=MAX_SLA_POLICIES as u128).map(|n| policy(100 + n)).collect();
    assert!(matches!(
        site_with_team().when(define(too_many)).error(),
        SiteError::Invalid(InputError::TooMany {
            field: "SLA policies",
            ..
        })
    ));
}

#[test]
fn site_configuration_needs_a_created_site() {
    given_no_events::<Site>()
        .when(define(vec![policy(10)]))
        .then_error(SiteError::NotCreated);
}

fn office() -> BusinessHours {
    BusinessHours {
        time_zone: "Europe/Berlin".into(),
        weekly: vec![
            interval(Weekday::Mon, 9 * 60, 12 * 60),
            interval(Weekday::Mon, 13 * 60, 17 * 60),
            interval(Weekday::Sat, 0, 1_440),
        ],
        holidays: vec![NaiveDate::from_ymd_opt(2025, 12, 25).expect("a date")],
    }
}

fn interval(weekday: Weekday, start_minute: u16, end_minute: u16) -> WeeklyInterval {
    WeeklyInterval {
        weekday,
        start_minute,
        end_minute,
    }
}

fn set_hours(hours: Option<BusinessHours>) -> SiteCommand {
    SiteCommand::SetBusinessHours { hours, at: at(2) }
}

fn hours_set(hours: Option<BusinessHours>) -> SiteEvent {
    SiteEvent::BusinessHoursSet(BusinessHoursSet { hours, at: at(2) })
}

#[test]
fn business_hours_are_set_and_cleared_and_unchanged_hours_record_nothing() {
    let state = site_with_team()
        .when(set_hours(Some(office())))
        .then([hours_set(Some(office()))]);
    assert_eq!(
        state.active().expect("created").sla_and_routing.business_hours,
        Some(office())
    );
    let with_hours = || site_with_team_and(hours_set(Some(office())));
    with_hours().when(set_hours(Some(office()))).then_nothing();
    let cleared = with_hours().when(set_hours(None)).then([hours_set(None)]);
    assert_eq!(cleared.active().expect("created").sla_and_routing.business_hours, None);
    site_with_team().when(set_hours(None)).then_nothing();
}

pub fn site_with_team_and(event: SiteEvent) -> Scenario<Site> {
    given([
        SiteEvent::Created(SiteCreated {
            site_id: id(1),
            name: "Shop".into(),
            allowed_origins: vec![],
            widget_key: "wk_shop_123".into(),
            at: at(0),
        }),
        SiteEvent::TeamCreated(TeamCreated {
            team_id: id(50),
            name: "Sales".into(),
            at: at(0),
        }),
        event,
    ])
}

#[test]
fn bad_business_hours_are_rejected_naming_the_rule() {
    let reject = |hours: BusinessHours| site_with_team().when(set_hours(Some(hours))).error();
    let bad_interval = InputError::Invalid {
        field: "business hours interval",
        reason: "start before end, minutes 0 to 1440",
    };
    assert_eq!(
        reject(BusinessHours {
            time_zone: "Europe/Berlln".into(),
            ..office()
        }),
        SiteError::UnknownTimeZone("Europe/Berlln".into())
    );
    assert_eq!(
        reject(BusinessHours {
            weekly: vec![],
            ..office()
        }),
        SiteError::Invalid(InputError::Empty {
            field: "business hours intervals"
        })
    );
    for (start, end) in [(600, 600), (600, 540), (0, 1_441)] {
        let hours = BusinessHours {
            weekly: vec![interval(Weekday::Tue, start, end)],
            ..office()
        };
        assert_eq!(reject(hours), SiteError::Invalid(bad_interval.clone()), "{start}-{end}");
    }
    let overlapping = BusinessHours {
        weekly: vec![
            interval(Weekday::Mon, 13 * 60, 17 * 60),
            interval(Weekday::Tue, 9 * 60, 17 * 60),
            interval(Weekday::Mon, 9 * 60, 13 * 60 + 1),
        ],
        ..office()
    };
    assert_eq!(reject(overlapping), SiteError::OverlappingHours(Weekday::Mon));
    let too_many_holidays = BusinessHours {
        holidays: vec![NaiveDate::MIN; MAX_HOLIDAYS + 1],
        ..office()
    };
    assert!(matches!(
        reject(too_many_holidays),
        SiteError::Invalid(InputError::TooMany { field: "holidays", .. })
    ));
    let too_many_intervals = BusinessHours {
        weekly: (0..101).map(|m| interval(Weekday::Wed, m, m + 1)).collect(),
        ..office()
    };
    assert!(matches!(
        reject(too_many_intervals),
        SiteError::Invalid(InputError::TooMany {
            field: "business hours intervals",
            ..
        })
    ));
}

#[test]
fn touching_intervals_on_one_day_are_not_an_overlap() {
    let touching = BusinessHours {
        weekly: vec![
            interval(Weekday::Mon, 9 * 60, 12 * 60),
            interval(Weekday::Mon, 12 * 60, 17 * 60),
        ],
        ..office()
    };
    site_with_team()
        .when(set_hours(Some(touching.clone())))
        .then([hours_set(Some(touching))]);
}
