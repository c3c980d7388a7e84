//! The session lifecycle: start, pages, visibility, leave, the leave
//! timeout, keep session, the maximum duration.

use serde_json::json;
use sqlx::PgPool;

use super::{Tab, end_reason, eventually, set_settings};
use crate::fixtures::Fixture;
use crate::helpers::spawn_app;

async fn live_row(app: &crate::helpers::TestApp, session: uuid::Uuid) -> Option<(String, String, String, String)> {
    sqlx::query_as("SELECT status, current_path, browser, device FROM live_sessions WHERE session_id = $1")
        .bind(session)
        .fetch_optional(app.store.pool())
        .await
        .expect("live row")
}

#[sqlx::test(migrations = false)]
async fn a_session_starts_views_pages_goes_idle_and_active_and_ends_when_the_tab_leaves(pool: PgPool) {
    let app = spawn_app(pool).await;
    let site = Fixture::new(&app).await;
    let tab = Tab::start(&app, &site).await;
    assert_eq!(tab.answer["outcome"], "started");
    assert_eq!(tab.answer["visitorIdStorage"], "local");
    assert_eq!(tab.answer["handledBy"]["type"], "assistant");
    site.settle().await;
    let row = live_row(&app, tab.session).await.expect("a Live View row");
    assert_eq!(
        row,
        (
            "active".into(),
            "/pricing".into(),
            "Firefox 131".into(),
            "desktop".into()
        )
    );

    let (status, body) = tab
        .post(&app, "page", json!({ "path": "/checkout", "title": "Pay" }))
        .await;
    assert_eq!((status, body["renewed"].is_null()), (200, true), "{body}");
    let (status, _) = tab.post(&app, "visibility", json!({ "state": "idle" })).await;
    assert_eq!(status, 200);
    site.settle().await;
    let row = live_row(&app, tab.session).await.expect("still live");
    assert_eq!((row.0.as_str(), row.1.as_str()), ("idle", "/checkout"));
    tab.post(&app, "visibility", json!({ "state": "active" })).await;
    site.settle().await;
    assert_eq!(live_row(&app, tab.session).await.expect("live").0, "active");

    // What navigator.sendBeacon sends: text/plain carrying JSON.
    let response = app
        .http
        .post(format!("{}/widget/v1/leave", app.address))
        .header("content-type", "text/plain;charset=UTF-8")
        .body(json!({ "token": tab.token }).to_string())
        .send()
        .await
        .expect("beacon");
    assert_eq!(response.status().as_u16(), 200);
    site.settle().await;
    assert_eq!(
        live_row(&app, tab.session).await,
        None,
        "the row goes when the tab leaves"
    );
    assert_eq!(end_reason(&app, tab.session).await.as_deref(), Some("closed"));
}

#[sqlx::test(migrations = false)]
async fn a_silent_tab_ends_after_the_leave_timeout_while_an_open_websocket_keeps_its_session(pool: PgPool) {
    let app = spawn_app(pool).await;
    let site = Fixture::new(&app).await;
    set_settings(&site, |s| s.leave_timeout_secs = 1).await;
    let watched = Tab::start(&app, &site).await;
    let socket = watched.connect(&app).await;
    let silent = Tab::start(&app, &site).await;

    let reason = eventually("the silent session to end", || async {
        end_reason(&app, silent.session).await
    })
    .await;
    assert_eq!(reason, "timed_out");
    // Several more leave timeouts' worth of sweeps: the socket's session
    // lives on.
    let sweeps = app.widget.stats().sweeps.load(std::sync::atomic::Ordering::Relaxed);
    eventually("thirty more sweeps", || async {
        (app.widget.stats().sweeps.load(std::sync::atomic::Ordering::Relaxed) > sweeps + 30).then_some(())
    })
    .await;
    assert_eq!(
        end_reason(&app, watched.session).await,
        None,
        "an open socket keeps the session"
    );
    site.settle().await;
    assert!(live_row(&app, watched.session).await.is_some());
    assert!(live_row(&app, silent.session).await.is_none());

    socket.close().await;
    let reason = eventually("the closed socket's session to end", || async {
        end_reason(&app, watched.session).await
    })
    .await;
    assert_eq!(reason, "timed_out");
}

#[sqlx::test(migrations = false)]
async fn a_new_tab_gets_its_own_session_unless_the_site_keeps_sessions_across_tabs(pool: PgPool) {
    let app = spawn_app(pool).await;
    let site = Fixture::new(&app).await;
    let first = Tab::start_with(&app, &site, "tab-1", json!({})).await;
    let again = Tab::start_with(&app, &site, "tab-1", json!({ "token": first.token, "path": "/about" })).await;
    assert_eq!(
        (again.session, again.answer["outcome"].as_str()),
        (first.session, Some("resumed"))
    );
    let other = Tab::start_with(&app, &site, "tab-2", json!({ "token": first.token })).await;
    assert_ne!(other.session, first.session, "one session per tab by default");
    assert_eq!(other.visitor, first.visitor, "the same visitor");

    set_settings(&site, |s| s.keep_session_across_tabs = true).await;
    let joined = eventually("the setting to reach the widget", || async {
        let tab = Tab::start_with(&app, &site, "tab-3", json!({ "token": first.token })).await;
        (tab.answer["outcome"] == "joined").then_some(tab)
    })
    .await;
    assert_eq!(joined.session, first.session, "a new tab joins the open session");
    assert_eq!(joined.answer["keepSessionAcrossTabs"], true);
    let types: Vec<String> = super::events_of(&app, &format!("session-{}", first.session))
        .await
        .into_iter()
        .map(|(t, _)| t)
        .collect();
    assert!(types.contains(&"SessionTabJoined".to_owned()), "{types:?}");

    // Leaving one of two tabs keeps the session for the other.
    let (status, _) = joined.post(&app, "leave", json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(end_reason(&app, first.session).await, None);
    first.post(&app, "leave", json!({})).await;
    assert_eq!(end_reason(&app, first.session).await.as_deref(), Some("closed"));
}

#[sqlx::test(migrations = false)]
async fn the_next_activity_after_the_maximum_duration_starts_a_new_session(pool: PgPool) {
    let app = spawn_app(pool).await;
    let site = Fixture::new(&app).await;
    set_settings(&site, |s| s.max_session_duration_secs = 1).await;
    let tab = Tab::start(&app, &site).await;
    let renewed = eventually("a heartbeat to renew the session", || async {
        let (status, body) = tab.post(&app, "heartbeat", json!({})).await;
        assert_eq!(status, 200, "{body}");
        (!body["renewed"].is_null()).then(|| body["renewed"].clone())
    })
    .await;
    let new_session = renewed["sessionId"].as_str().expect("session id");
    assert_ne!(new_session, tab.session.to_string());
    assert_eq!(renewed["visitorId"], tab.visitor.to_string(), "the same visitor");
    assert_eq!(
        end_reason(&app, tab.session).await.as_deref(),
        Some("max_duration_reached")
    );
    let new_token = renewed["token"].as_str().expect("token");
    let (status, body) = super::post(&app, "heartbeat", Some(new_token), json!({})).await;
    assert_eq!(status, 200, "{body}");
}
