//! The OpenAI-compatible adapter against a local chat-completions server.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use livedesk_domain::site::{SiteProfile, SiteSettings, SlaAndRouting, TextBlock};
use livedesk_domain::{SiteId, TextBlockId};
use livedesk_widget::assistant::openai::OpenAi;
use livedesk_widget::assistant::{Question, Responder, ResponderError, Turn};
use serde_json::{Value, json};
use uuid::Uuid;

/// A request the test server received: its `Authorization` and body.
type Received = (Option<String>, Value);

#[derive(Clone, Default)]
struct Seen {
    requests: Arc<Mutex<Vec<Received>>>,
}

async fn completions(
    State((seen, reply)): State<(Seen, (StatusCode, Value))>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    seen.requests.lock().expect("lock").push((auth, body));
    (reply.0, Json(reply.1))
}

async fn server(status: StatusCode, reply: Value) -> (String, Seen) {
    let seen = Seen::default();
    let app = axum::Router::new()
        .route("/v1/chat/completions", post(completions))
        .with_state((seen.clone(), (status, reply)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{address}/v1/chat/completions"), seen)
}

fn question(text: &str) -> Question {
    let block = TextBlock {
        shortcut: "returns".into(),
        title: "Return policy".into(),
        body: "Returns within 30 days.".into(),
        removed: false,
    };
    Question {
        site: Arc::new(SiteProfile {
            id: SiteId(Uuid::now_v7()),
            name: "Shop".into(),
            allowed_origins: vec![],
            widget_key: "key-12345678".into(),
            settings: SiteSettings::default(),
            custom_fields: vec![],
            text_blocks: BTreeMap::from([(TextBlockId(Uuid::now_v7()), block)]),
            teams: BTreeMap::new(),
            api_tokens: BTreeMap::new(),
            widget_enabled: true,
            identity_secret: None,
            require_signed_identity: false,
            sla_and_routing: SlaAndRouting::default(),
        }),
        history: vec![
            Turn {
                from_visitor: true,
                text: "hi".into(),
            },
            Turn {
                from_visitor: false,
                text: "Hello! How can I help?".into(),
            },
        ],
        text: text.into(),
    }
}

fn completion(content: &str) -> Value {
    json!({ "id": "cmpl-1", "object": "chat.completion", "choices": [
        { "index": 0, "message": { "role": "assistant", "content": content }, "finish_reason": "stop" }
    ] })
}

#[tokio::test]
async fn the_adapter_sends_model_key_knowledge_and_history_and_reads_the_first_choice() {
    let (url, seen) = server(StatusCode::OK, completion("Returns are accepted within 30 days.")).await;
    let adapter = OpenAi::new(url, "test-model".into(), Some("sk-test".into())).expect("client");
    let answer = adapter.respond(&question("can I return shoes?")).await.expect("answer");
    assert_eq!(answer.body, "Returns are accepted within 30 days.");
    assert!(!answer.hand_over);
    let requests = seen.requests.lock().expect("lock").clone();
    let (auth, body) = &requests[0];
    assert_eq!(auth.as_deref(), Some("Bearer sk-test"));
    assert_eq!(body["model"], "test-model");
    let messages = body["messages"].as_array().expect("messages");
    assert_eq!(messages[0]["role"], "system");
    let system = messages[0]["content"].as_str().expect("system prompt");
    assert!(
        system.contains("Returns within 30 days.") && system.contains("Shop"),
        "{system}"
    );
    let roles: Vec<&str> = messages.iter().filter_map(|m| m["role"].as_str()).collect();
    assert_eq!(roles, ["system", "user", "assistant", "user"]);
    assert_eq!(messages[3]["content"], "can I return shoes?");
}

#[tokio::test]
async fn a_reply_ending_with_the_marker_hands_over_without_showing_it() {
    let (url, _) = server(StatusCode::OK, completion("I don't know that, sorry. [HUMAN]")).await;
    let adapter = OpenAi::new(url, "m".into(), None).expect("client");
    let answer = adapter.respond(&question("gift cards?")).await.expect("answer");
    assert_eq!(answer.body, "I don't know that, sorry.");
    assert!(answer.hand_over);
}

#[tokio::test]
async fn error_statuses_and_unreadable_answers_are_errors() {
    let (url, _) = server(
        StatusCode::TOO_MANY_REQUESTS,
        json!({ "error": { "message": "slow down" } }),
    )
    .await;
    let adapter = OpenAi::new(url, "m".into(), None).expect("client");
    assert!(matches!(
        adapter.respond(&question("x")).await,
        Err(ResponderError::Status(429))
    ));
    let (url, _) = server(StatusCode::OK, json!({ "choices": [] })).await;
    let adapter = OpenAi::new(url, "m".into(), None).expect("client");
    assert!(matches!(
        adapter.respond(&question("x")).await,
        Err(ResponderError::Malformed(_))
    ));
    let adapter = OpenAi::new("http://127.0.0.1:9/v1/chat/completions".into(), "m".into(), None).expect("client");
    assert!(matches!(
        adapter.respond(&question("x")).await,
        Err(ResponderError::Unreachable(_))
    ));
}
