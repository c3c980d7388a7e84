use livedesk_domain::{Metadata, NewEvent, StreamName};
use livedesk_eventstore::{EventStore, ExpectedVersion};
use serde_json::value::to_raw_value;
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::spawn_app;

#[sqlx::test(migrations = false)]
async fn healthz_answers_ok_when_the_database_does(pool: PgPool) {
    let app = spawn_app(pool).await;
    let response = app
        .http
        .get(format!("{}/healthz", app.address))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["status"], "ok");
}

#[sqlx::test(migrations = false)]
async fn healthz_answers_503_when_the_database_is_gone(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.store.pool().close().await;
    let response = app
        .http
        .get(format!("{}/healthz", app.address))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 503);
}

#[sqlx::test(migrations = false)]
async fn metrics_expose_the_event_store_counters(pool: PgPool) {
    let app = spawn_app(pool).await;
    let stream = StreamName::for_id("conversation", Uuid::now_v7()).expect("stream");
    let event = NewEvent {
        event_id: Uuid::now_v7(),
        event_type: "Tested".into(),
        schema_version: 1,
        payload: to_raw_value(&serde_json::json!({})).expect("json"),
        metadata: Metadata::default(),
    };
    app.store
        .append(&stream, ExpectedVersion::NoStream, vec![event])
        .await
        .expect("append");
    let body = app
        .http
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("body");
    assert!(body.contains("livedesk_eventstore_appends_total 1"), "{body}");
    assert!(body.contains("livedesk_eventstore_events_appended_total 1"), "{body}");
    assert!(body.contains("livedesk_eventstore_head_position"), "{body}");
    assert!(
        body.contains("livedesk_projection_position{projector=\"inbox\"}"),
        "{body}"
    );
    assert!(body.contains("livedesk_graphql_ws_connections 0"), "{body}");
}
