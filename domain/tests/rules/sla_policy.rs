//! Which SLA policy applies to a conversation, and when its clocks fall
//! due.

use chrono::{DateTime, TimeDelta, TimeZone, Utc, Weekday};
use chrono_tz::Europe::Berlin;
use livedesk_domain::conversation::{Provider, SlaDue, SlaTarget};
use livedesk_domain::sla::{BusinessHours, SlaConditions, SlaFacts, SlaPolicy, WeeklyInterval, matching_policy};
use livedesk_domain::{SlaPolicyId, TeamId};

use crate::given::id;

fn policy(n: u128, conditions: SlaConditions) -> SlaPolicy {
    SlaPolicy {
        id: id(n),
        name: format!("policy {n}"),
        conditions,
        first_response_secs: Some(3_600),
        next_response_secs: None,
        resolution_secs: None,
    }
}

fn facts<'a>(labels: &'a [String]) -> SlaFacts<'a> {
    SlaFacts {
        provider: Provider::WebChat,
        visitor_labels: labels,
        team: None,
        page_path: None,
    }
}

fn matched(policies: &[SlaPolicy], facts: &SlaFacts<'_>) -> Option<SlaPolicyId> {
    matching_policy(policies, facts).map(|p| p.id)
}

#[test]
fn the_first_matching_policy_in_the_sites_order_applies() {
    let vip = policy(
        1,
        SlaConditions {
            visitor_labels: vec!["VIP".into()],
            ..SlaConditions::default()
        },
    );
    let everyone = policy(2, SlaConditions::default());
    let labels = vec!["vip".to_owned()];
    let vip_first = [vip.clone(), everyone.clone()];
    assert_eq!(matched(&vip_first, &facts(&labels)), Some(id(1)));
    assert_eq!(matched(&vip_first, &facts(&[])), Some(id(2)));
    let catch_all_first = [everyone, vip];
    assert_eq!(matched(&catch_all_first, &facts(&labels)), Some(id(2)));
}

#[test]
fn no_policy_matches_when_none_covers_the_conversation() {
    let facebook_only = policy(
        1,
        SlaConditions {
            providers: vec![Provider::Facebook],
            ..SlaConditions::default()
        },
    );
    assert_eq!(matched(&[facebook_only], &facts(&[])), None);
    assert_eq!(matched(&[], &facts(&[])), None);
}

#[test]
fn each_condition_kind_matches_its_fact() {
    let team: TeamId = id(50);
    let by_provider = SlaConditions {
        providers: vec![Provider::Api, Provider::Facebook],
        ..SlaConditions::default()
    };
    let by_team = SlaConditions {
        teams: vec![team],
        ..SlaConditions::default()
    };
    let by_path = SlaConditions {
        page_path_prefixes: vec!["/pricing".into()],
        ..SlaConditions::default()
    };
    let none: [String; 0] = [];
    let base = facts(&none);
    assert!(by_provider.matches(&SlaFacts {
        provider: Provider::Facebook,
        ..base
    }));
    assert!(!by_provider.matches(&base));
    assert!(by_team.matches(&SlaFacts {
        team: Some(team),
        ..base
    }));
    assert!(!by_team.matches(&SlaFacts {
        team: Some(id(51)),
        ..base
    }));
    assert!(!by_team.matches(&base), "no team never matches a team condition");
    assert!(by_path.matches(&SlaFacts {
        page_path: Some("/pricing/enterprise"),
        ..base
    }));
    assert!(!by_path.matches(&SlaFacts {
        page_path: Some("/pricingx"),
        ..base
    }));
    assert!(!by_path.matches(&base), "no path never matches a path condition");
}

#[test]
fn kinds_combine_as_all_of_and_values_within_a_kind_as_any_of() {
    let conditions = SlaConditions {
        providers: vec![Provider::WebChat],
        visitor_labels: vec!["gold".into(), "vip".into()],
        ..SlaConditions::default()
    };
    let gold = vec!["Gold".to_owned()];
    assert!(conditions.matches(&facts(&gold)));
    assert!(!conditions.matches(&SlaFacts {
        provider: Provider::Api,
        ..facts(&gold)
    }));
    assert!(!conditions.matches(&facts(&["silver".to_owned()])));
}

fn berlin(d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Berlin
        .with_ymd_and_hms(2025, 1, d, h, mi, 0)
        .single()
        .expect("a Berlin time")
        .with_timezone(&Utc)
}

fn office() -> BusinessHours {
    let weekdays = [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri];
    BusinessHours {
        time_zone: "Europe/Berlin".into(),
        weekly: weekdays
            .map(|weekday| WeeklyInterval {
                weekday,
                start_minute: 9 * 60,
                end_minute: 17 * 60,
            })
            .to_vec(),
        holidays: vec![],
    }
}

#[test]
fn due_times_count_business_time_for_first_response_and_resolution() {
    let policy = SlaPolicy {
        resolution_secs: Some(24 * 3_600),
        ..policy(1, SlaConditions::default())
    };
    // Friday 16:30: half an hour left that day.
    let due = policy.due_times(berlin(10, 16, 30), &office()).expect("computable");
    assert_eq!(
        due,
        vec![
            SlaDue {
                target: SlaTarget::FirstResponse,
                due_at: berlin(13, 9, 30),
            },
            SlaDue {
                target: SlaTarget::Resolution,
                due_at: berlin(15, 16, 30),
            },
        ]
    );
}

#[test]
fn without_business_hours_due_times_are_plain_offsets() {
    let opened = berlin(11, 3, 0);
    let due = policy(1, SlaConditions::default())
        .due_times(opened, &BusinessHours::always_open())
        .expect("computable");
    assert_eq!(
        due,
        vec![SlaDue {
            target: SlaTarget::FirstResponse,
            due_at: opened + TimeDelta::hours(1),
        }]
    );
}

#[test]
fn a_next_response_target_starts_from_the_visitor_message_and_not_at_opening() {
    let policy = SlaPolicy {
        first_response_secs: None,
        next_response_secs: Some(15 * 60),
        ..policy(1, SlaConditions::default())
    };
    assert_eq!(policy.due_times(berlin(10, 12, 0), &office()), Ok(vec![]));
    assert_eq!(
        policy.next_response_due(berlin(10, 16, 50), &office()),
        Ok(Some(SlaDue {
            target: SlaTarget::NextResponse,
            due_at: berlin(13, 9, 5),
        }))
    );
    let no_next = self::policy(2, SlaConditions::default());
    assert_eq!(no_next.next_response_due(berlin(10, 16, 50), &office()), Ok(None));
}

#[test]
fn a_policy_travels_as_json_with_conditions_that_may_be_left_out() {
    let json = r#"{"id":"00000000-0000-0000-0000-000000000001","name":"Default",
        "first_response_secs":60,"next_response_secs":null,"resolution_secs":null}"#;
    let decoded: SlaPolicy = serde_json::from_str(json).expect("decodes");
    assert_eq!(decoded.conditions, SlaConditions::default());
    assert_eq!(decoded.target_secs(SlaTarget::FirstResponse), Some(60));
}
