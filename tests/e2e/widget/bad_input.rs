//! Bad input: a JSON error with a stable code each time, and nothing
//! appended.

use chrono::{TimeDelta, Utc};
use livedesk::config::{WidgetArgs, WsConfig};
use livedesk_domain::site::SiteCommand;
use livedesk_widget::token::{Claims, TokenSigner};
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use super::{Tab, eventually, post};
use crate::fixtures::{Fixture, event_count};
use crate::helpers::{TOKEN_SECRET, TestApp, spawn_app_configured, widget_args};

async fn raw(app: &TestApp, path: &str, content_type: &str, body: Vec<u8>, token: Option<&str>) -> (u16, Value) {
    let mut request = app
        .http
        .post(format!("{}/widget/v1/{path}", app.address))
        .header("content-type", content_type)
        .body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("<none>")
}

#[sqlx::test(migrations = false)]
async fn every_bad_request_gets_a_coded_json_error_and_appends_nothing(pool: PgPool) {
    // No assistant: its replies would be appended while we count.
    let widget = WidgetArgs {
        assistant: "off".into(),
        ..widget_args()
    };
    let app = spawn_app_configured(pool, WsConfig::default(), widget).await;
    let site = Fixture::new(&app).await;
    let tab = Tab::start(&app, &site).await;
    tab.say(&app, "my own conversation").await;
    let other = Tab::start(&app, &site).await;
    other.say(&app, "someone else's").await;
    site.settle().await;

    let signer = TokenSigner::new(TOKEN_SECRET.as_bytes().to_vec());
    let claims = |expires: chrono::DateTime<Utc>| Claims {
        site_id: site.site,
        visitor_id: tab.visitor,
        session_id: tab.session,
        tab_id: "tab".into(),
        expires: expires.timestamp(),
    };
    let expired = signer.sign(&claims(Utc::now() - TimeDelta::minutes(1)));
    let forged = TokenSigner::new(b"not the server's secret".to_vec()).sign(&claims(Utc::now() + TimeDelta::hours(1)));
    let mut altered = tab.token.clone();
    altered.insert(10, 'x');
    let start = |key: &str| {
        json!({ "widgetKey": key, "tabId": "t", "path": "/" })
            .to_string()
            .into_bytes()
    };

    let before = event_count(&app).await;
    let cases: Vec<(&str, (u16, Value), u16, &str)> = vec![
        (
            "malformed JSON",
            raw(&app, "sessions", "application/json", b"{\"widgetKey\":".to_vec(), None).await,
            400,
            "malformed_json",
        ),
        (
            "wrong shape",
            raw(
                &app,
                "sessions",
                "application/json",
                b"{\"widgetKey\": 7}".to_vec(),
                None,
            )
            .await,
            400,
            "invalid_input",
        ),
        (
            "oversized body",
            raw(
                &app,
                "messages",
                "application/json",
                vec![b' '; 70_000],
                Some(&tab.token),
            )
            .await,
            413,
            "body_too_large",
        ),
        (
            "form body",
            raw(
                &app,
                "sessions",
                "application/x-www-form-urlencoded",
                b"a=b".to_vec(),
                None,
            )
            .await,
            415,
            "unsupported_media_type",
        ),
        (
            "unknown site key",
            raw(&app, "sessions", "application/json", start("no-such-key-123"), None).await,
            404,
            "unknown_site",
        ),
        (
            "no token",
            post(&app, "heartbeat", None, json!({})).await,
            401,
            "missing_token",
        ),
        (
            "altered token",
            post(&app, "messages", Some(&altered), json!({ "body": "hi" })).await,
            401,
            "invalid_token",
        ),
        (
            "forged token",
            post(&app, "messages", Some(&forged), json!({ "body": "hi" })).await,
            401,
            "invalid_token",
        ),
        (
            "expired token",
            post(&app, "messages", Some(&expired), json!({ "body": "hi" })).await,
            401,
            "token_expired",
        ),
        (
            "another visitor's conversation",
            tab.post(
                &app,
                "messages",
                json!({ "body": "hi", "conversationId": other.conversation }),
            )
            .await,
            403,
            "conversation_forbidden",
        ),
        (
            "empty message",
            tab.post(&app, "messages", json!({ "body": "  " })).await,
            400,
            "invalid_input",
        ),
        (
            "message over the site's limit",
            tab.post(&app, "messages", json!({ "body": "x".repeat(10_001) })).await,
            400,
            "invalid_input",
        ),
        (
            "unknown visibility",
            tab.post(&app, "visibility", json!({ "state": "asleep" })).await,
            400,
            "invalid_input",
        ),
        (
            "empty path",
            tab.post(&app, "page", json!({ "path": "" })).await,
            400,
            "invalid_input",
        ),
        (
            "unknown connection request",
            tab.post(
                &app,
                &format!("connection-requests/{}", Uuid::now_v7()),
                json!({ "answer": "accept" }),
            )
            .await,
            404,
            "not_found",
        ),
    ];
    for (case, (status, body), want_status, want_code) in cases {
        assert_eq!((status, code(&body)), (want_status, want_code), "{case}: {body}");
        assert!(
            body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{case}: {body}"
        );
    }
    assert_eq!(event_count(&app).await, before, "nothing appended");

    site.site_command(SiteCommand::DisableWidget { at: Utc::now() }).await;
    let before = event_count(&app).await;
    let (status, body) = eventually("the widget to be disabled", || async {
        let answer = raw(&app, "sessions", "application/json", start(&site.widget_key()), None).await;
        (code(&answer.1) == "site_disabled").then_some(answer)
    })
    .await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = tab.post(&app, "messages", json!({ "body": "still there?" })).await;
    assert_eq!((status, code(&body)), (403, "site_disabled"), "{body}");
    assert_eq!(event_count(&app).await, before, "nothing appended");
}

#[sqlx::test(migrations = false)]
async fn a_flood_from_one_address_gets_429_with_retry_after_and_appends_nothing(pool: PgPool) {
    let widget = WidgetArgs {
        rate_burst: 5,
        rate_per_sec: 0.01,
        ..widget_args()
    };
    let app = spawn_app_configured(pool, WsConfig::default(), widget).await;
    let site = Fixture::new(&app).await;
    let body = json!({ "widgetKey": site.widget_key(), "tabId": "t", "path": "/" });
    for _ in 0..5 {
        let (status, answer) = post(&app, "sessions", None, body.clone()).await;
        assert_eq!(status, 200, "{answer}");
    }
    let before = event_count(&app).await;
    for _ in 0..5 {
        let response = app
            .http
            .post(format!("{}/widget/v1/sessions", app.address))
            .json(&body)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status().as_u16(), 429);
        let retry_after: u64 = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .expect("Retry-After seconds");
        assert!(retry_after >= 1);
        let answer: Value = response.json().await.expect("json");
        assert_eq!(code(&answer), "rate_limited", "{answer}");
    }
    assert_eq!(event_count(&app).await, before, "nothing appended");
}
