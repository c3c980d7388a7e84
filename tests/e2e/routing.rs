//! Routing settings through GraphQL: admins define the rules and
//! auto-assignment, anyone on the site reads them back, everything else is
//! refused with a code and appends nothing.

use livedesk_domain::Role;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::fixtures::{Fixture, code, data, event_count, post};
use crate::helpers::{TestApp, spawn_app};

const RULES: &str = "mutation($s: ID!, $r: [RoutingRuleInput!]!) { defineRoutingRules(siteId: $s, rules: $r) { \
     rules { id teamId conditions { pagePathPrefixes visitorLabels providers languages } } } }";
const AUTO: &str = "mutation($s: ID!, $on: Boolean!, $after: Int) { \
     configureAutoAssignment(siteId: $s, enabled: $on, reassignAfterSecs: $after) { \
     autoAssignment { enabled reassignAfterSecs reassignWhenOffline } } }";
const READ: &str = "query($s: ID!) { routingSettings(siteId: $s) { \
     rules { id teamId conditions { pagePathPrefixes visitorLabels providers languages } } \
     autoAssignment { enabled reassignAfterSecs reassignWhenOffline } } }";

async fn team(app: &TestApp, site: &Fixture, token: &str, name: &str) -> Value {
    let created = data(
        app,
        token,
        "mutation($s: ID!, $n: String!) { createTeam(siteId: $s, name: $n) { id } }",
        json!({ "s": site.site.to_string(), "n": name }),
    )
    .await;
    created["createTeam"]["id"].clone()
}

#[sqlx::test(migrations = false)]
async fn admins_define_routing_rules_and_auto_assignment_and_agents_read_them(pool: sqlx::PgPool) {
    let app = spawn_app(pool).await;
    let site = Fixture::new(&app).await;
    let ada = site.agent("Ada", Role::Admin).await;
    let ana = site.agent("Ana", Role::Agent).await;
    let sales = team(&app, &site, &ada.token, "Sales").await;
    let support = team(&app, &site, &ada.token, "Support").await;
    let s = site.site.to_string();
    let rules = json!([
        { "conditions": { "pagePathPrefixes": ["/pricing"] }, "teamId": sales },
        { "teamId": support },
    ]);

    // Agents may not; bad input is refused with a code; none records anything.
    let before = event_count(&app).await;
    let (_, denied) = post(&app, Some(&ana.token), RULES, json!({ "s": s, "r": rules })).await;
    assert_eq!(code(&denied), "FORBIDDEN", "{denied}");
    let (_, denied) = post(&app, Some(&ana.token), AUTO, json!({ "s": s, "on": false })).await;
    assert_eq!(code(&denied), "FORBIDDEN", "{denied}");
    let unknown_team = json!([{ "teamId": Uuid::now_v7().to_string() }]);
    let (_, refused) = post(&app, Some(&ada.token), RULES, json!({ "s": s, "r": unknown_team })).await;
    assert_eq!(code(&refused), "NOT_FOUND", "{refused}");
    let no_slash = json!([{ "conditions": { "pagePathPrefixes": ["help"] }, "teamId": sales }]);
    let (_, refused) = post(&app, Some(&ada.token), RULES, json!({ "s": s, "r": no_slash })).await;
    assert_eq!(code(&refused), "BAD_USER_INPUT", "{refused}");
    let too_soon = json!({ "s": s, "on": true, "after": 5 });
    let (_, refused) = post(&app, Some(&ada.token), AUTO, too_soon).await;
    assert_eq!(code(&refused), "BAD_USER_INPUT", "{refused}");
    assert_eq!(event_count(&app).await, before, "a refused change appended events");

    let defined = data(&app, &ada.token, RULES, json!({ "s": s, "r": rules })).await;
    let listed = &defined["defineRoutingRules"]["rules"];
    assert_eq!(listed.as_array().map(Vec::len), Some(2), "{defined}");
    assert_eq!(listed[0]["teamId"], sales);
    assert_eq!(listed[0]["conditions"]["pagePathPrefixes"], json!(["/pricing"]));
    assert_eq!(listed[1]["teamId"], support);
    assert_eq!(listed[1]["conditions"]["pagePathPrefixes"], json!([]));
    let ids: Vec<Uuid> = listed
        .as_array()
        .into_iter()
        .flatten()
        .map(|rule| rule["id"].as_str().and_then(|id| id.parse().ok()).expect("a rule id"))
        .collect();
    assert!(
        ids.iter().all(|id| id.get_version_num() == 7),
        "new ids are UUID v7: {ids:?}"
    );
    assert_ne!(ids[0], ids[1]);

    let off = data(&app, &ada.token, AUTO, json!({ "s": s, "on": false })).await;
    let expected = json!({ "enabled": false, "reassignAfterSecs": null, "reassignWhenOffline": false });
    assert_eq!(off["configureAutoAssignment"]["autoAssignment"], expected);
    let on = data(&app, &ada.token, AUTO, json!({ "s": s, "on": true, "after": 300 })).await;
    let expected = json!({ "enabled": true, "reassignAfterSecs": 300, "reassignWhenOffline": false });
    assert_eq!(on["configureAutoAssignment"]["autoAssignment"], expected);
    assert_eq!(event_count(&app).await, before + 3, "one event per change");

    let read = data(&app, &ana.token, READ, json!({ "s": s })).await;
    let settings = &read["routingSettings"];
    assert_eq!(settings["rules"], *listed, "the rules in order");
    assert_eq!(settings["autoAssignment"], expected);
}
