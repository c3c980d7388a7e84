//! A site's routing rules and auto-assignment: decided against the site,
//! validated, replaced whole.

use livedesk_domain::conversation::Provider;
use livedesk_domain::limits::{InputError, MAX_CONDITION_VALUES};
use livedesk_domain::routing::{AutoAssignment, RoutingConditions, RoutingRule};
use livedesk_domain::site::*;

use crate::given::{at, id};
use crate::site_sla::{site_with_team, site_with_team_and};

fn routing_rule(n: u128, conditions: RoutingConditions) -> RoutingRule {
    RoutingRule {
        id: id(n),
        conditions,
        team_id: id(50),
    }
}

fn define_rules(rules: Vec<RoutingRule>) -> SiteCommand {
    SiteCommand::DefineRoutingRules { rules, at: at(3) }
}

#[test]
fn routing_rules_are_defined_as_an_ordered_list() {
    let rules = vec![
        routing_rule(
            20,
            RoutingConditions {
                page_path_prefixes: vec!["/de".into()],
                visitor_labels: vec!["vip".into()],
                providers: vec![Provider::WebChat],
                languages: vec!["de".into(), "de-AT".into()],
            },
        ),
        routing_rule(21, RoutingConditions::default()),
    ];
    let state = site_with_team()
        .when(define_rules(rules.clone()))
        .then([SiteEvent::RoutingRulesDefined(RoutingRulesDefined {
            rules: rules.clone(),
            at: at(3),
        })]);
    assert_eq!(state.active().expect("created").sla_and_routing.routing_rules, rules);
    site_with_team_and(SiteEvent::RoutingRulesDefined(RoutingRulesDefined {
        rules: rules.clone(),
        at: at(3),
    }))
    .when(define_rules(rules))
    .then_nothing();
}

#[test]
fn bad_routing_rules_are_rejected_naming_the_rule() {
    let reject = |rules: Vec<RoutingRule>| site_with_team().when(define_rules(rules)).error();
    let plain = || routing_rule(20, RoutingConditions::default());
    assert_eq!(reject(vec![plain(), plain()]), SiteError::DuplicateRoutingRule(id(20)));
    let elsewhere = RoutingRule {
        team_id: id(99),
        ..plain()
    };
    assert_eq!(reject(vec![elsewhere]), SiteError::UnknownTeam(id(99)));
    for bad in ["deutsch", "de_AT", ""] {
        let rule = routing_rule(
            20,
            RoutingConditions {
                languages: vec![bad.into()],
                ..RoutingConditions::default()
            },
        );
        assert_eq!(reject(vec![rule]), SiteError::InvalidLanguage(bad.into()));
    }
    let rule = routing_rule(
        20,
        RoutingConditions {
            page_path_prefixes: vec!["/a b".into()],
            ..RoutingConditions::default()
        },
    );
    assert_eq!(reject(vec![rule]), SiteError::InvalidPathPrefix("/a b".into()));
    let rule = routing_rule(
        20,
        RoutingConditions {
            providers: vec![Provider::Api; MAX_CONDITION_VALUES + 1],
            ..RoutingConditions::default()
        },
    );
    assert!(matches!(
        reject(vec![rule]),
        SiteError::Invalid(InputError::TooMany { field: "providers", .. })
    ));
    let rules: Vec<RoutingRule> = (0..101)
        .map(|n| routing_rule(100 + n, RoutingConditions::default()))
        .collect();
    assert!(matches!(
        reject(rules),
        SiteError::Invalid(InputError::TooMany {
            field: "routing rules",
            ..
        })
    ));
}

fn configure(enabled: bool, reassign_after_secs: Option<u32>, reassign_when_offline: bool) -> SiteCommand {
    SiteCommand::ConfigureAutoAssignment {
        enabled,
        reassign_after_secs,
        reassign_when_offline,
        at: at(4),
    }
}

#[test]
fn auto_assignment_is_on_without_reassignment_until_configured() {
    let events = site_with_team().when(configure(true, None, false)).events();
    assert!(events.is_empty(), "the default configuration records nothing");
    let configured = AutoAssignmentConfigured {
        enabled: true,
        reassign_after_secs: Some(600),
        reassign_when_offline: true,
        at: at(4),
    };
    let state = site_with_team()
        .when(configure(true, Some(600), true))
        .then([SiteEvent::AutoAssignmentConfigured(configured.clone())]);
    assert_eq!(
        state.active().expect("created").sla_and_routing.auto_assignment,
        AutoAssignment {
            enabled: true,
            reassign_after_secs: Some(600),
            reassign_when_offline: true,
        }
    );
    site_with_team_and(SiteEvent::AutoAssignmentConfigured(configured))
        .when(configure(false, Some(600), true))
        .then([SiteEvent::AutoAssignmentConfigured(AutoAssignmentConfigured {
            enabled: false,
            reassign_after_secs: Some(600),
            reassign_when_offline: true,
            at: at(4),
        })]);
}

#[test]
fn a_reassignment_wait_outside_30_seconds_to_a_day_is_rejected() {
    for secs in [0, 29, 86_401] {
        site_with_team()
            .when(configure(true, Some(secs), false))
            .then_error(SiteError::Invalid(InputError::Invalid {
                field: "reassign_after_secs",
                reason: "30 to 86400",
            }));
    }
}
