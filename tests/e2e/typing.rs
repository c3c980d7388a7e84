//! Typing presence both ways: the visitor's widget → an agent's `typing`
//! subscription, an agent's `setTyping` → the visitor's widget socket;
//! refused signals reach nobody; typing crosses server processes on one
//! database; nothing is written to the log.

use std::time::Duration;

use livedesk_domain::Role;
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use crate::fixtures::{Fixture, Person, WsClient, code, post};
use crate::helpers::{TestApp, spawn_app};
use crate::widget::{Tab, WidgetSocket};

const TYPING: &str =
    "subscription($id: ID!) { typing(conversationId: $id) { conversationId who agentId agentName typing at } }";
const SET_TYPING: &str = "mutation($id: ID!, $typing: Boolean!) { setTyping(conversationId: $id, typing: $typing) }";

/// A visitor who has written (so their conversation exists), an agent of
/// the site, and the agent's `typing` subscription on the conversation.
struct Scene {
    site: Fixture,
    tab: Tab,
    ana: Person,
}

async fn scene(app: &TestApp) -> Scene {
    let site = Fixture::new(app).await;
    let ana = site.agent("Ana", Role::Agent).await;
    let tab = Tab::start(app, &site).await;
    tab.say(app, "Hello, is anyone there?").await;
    site.settle().await;
    Scene { site, tab, ana }
}

async fn subscribe(app: &TestApp, token: &str, conversation: Uuid) -> WsClient {
    let mut ws = WsClient::authenticated(app, token).await;
    ws.subscribe("t", TYPING, json!({ "id": conversation })).await;
    ws
}

/// Repeats `$signal` (as a client repeats "still typing") until
/// `$receive` gets something within 300 ms: the first signal may go out
/// before a subscription or a fresh server's listener is in place.
macro_rules! until_received {
    ($signal:expr, $receive:expr) => {{
        let mut received = None;
        for _ in 0..50 {
            $signal.await;
            if let Ok(value) = tokio::time::timeout(Duration::from_millis(300), $receive).await {
                received = Some(value);
                break;
            }
        }
        received.expect("something received within 50 signals")
    }};
}

async fn visitor_typing(app: &TestApp, tab: &Tab, typing: bool) {
    let (status, answer) = tab.post(app, "typing", json!({ "typing": typing })).await;
    assert_eq!(status, 200, "{answer}");
}

async fn set_typing(app: &TestApp, token: &str, conversation: Uuid, typing: bool) {
    let (status, body) = post(
        app,
        Some(token),
        SET_TYPING,
        json!({ "id": conversation, "typing": typing }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["setTyping"], true, "{body}");
}

/// Events whose type speaks of typing (the assistant may still be
/// appending its answer, so the log's length proves nothing).
async fn typing_events(app: &TestApp) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE event_type ILIKE '%typing%' OR payload::text ILIKE '%typing%'",
    )
    .fetch_one(app.store.pool())
    .await
    .expect("count events")
}

fn push(message: &Value) -> &Value {
    assert_eq!(message["type"], "next", "{message}");
    &message["payload"]["data"]["typing"]
}

async fn typing_frame(socket: &mut WidgetSocket) -> Value {
    socket.until("typing").await.0
}

#[sqlx::test(migrations = false)]
async fn the_visitors_typing_reaches_an_agents_typing_subscription_and_is_not_an_event(pool: PgPool) {
    let app = spawn_app(pool).await;
    let Scene { tab, ana, .. } = scene(&app).await;
    let mut ws = subscribe(&app, &ana.token, tab.conversation).await;

    let started = until_received!(visitor_typing(&app, &tab, true), ws.message());
    let started = push(&started);
    assert_eq!(started["conversationId"], tab.conversation.to_string());
    assert_eq!(started["who"], "VISITOR");
    assert_eq!(started["typing"], true);
    assert_eq!(started["agentName"], Value::Null);
    // Drain repeats of the start, then the stop arrives.
    visitor_typing(&app, &tab, false).await;
    loop {
        let next = ws.message().await;
        if push(&next)["typing"] == false {
            break;
        }
    }
    assert_eq!(typing_events(&app).await, 0, "typing is not written to the log");
}

#[sqlx::test(migrations = false)]
async fn an_agents_set_typing_reaches_the_visitors_widget_socket_with_their_name(pool: PgPool) {
    let app = spawn_app(pool).await;
    let Scene { tab, ana, .. } = scene(&app).await;
    let mut socket = tab.connect(&app).await;

    let frame = until_received!(
        set_typing(&app, &ana.token, tab.conversation, true),
        typing_frame(&mut socket)
    );
    assert_eq!(frame["conversationId"], tab.conversation.to_string());
    assert_eq!(frame["typing"], true);
    assert_eq!(frame["agent"]["name"], "Ana");
    assert_eq!(frame["agent"]["label"], "Live agent · Ana");
    set_typing(&app, &ana.token, tab.conversation, false).await;
    loop {
        if typing_frame(&mut socket).await["typing"] == false {
            break;
        }
    }
    assert_eq!(typing_events(&app).await, 0, "typing is not written to the log");
}

#[sqlx::test(migrations = false)]
async fn refused_typing_signals_are_coded_and_reach_nobody(pool: PgPool) {
    let app = spawn_app(pool).await;
    let Scene { site, tab, ana } = scene(&app).await;
    let analyst = site.agent("Ivo", Role::Analyst).await;
    let elsewhere = Fixture::new(&app).await;
    let mallory = elsewhere.agent("Mallory", Role::Admin).await;
    let stranger = Tab::start(&app, &elsewhere).await;
    stranger.say(&app, "My own chat").await;
    let neighbour = Tab::start(&app, &site).await;
    neighbour.say(&app, "Another visitor").await;
    site.settle().await;
    elsewhere.settle().await;

    // Both listeners are live before anything is refused.
    let mut ws = subscribe(&app, &ana.token, tab.conversation).await;
    until_received!(visitor_typing(&app, &tab, true), ws.message());
    let mut socket = tab.connect(&app).await;
    until_received!(
        set_typing(&app, &ana.token, tab.conversation, true),
        typing_frame(&mut socket)
    );
    // Let repeats already sent arrive, then forget them.
    tokio::time::sleep(Duration::from_millis(500)).await;
    while tokio::time::timeout(Duration::from_millis(200), ws.message())
        .await
        .is_ok()
    {}
    while tokio::time::timeout(Duration::from_millis(200), typing_frame(&mut socket))
        .await
        .is_ok()
    {}

    let conversation = json!({ "id": tab.conversation, "typing": true });
    let refused = [
        (Some(mallory.token.as_str()), conversation.clone(), "FORBIDDEN"),
        (Some(analyst.token.as_str()), conversation.clone(), "FORBIDDEN"),
        (None, conversation.clone(), "UNAUTHENTICATED"),
        (
            Some(ana.token.as_str()),
            json!({ "id": Uuid::now_v7(), "typing": true }),
            "NOT_FOUND",
        ),
        (
            Some(ana.token.as_str()),
            json!({ "id": "nope", "typing": true }),
            "BAD_USER_INPUT",
        ),
    ];
    for (token, variables, expected) in refused {
        let (_, body) = post(&app, token, SET_TYPING, variables).await;
        assert_eq!(code(&body), expected, "{body}");
    }
    let widget_refused = [
        (
            Some(stranger.token.as_str()),
            json!({ "typing": true, "conversationId": tab.conversation }),
            403,
            "conversation_forbidden",
        ),
        (
            Some(neighbour.token.as_str()),
            json!({ "typing": true, "conversationId": tab.conversation }),
            403,
            "conversation_forbidden",
        ),
        (
            Some(tab.token.as_str()),
            json!({ "typing": true, "conversationId": Uuid::now_v7() }),
            404,
            "not_found",
        ),
        (
            Some(tab.token.as_str()),
            json!({ "typing": "yes" }),
            400,
            "invalid_input",
        ),
        (
            Some(tab.token.as_str()),
            json!({ "typing": true, "extra": 1 }),
            400,
            "invalid_input",
        ),
        (None, json!({ "typing": true }), 401, "missing_token"),
        (Some("not-a-token"), json!({ "typing": true }), 401, "invalid_token"),
    ];
    for (token, body, status, expected) in widget_refused {
        let (got, answer) = crate::widget::post(&app, "typing", token, body).await;
        assert_eq!(
            (got, answer["error"]["code"].as_str()),
            (status, Some(expected)),
            "{answer}"
        );
    }
    // A visitor who has not written yet has no conversation to type in.
    let silent = Tab::start(&app, &site).await;
    let (status, answer) = silent.post(&app, "typing", json!({ "typing": true })).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (404, Some("not_found")),
        "{answer}"
    );

    // The next pushes are the allowed ones: nothing refused went out.
    set_typing(&app, &ana.token, tab.conversation, false).await;
    let next = ws.message().await;
    assert_eq!(push(&next)["who"], "AGENT", "{next}");
    assert_eq!(push(&next)["agentName"], "Ana", "{next}");
    assert_eq!(push(&next)["typing"], false, "{next}");
    let frame = typing_frame(&mut socket).await;
    assert_eq!(
        (frame["agent"]["name"].as_str(), &frame["typing"]),
        (Some("Ana"), &json!(false)),
        "{frame}"
    );

    // Subscribing is authorised like `conversationEvents`.
    let mut outsider = WsClient::authenticated(&app, &mallory.token).await;
    outsider.subscribe("x", TYPING, json!({ "id": tab.conversation })).await;
    let error = outsider.message().await;
    assert_eq!(
        error["payload"]["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{error}"
    );
    assert_eq!(outsider.message().await["type"], "complete");
    outsider.subscribe("y", TYPING, json!({ "id": Uuid::now_v7() })).await;
    let error = outsider.message().await;
    assert_eq!(
        error["payload"]["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{error}"
    );
}

#[sqlx::test(migrations = false)]
async fn typing_crosses_server_processes_on_one_database(pool: PgPool) {
    let first = spawn_app(pool.clone()).await;
    let second = spawn_app(pool).await;
    let Scene { tab, ana, .. } = scene(&first).await;
    // The agent's console is on the second process, the visitor on the first.
    let mut ws = subscribe(&second, &ana.token, tab.conversation).await;
    let mut socket = tab.connect(&first).await;

    let pushed = until_received!(visitor_typing(&first, &tab, true), ws.message());
    assert_eq!(push(&pushed)["who"], "VISITOR", "{pushed}");
    let frame = until_received!(
        set_typing(&second, &ana.token, tab.conversation, true),
        typing_frame(&mut socket)
    );
    assert_eq!(frame["agent"]["name"], "Ana", "{frame}");
}
