//! Bad input gets BAD_USER_INPUT (or the GraphQL-over-HTTP 4xx) and
//! appends nothing.

use livedesk_domain::Role;
use serde_json::json;
use sqlx::PgPool;

use crate::fixtures::{Fixture, code, event_count, post};
use crate::helpers::spawn_app;

#[sqlx::test(migrations = false)]
async fn malformed_ids_oversized_inputs_unknown_enums_and_deep_queries_are_refused_and_append_nothing(pool: PgPool) {
    let app = spawn_app(pool).await;
    let site = Fixture::new(&app).await;
    let ana = site.agent("Ana", Role::Supervisor).await;
    let (conversation, _) = site.open_conversation("hi").await;
    let id = conversation.to_string();
    let before = event_count(&app).await;
    let token = Some(ana.token.as_str());

    let cases = [
        (
            "malformed id",
            "mutation { assignToMe(conversationId: \"not-a-uuid\") { id } }",
            json!({}),
            200,
        ),
        (
            "malformed id in a query",
            "{ conversation(id: \"42\") { id } }",
            json!({}),
            200,
        ),
        (
            "malformed site id",
            "{ liveSessions(siteId: \"x\") { onlineCount } }",
            json!({}),
            200,
        ),
        (
            "body over the site's limit",
            "mutation($id: ID!, $b: String!) { sendMessage(conversationId: $id, body: $b) { message { id } } }",
            json!({ "id": id, "b": "x".repeat(10_001) }),
            200,
        ),
        (
            "empty message",
            "mutation($id: ID!) { sendMessage(conversationId: $id, body: \"  \") { message { id } } }",
            json!({ "id": id }),
            200,
        ),
        (
            "too many attachments",
            "mutation($id: ID!, $a: [AttachmentInput!]!) { sendMessage(conversationId: $id, body: \"x\", attachments: $a) { message { id } } }",
            json!({ "id": id, "a": vec![json!({"kind": "FILE", "reference": "r"}); 11] }),
            200,
        ),
        (
            "oversized search",
            "query($s: ID!, $q: String) { conversations(siteId: $s, search: $q) { edges { cursor } } }",
            json!({ "s": site.site.to_string(), "q": "y".repeat(257) }),
            200,
        ),
        (
            "page too large",
            "query($s: ID!) { conversations(siteId: $s, first: 1000) { edges { cursor } } }",
            json!({ "s": site.site.to_string() }),
            200,
        ),
        (
            "foreign cursor",
            "query($s: ID!) { conversations(siteId: $s, after: \"bm9wZQ\") { edges { cursor } } }",
            json!({ "s": site.site.to_string() }),
            200,
        ),
        (
            "unknown enum literal",
            "mutation($id: ID!) { setConversationStatus(conversationId: $id, status: PENDING) { id } }",
            json!({ "id": id }),
            400,
        ),
        (
            "unknown enum in a variable",
            "mutation($id: ID!, $s: ConversationStatus!) { setConversationStatus(conversationId: $id, status: $s) { id } }",
            json!({ "id": id, "s": "PENDING" }),
            400,
        ),
        (
            "over-deep query",
            "query($id: ID!) { conversation(id: $id) { visitor { conversations { edges { node { visitor { \
               conversations { edges { node { visitor { conversations { edges { node { id } } } } } } } } } } } } } }",
            json!({ "id": id }),
            400,
        ),
        ("unparsable document", "mutation { assignToMe(", json!({}), 400),
    ];
    for (what, query, variables, status) in cases {
        let (got, body) = post(&app, token, query, variables).await;
        assert_eq!(got, status, "{what}: {body}");
        assert_eq!(code(&body), "BAD_USER_INPUT", "{what}: {body}");
        if status == 400 {
            assert!(
                body.get("data").is_none(),
                "{what}: a request error has no data: {body}"
            );
        }
        assert_eq!(event_count(&app).await, before, "{what} appended events");
    }

    let huge = app
        .http
        .post(format!("{}/graphql", app.address))
        .bearer_auth(&ana.token)
        .header("content-type", "application/json")
        .body(format!("{{\"query\": \"{}\"}}", "a".repeat(300 * 1024)))
        .send()
        .await
        .expect("request");
    assert_eq!(huge.status(), 413);
    let body: serde_json::Value = huge.json().await.expect("json");
    assert_eq!(code(&body), "BAD_USER_INPUT");
    assert_eq!(event_count(&app).await, before);
}
