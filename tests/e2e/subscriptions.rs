//! GraphQL over WebSocket (graphql-transport-ws) and what subscriptions
//! push.

use livedesk::config::WsConfig;
use livedesk_domain::Role;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::fixtures::{Fixture, Received, WsClient, data};
use crate::helpers::{spawn_app, spawn_app_with};

const EVENTS: &str = "subscription($id: ID!) { conversationEvents(conversationId: $id) { snapshot \
    conversation { messageCount lastMessagePreview status } messages { body author { type } } } }";

fn bodies(update: &Value) -> Vec<String> {
    update["payload"]["data"]["conversationEvents"]["messages"]
        .as_array()
        .map(|m| m.iter().filter_map(|m| m["body"].as_str().map(String::from)).collect())
        .unwrap_or_default()
}

#[sqlx::test(migrations = false)]
async fn a_subscriber_that_reconnects_sees_the_current_state_and_every_change_after(pool: PgPool) {
    let app = spawn_app(pool).await;
    let site = Fixture::new(&app).await;
    let ana = site.agent("Ana", Role::Agent).await;
    let (conversation, visitor) = site.open_conversation("one").await;
    let variables = json!({ "id": conversation.to_string() });

    let mut ws = WsClient::authenticated(&app, &ana.token).await;
    ws.subscribe("events", EVENTS, variables.clone()).await;
    let snapshot = ws.message().await;
    assert_eq!(snapshot["type"], "next");
    assert_eq!(snapshot["payload"]["data"]["conversationEvents"]["snapshot"], true);
    assert_eq!(bodies(&snapshot), ["one"]);

    site.visitor_says(conversation, visitor, "two").await;
    let update = ws.message().await;
    assert_eq!(bodies(&update), ["two"], "{update}");
    let row = &update["payload"]["data"]["conversationEvents"]["conversation"];
    assert_eq!(row["messageCount"], 2, "the pushed row already includes the change");
    assert_eq!(row["lastMessagePreview"], "two");
    ws.close().await;

    site.visitor_says(conversation, visitor, "three").await;
    data(
        &app,
        &ana.token,
        "mutation($id: ID!) { sendMessage(conversationId: $id, body: \"four\") { message { id } } }",
        variables.clone(),
    )
    .await;

    let mut ws = WsClient::authenticated(&app, &ana.token).await;
    ws.subscribe("events", EVENTS, variables.clone()).await;
    let snapshot = ws.message().await;
    assert_eq!(bodies(&snapshot), ["one", "two", "three", "four"]);
    let row = &snapshot["payload"]["data"]["conversationEvents"]["conversation"];
    assert_eq!(row["status"], "UNRESOLVED");
    for text in ["five", "six", "seven"] {
        site.visitor_says(conversation, visitor, text).await;
    }
    let mut seen = Vec::new();
    while seen.len() < 3 {
        let update = ws.message().await;
        assert_eq!(update["payload"]["data"]["conversationEvents"]["snapshot"], false);
        seen.extend(bodies(&update));
    }
    assert_eq!(seen, ["five", "six", "seven"], "every change, once, in order");
}

#[sqlx::test(migrations = false)]
async fn the_inbox_and_the_live_view_push_rows_as_they_change(pool: PgPool) {
    let app = spawn_app(pool).await;
    let site = Fixture::new(&app).await;
    let ana = site.agent("Ana", Role::Agent).await;
    let mut ws = WsClient::authenticated(&app, &ana.token).await;
    let site_id = site.site.to_string();
    ws.subscribe(
        "inbox",
        "subscription($s: ID!) { conversationsChanged(siteId: $s) { snapshot upserted { id status } removed } }",
        json!({ "s": site_id }),
    )
    .await;
    let snapshot = ws.message().await;
    assert_eq!(snapshot["payload"]["data"]["conversationsChanged"]["snapshot"], true);
    let (conversation, _) = site.open_conversation("hello").await;
    let update = ws.message().await;
    assert_eq!(
        update["payload"]["data"]["conversationsChanged"]["upserted"][0]["id"],
        conversation.to_string()
    );
    data(
        &app,
        &ana.token,
        "mutation($id: ID!) { setConversationStatus(conversationId: $id, status: DONE) { id } }",
        json!({ "id": conversation.to_string() }),
    )
    .await;
    // The visitor's first message may have come in a batch of its own.
    let mut removed = Value::Null;
    for _ in 0..3 {
        let update = ws.message().await;
        removed = update["payload"]["data"]["conversationsChanged"]["removed"][0].clone();
        if !removed.is_null() {
            break;
        }
    }
    assert_eq!(
        removed,
        conversation.to_string(),
        "a Done conversation leaves the Unread list"
    );

    ws.subscribe(
        "live",
        "subscription($s: ID!) { liveSessionsChanged(siteId: $s) { snapshot onlineCount upserted { id code device } } }",
        json!({ "s": site_id }),
    )
    .await;
    let live = ws.message().await;
    assert_eq!(live["id"], "live");
    assert_eq!(live["payload"]["data"]["liveSessionsChanged"]["onlineCount"], 0);
    site.start_session("7K3QXM").await;
    let mut online = 0;
    while online == 0 {
        let update = ws.message().await;
        online = update["payload"]["data"]["liveSessionsChanged"]["onlineCount"]
            .as_i64()
            .unwrap_or_default();
    }
    assert_eq!(online, 1);
}

fn short(ws: WsConfig) -> WsConfig {
    WsConfig {
        init_timeout_ms: 300,
        ping_interval_ms: 200,
        ..ws
    }
}

#[sqlx::test(migrations = false)]
async fn the_protocol_closes_with_the_codes_graphql_transport_ws_defines(pool: PgPool) {
    let ws_config = short(WsConfig {
        max_subscriptions: 2,
        ..WsConfig::default()
    });
    let app = spawn_app_with(pool, ws_config).await;
    let site = Fixture::new(&app).await;
    let ana = site.agent("Ana", Role::Agent).await;
    let me = "subscription($s: ID!) { liveSessionsChanged(siteId: $s) { onlineCount } }";
    let vars = json!({ "s": site.site.to_string() });

    let mut silent = WsClient::connect(&app).await;
    assert_eq!(silent.close_code().await, Some(4408), "no connection_init in time");

    let mut early = WsClient::connect(&app).await;
    early.subscribe("1", me, vars.clone()).await;
    assert_eq!(early.close_code().await, Some(4401), "subscribe before the ack");

    let mut forged = WsClient::connect(&app).await;
    forged.init("ldk_forged").await;
    assert_eq!(forged.close_code().await, Some(4403), "init rejected");

    let mut twice = WsClient::authenticated(&app, &ana.token).await;
    twice.init(&ana.token).await;
    assert_eq!(twice.close_code().await, Some(4429), "a second connection_init");

    let mut garbage = WsClient::authenticated(&app, &ana.token).await;
    garbage.send(json!({ "type": "nonsense" })).await;
    assert_eq!(garbage.close_code().await, Some(4400));

    let mut ws = WsClient::authenticated(&app, &ana.token).await;
    ws.subscribe("a", me, vars.clone()).await;
    ws.subscribe("b", me, vars.clone()).await;
    ws.subscribe("c", me, vars.clone()).await;
    let mut capped = None;
    for _ in 0..3 {
        let message = ws.message().await;
        if message["type"] == "error" {
            capped = Some(message);
        }
    }
    let capped = capped.expect("the third subscription is refused");
    assert_eq!(capped["id"], "c");
    assert_eq!(capped["payload"][0]["extensions"]["code"], "RATE_LIMITED");
    // The server handles a connection's messages in order: "a" is gone
    // before "c" arrives.
    ws.send(json!({ "type": "complete", "id": "a" })).await;
    ws.subscribe("c", me, vars.clone()).await;
    let accepted = ws.message().await;
    assert_eq!(
        (accepted["type"].clone(), accepted["id"].clone()),
        (json!("next"), json!("c"))
    );
    ws.subscribe("b", me, vars.clone()).await;
    assert_eq!(ws.close_code().await, Some(4409), "a duplicate subscription id");

    let mut pinged = WsClient::authenticated(&app, &ana.token).await;
    pinged.send(json!({ "type": "ping" })).await;
    match pinged.receive().await {
        Received::Message(m) => assert_eq!(m["type"], "pong"),
        Received::Closed(code) => panic!("closed {code:?}"),
    }
    pinged.close().await;
}

#[sqlx::test(migrations = false)]
async fn the_server_pings_and_drops_a_client_that_never_answers(pool: PgPool) {
    let app = spawn_app_with(pool, short(WsConfig::default())).await;
    let site = Fixture::new(&app).await;
    let ana = site.agent("Ana", Role::Agent).await;
    let mut ws = WsClient::authenticated(&app, &ana.token).await;
    let raw = ws.raw_until_close().await;
    assert!(raw.0.iter().any(|m| m["type"] == "ping"), "the server pinged: {raw:?}");
    assert_eq!(raw.1, Some(4504), "closed for no pong");
}
