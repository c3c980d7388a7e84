//! The SLA report: the running server's SLA engine fulfils one clock (an
//! agent replies in time) and breaches another; `slaReport` and
//! `/reports/sla.csv` count them per agent and per team, for admins,
//! supervisors and analysts only.

use std::time::Duration;

use chrono::{SecondsFormat, TimeDelta, Utc};
use livedesk_domain::Role;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::fixtures::{Fixture, code, data, post};
use crate::helpers::{TestApp, spawn_app};

/// The first-response target: long enough for a reply on a busy machine,
/// short enough to wait for a breach.
const TARGET_SECS: u64 = 6;

const REPORT: &str = "query($s: ID!, $from: DateTime!, $to: DateTime!, $g: SlaReportGroup!) { \
     slaReport(siteId: $s, from: $from, to: $to, groupBy: $g) { \
     agentId agentName teamId teamName target met missed medianSecs } }";

async fn csv(app: &TestApp, token: Option<&str>, query: &str) -> (u16, String) {
    let mut request = app.http.get(format!("{}/reports/sla.csv?{query}", app.address));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request");
    (response.status().as_u16(), response.text().await.expect("body"))
}

/// Polls `query` until `ready` accepts its data.
pub(crate) async fn until(
    app: &TestApp,
    token: &str,
    query: &str,
    vars: Value,
    ready: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let got = data(app, token, query, vars.clone()).await;
        if ready(&got) {
            return got;
        }
        assert!(tokio::time::Instant::now() < deadline, "never ready: {got}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The CSV's lines (each must end with CRLF), a last field equal to
/// `median` shown as `<median>`.
fn lines(body: &str, median: f64) -> Vec<String> {
    assert!(body.ends_with("\r\n"), "{body:?}");
    body.trim_end_matches("\r\n")
        .split("\r\n")
        .map(|line| match line.rsplit_once(',') {
            Some((head, last)) if last.parse::<f64>().is_ok_and(|m| (m - median).abs() < 1e-6) => {
                format!("{head},<median>")
            }
            _ => line.to_owned(),
        })
        .collect()
}

#[sqlx::test(migrations = false)]
async fn the_sla_report_counts_met_and_missed_clocks_per_agent_and_team_for_reporting_roles(pool: sqlx::PgPool) {
    let app = spawn_app(pool).await;
    let site = Fixture::new(&app).await;
    let s = site.site.to_string();
    let ada = site.agent("Ada", Role::Admin).await;
    let ana = site.agent("Ana", Role::Agent).await;
    let analyst = site.token("Reports", Role::Analyst, None).await;
    let created = data(
        &app,
        &ada.token,
        "mutation($s: ID!) { createTeam(siteId: $s, name: \"Support, 1st line\") { id } }",
        json!({ "s": s }),
    )
    .await;
    let support = created["createTeam"]["id"].as_str().expect("team id").to_owned();
    let policies = json!([{ "name": "Fast", "firstResponseSecs": TARGET_SECS }]);
    data(
        &app,
        &ada.token,
        "mutation($s: ID!, $p: [SlaPolicyInput!]!) { defineSlaPolicies(siteId: $s, policies: $p) { policies { id } } }",
        json!({ "s": s, "p": policies }),
    )
    .await;

    // Both conversations get a clock from the engine; the reply must come
    // after it (a reply before the clock settles nothing).
    let (answered, _) = site.open_conversation("Hello?").await;
    let (ignored, _) = site.open_conversation("Anyone?").await;
    for id in [answered, ignored] {
        until(
            &app,
            &ada.token,
            "query($id: ID!) { conversation(id: $id) { slaDueAt } }",
            json!({ "id": id.to_string() }),
            |got| !got["conversation"]["slaDueAt"].is_null(),
        )
        .await;
    }
    let assign = "mutation($c: ID!, $a: ID, $t: ID) { assignConversation(conversationId: $c, agentId: $a, teamId: $t, \
                  reassign: true) { id } }";
    data(
        &app,
        &ada.token,
        assign,
        json!({ "c": answered.to_string(), "t": support }),
    )
    .await;
    data(
        &app,
        &ada.token,
        assign,
        json!({ "c": answered.to_string(), "a": ana.id.to_string() }),
    )
    .await;
    data(
        &app,
        &ana.token,
        "mutation($c: ID!) { sendMessage(conversationId: $c, body: \"Hi, how can I help?\") { __typename } }",
        json!({ "c": answered.to_string() }),
    )
    .await;
    data(
        &app,
        &ada.token,
        assign,
        json!({ "c": ignored.to_string(), "t": support }),
    )
    .await;

    let now = Utc::now();
    let time = |t: chrono::DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
    let (from, to) = (time(now - TimeDelta::hours(1)), time(now + TimeDelta::hours(1)));
    let vars = |g: &str| json!({ "s": s, "from": from, "to": to, "g": g });

    // The engine breaches the ignored clock when it falls due.
    let by_team = until(&app, &analyst, REPORT, vars("TEAM"), |got| {
        got["slaReport"][0]["missed"] == 1
    })
    .await;
    let rows = by_team["slaReport"].as_array().expect("rows");
    assert_eq!(rows.len(), 1, "{by_team}");
    let row = &rows[0];
    assert_eq!(row["teamId"], support.as_str());
    assert_eq!(row["teamName"], "Support, 1st line");
    assert_eq!(row["agentId"], Value::Null);
    assert_eq!(
        (row["target"].as_str(), row["met"].as_i64(), row["missed"].as_i64()),
        (Some("FIRST_RESPONSE"), Some(1), Some(1))
    );
    let median = row["medianSecs"].as_f64().expect("a median");
    assert!((0.0..TARGET_SECS as f64).contains(&median), "{median}");

    let by_agent = data(&app, &ada.token, REPORT, vars("AGENT")).await;
    let rows = by_agent["slaReport"].as_array().expect("rows");
    assert_eq!(rows.len(), 2, "{by_agent}");
    assert_eq!(rows[0]["agentId"], ana.id.to_string().as_str());
    assert_eq!(rows[0]["agentName"], "Ana");
    assert_eq!(
        (rows[0]["met"].as_i64(), rows[0]["missed"].as_i64()),
        (Some(1), Some(0))
    );
    assert_eq!(rows[0]["medianSecs"].as_f64(), Some(median));
    assert_eq!(rows[1]["agentId"], Value::Null, "the breach ended with no agent");
    assert_eq!(
        (rows[1]["met"].as_i64(), rows[1]["missed"].as_i64()),
        (Some(0), Some(1))
    );
    assert_eq!(rows[1]["medianSecs"], Value::Null);

    // The same as CSV, names quoted.
    let query = |g: &str| format!("siteId={s}&from={from}&to={to}&groupBy={g}");
    let (status, body) = csv(&app, Some(&analyst), &query("team")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        lines(&body, median),
        [
            "group_id,group_name,target,met,missed,median_secs".to_owned(),
            format!("{support},\"Support, 1st line\",first_response,1,1,<median>"),
        ]
    );
    let (status, body) = csv(&app, Some(&ada.token), &query("agent")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        lines(&body, median),
        [
            "group_id,group_name,target,met,missed,median_secs".to_owned(),
            format!("{},Ana,first_response,1,0,<median>", ana.id),
            ",,first_response,0,1,".to_owned(),
        ]
    );

    // Agents may not; nor may anyone for another site; the period is checked.
    let (_, denied) = post(&app, Some(&ana.token), REPORT, vars("AGENT")).await;
    assert_eq!(code(&denied), "FORBIDDEN", "{denied}");
    let other = json!({ "s": Uuid::now_v7().to_string(), "from": from, "to": to, "g": "TEAM" });
    let (_, denied) = post(&app, Some(&analyst), REPORT, other).await;
    assert_eq!(code(&denied), "FORBIDDEN", "{denied}");
    let backwards = json!({ "s": s, "from": to, "to": from, "g": "TEAM" });
    let (_, refused) = post(&app, Some(&analyst), REPORT, backwards).await;
    assert_eq!(code(&refused), "BAD_USER_INPUT", "{refused}");
    let empty = json!({ "s": s, "from": from, "to": from, "g": "TEAM" });
    let (_, refused) = post(&app, Some(&analyst), REPORT, empty).await;
    assert_eq!(code(&refused), "BAD_USER_INPUT", "{refused}");
    let long = json!({ "s": s, "from": time(now - TimeDelta::days(367)), "to": to, "g": "TEAM" });
    let (_, refused) = post(&app, Some(&analyst), REPORT, long).await;
    assert_eq!(code(&refused), "BAD_USER_INPUT", "{refused}");

    let error = |body: &str| -> String {
        let json: Value = serde_json::from_str(body).expect("a JSON error");
        json["error"]["code"].as_str().unwrap_or("<none>").to_owned()
    };
    let (status, body) = csv(&app, Some(&ana.token), &query("agent")).await;
    assert_eq!((status, error(&body).as_str()), (403, "FORBIDDEN"));
    let (status, body) = csv(&app, None, &query("agent")).await;
    assert_eq!((status, error(&body).as_str()), (401, "UNAUTHENTICATED"));
    let backwards = format!("siteId={s}&from={to}&to={from}");
    let (status, body) = csv(&app, Some(&analyst), &backwards).await;
    assert_eq!((status, error(&body).as_str()), (400, "BAD_USER_INPUT"));
    let (status, body) = csv(&app, Some(&analyst), &query("visitor")).await;
    assert_eq!((status, error(&body).as_str()), (400, "BAD_USER_INPUT"));
}
