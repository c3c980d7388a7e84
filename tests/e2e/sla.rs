//! SLA settings through GraphQL, and the running server's SLA engine
//! starting a conversation's clocks.

use std::time::Duration;

use livedesk_domain::Role;
use serde_json::json;
use sqlx::PgPool;

use crate::fixtures::{Fixture, code, data, post};
use crate::helpers::spawn_app;

const DEFINE: &str = "mutation($s: ID!, $p: [SlaPolicyInput!]!) { defineSlaPolicies(siteId: $s, policies: $p) { \
     policies { id name firstResponseSecs nextResponseSecs resolutionSecs conditions { providers visitorLabels } } } }";
const HOURS: &str = "mutation($s: ID!, $h: BusinessHoursInput) { setBusinessHours(siteId: $s, hours: $h) { \
     businessHours { timeZone weekly { weekday startMinute endMinute } holidays } } }";

#[sqlx::test(migrations = false)]
async fn admins_define_sla_policies_and_new_conversations_get_due_times(pool: PgPool) {
    let app = spawn_app(pool).await;
    let site = Fixture::new(&app).await;
    let ada = site.agent("Ada", Role::Admin).await;
    let ana = site.agent("Ana", Role::Agent).await;
    let policies = json!([
        { "name": "VIP", "conditions": { "visitorLabels": ["vip"] }, "firstResponseSecs": 60 },
        { "name": "Web chat", "conditions": { "providers": ["WEB_CHAT"] }, "firstResponseSecs": 900,
          "nextResponseSecs": 600, "resolutionSecs": 86400 },
    ]);
    let vars = json!({ "s": site.site.to_string(), "p": policies });

    // Agents may not; bad input is refused with a code and records nothing.
    let (_, denied) = post(&app, Some(&ana.token), DEFINE, vars.clone()).await;
    assert_eq!(code(&denied), "FORBIDDEN", "{denied}");
    let no_target = json!({ "s": site.site.to_string(), "p": [{ "name": "Empty" }] });
    let (_, refused) = post(&app, Some(&ada.token), DEFINE, no_target).await;
    assert_eq!(code(&refused), "BAD_USER_INPUT", "{refused}");
    let bad_zone = json!({ "s": site.site.to_string(), "h": { "timeZone": "Mars/Olympus",
        "weekly": [{ "weekday": "MON", "startMinute": 540, "endMinute": 1020 }] } });
    let (_, refused) = post(&app, Some(&ada.token), HOURS, bad_zone).await;
    assert_eq!(code(&refused), "BAD_USER_INPUT", "{refused}");

    let defined = data(&app, &ada.token, DEFINE, vars).await;
    let listed = &defined["defineSlaPolicies"]["policies"];
    assert_eq!(listed[0]["name"], "VIP");
    assert_eq!(listed[1]["resolutionSecs"], 86400);
    assert_eq!(listed[1]["conditions"]["providers"], json!(["WEB_CHAT"]));

    let weekly: Vec<_> = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]
        .map(|d| json!({ "weekday": d, "startMinute": 0, "endMinute": 1440 }))
        .to_vec();
    let hours = json!({ "s": site.site.to_string(), "h": { "timeZone": "UTC", "weekly": weekly, "holidays": [] } });
    let set = data(&app, &ada.token, HOURS, hours).await;
    assert_eq!(set["setBusinessHours"]["businessHours"]["timeZone"], "UTC");
    let read = data(
        &app,
        &ana.token,
        "query($s: ID!) { slaSettings(siteId: $s) { policies { name } businessHours { weekly { weekday } } } }",
        json!({ "s": site.site.to_string() }),
    )
    .await;
    assert_eq!(read["slaSettings"]["policies"][1]["name"], "Web chat");
    assert_eq!(read["slaSettings"]["businessHours"]["weekly"][6]["weekday"], "SUN");

    // The server's SLA engine gives a new web chat the second policy's
    // clocks; the inbox shows the nearest one.
    let (conversation, _) = site.open_conversation("Hello?").await;
    let query = "query($id: ID!) { conversation(id: $id) { slaDueAt slaDueTarget sla { target outcome } } }";
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let row = loop {
        let got = data(&app, &ana.token, query, json!({ "id": conversation.to_string() })).await;
        if !got["conversation"]["slaDueAt"].is_null() {
            break got["conversation"].clone();
        }
        assert!(tokio::time::Instant::now() < deadline, "no SLA clock: {got}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(row["slaDueTarget"], "FIRST_RESPONSE");
    assert_eq!(row["sla"].as_array().map(Vec::len), Some(2), "{row}");
}
