//! Routing rules pick the team; auto-assignment picks the agent.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use livedesk_domain::AgentId;
use livedesk_domain::conversation::Provider;
use livedesk_domain::routing::{
    AutoAssignment, Candidate, RoutingConditions, RoutingFacts, RoutingRule, choose_agent, route,
};

use crate::given::id;

fn rule(n: u128, team: u128, conditions: RoutingConditions) -> RoutingRule {
    RoutingRule {
        id: id(n),
        conditions,
        team_id: id(team),
    }
}

fn visitor<'a>(path: Option<&'a str>, labels: &'a [String], languages: &'a [String]) -> RoutingFacts<'a> {
    RoutingFacts {
        page_path: path,
        visitor_labels: labels,
        provider: Provider::WebChat,
        languages,
    }
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| (*v).to_owned()).collect()
}

#[test]
fn a_page_path_prefix_routes_by_where_the_chat_started() {
    let rules = [rule(
        1,
        50,
        RoutingConditions {
            page_path_prefixes: vec!["/pricing".into()],
            ..RoutingConditions::default()
        },
    )];
    assert_eq!(
        route(&rules, &visitor(Some("/pricing/teams"), &[], &[])),
        Some((id(1), id(50)))
    );
    assert_eq!(route(&rules, &visitor(Some("/blog"), &[], &[])), None);
    assert_eq!(route(&rules, &visitor(None, &[], &[])), None);
}

#[test]
fn a_visitor_label_routes_ignoring_case() {
    let rules = [rule(
        1,
        50,
        RoutingConditions {
            visitor_labels: vec!["VIP".into()],
            ..RoutingConditions::default()
        },
    )];
    assert_eq!(
        route(&rules, &visitor(None, &strings(&["new", "vip"]), &[])),
        Some((id(1), id(50)))
    );
    assert_eq!(route(&rules, &visitor(None, &strings(&["new"]), &[])), None);
}

#[test]
fn a_provider_routes_by_where_the_conversation_came_from() {
    let rules = [rule(
        1,
        50,
        RoutingConditions {
            providers: vec![Provider::Facebook],
            ..RoutingConditions::default()
        },
    )];
    let facebook = RoutingFacts {
        provider: Provider::Facebook,
        ..visitor(None, &[], &[])
    };
    assert_eq!(route(&rules, &facebook), Some((id(1), id(50))));
    assert_eq!(route(&rules, &visitor(None, &[], &[])), None);
}

#[test]
fn a_language_routes_by_the_browsers_preferred_language_and_its_primary_subtag() {
    let german = |n, range: &str| {
        rule(
            n,
            50,
            RoutingConditions {
                languages: vec![range.into()],
                ..RoutingConditions::default()
            },
        )
    };
    let any_german = [german(1, "de")];
    let austrian = [german(2, "de-AT")];
    let de_at = strings(&["de-AT", "en"]);
    let de_de = strings(&["de-DE"]);
    let en_then_de = strings(&["en-US", "de"]);
    assert_eq!(route(&any_german, &visitor(None, &[], &de_at)), Some((id(1), id(50))));
    assert_eq!(route(&any_german, &visitor(None, &[], &de_de)), Some((id(1), id(50))));
    assert_eq!(route(&austrian, &visitor(None, &[], &de_at)), Some((id(2), id(50))));
    assert_eq!(route(&austrian, &visitor(None, &[], &de_de)), None);
    assert_eq!(
        route(&any_german, &visitor(None, &[], &en_then_de)),
        None,
        "only the preferred language counts"
    );
    assert_eq!(route(&any_german, &visitor(None, &[], &[])), None);
}

#[test]
fn the_first_matching_rule_routes_and_a_rule_without_conditions_catches_the_rest() {
    let rules = [
        rule(
            1,
            50,
            RoutingConditions {
                languages: vec!["de".into()],
                ..RoutingConditions::default()
            },
        ),
        rule(
            2,
            60,
            RoutingConditions {
                visitor_labels: vec!["vip".into()],
                ..RoutingConditions::default()
            },
        ),
        rule(3, 70, RoutingConditions::default()),
    ];
    let german_vip = (strings(&["vip"]), strings(&["de"]));
    assert_eq!(
        route(&rules, &visitor(None, &german_vip.0, &german_vip.1)),
        Some((id(1), id(50)))
    );
    assert_eq!(route(&rules, &visitor(None, &german_vip.0, &[])), Some((id(2), id(60))));
    assert_eq!(route(&rules, &visitor(Some("/"), &[], &[])), Some((id(3), id(70))));
    assert_eq!(route(&[], &visitor(Some("/"), &[], &[])), None);
}

#[test]
fn conditions_of_different_kinds_must_all_hold() {
    let rules = [rule(
        1,
        50,
        RoutingConditions {
            page_path_prefixes: vec!["/de".into()],
            languages: vec!["de".into()],
            ..RoutingConditions::default()
        },
    )];
    let de = strings(&["de"]);
    assert_eq!(
        route(&rules, &visitor(Some("/de/shop"), &[], &de)),
        Some((id(1), id(50)))
    );
    assert_eq!(route(&rules, &visitor(Some("/en/shop"), &[], &de)), None);
    assert_eq!(route(&rules, &visitor(Some("/de/shop"), &[], &strings(&["fr"]))), None);
}

fn minutes_ago(m: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 6, 12, 0, 0).single().expect("valid") - TimeDelta::minutes(m)
}

fn candidate(n: u128, open: u32, capacity: u16, idle_minutes: i64) -> Candidate {
    Candidate {
        agent_id: id(n),
        online: true,
        open_conversations: open,
        capacity,
        idle_since: minutes_ago(idle_minutes),
    }
}

#[test]
fn the_online_agent_with_the_fewest_open_conversations_gets_it() {
    let ana = candidate(1, 3, 5, 0);
    let bo = candidate(2, 1, 5, 0);
    let offline_cy = Candidate {
        online: false,
        ..candidate(3, 0, 5, 60)
    };
    assert_eq!(choose_agent(&[ana, bo, offline_cy]), Some(id(2)));
}

#[test]
fn an_agent_at_capacity_is_passed_over_and_with_everyone_full_nobody_gets_it() {
    let full_ana = candidate(1, 2, 2, 90);
    let bo = candidate(2, 4, 5, 0);
    assert_eq!(choose_agent(&[full_ana, bo]), Some(id(2)));
    let full_bo = candidate(2, 5, 5, 0);
    let no_capacity = candidate(3, 0, 0, 120);
    assert_eq!(choose_agent(&[full_ana, full_bo, no_capacity]), None);
    assert_eq!(choose_agent(&[]), None);
}

#[test]
fn a_tie_goes_to_the_agent_idle_longest_then_to_the_lowest_id() {
    let recently = candidate(1, 1, 5, 5);
    let longest = candidate(2, 1, 5, 30);
    assert_eq!(choose_agent(&[recently, longest]), Some(id(2)));
    let (b, a) = (candidate(9, 1, 5, 30), candidate(4, 1, 5, 30));
    let expected: AgentId = id(4);
    assert_eq!(choose_agent(&[b, a]), Some(expected));
    assert_eq!(choose_agent(&[a, b]), Some(expected));
}

#[test]
fn reassignment_happens_only_while_auto_assignment_is_on() {
    let on = AutoAssignment {
        enabled: true,
        reassign_after_secs: Some(300),
        reassign_when_offline: true,
    };
    assert!(on.reassigns_unanswered_after(300));
    assert!(!on.reassigns_unanswered_after(299));
    assert!(on.reassigns_when_offline());
    let off = AutoAssignment { enabled: false, ..on };
    assert!(!off.reassigns_unanswered_after(10_000));
    assert!(!off.reassigns_when_offline());
    let default = AutoAssignment::default();
    assert!(default.enabled && !default.reassigns_when_offline() && !default.reassigns_unanswered_after(u64::MAX));
}
