//! GraphQL over HTTP: media types, status codes, GET, GraphiQL, tokens.

use livedesk_domain::Role;
use serde_json::json;
use sqlx::PgPool;

use crate::fixtures::{Fixture, code, event_count};
use crate::helpers::spawn_app;

#[sqlx::test(migrations = false)]
async fn the_answer_follows_the_accept_header_and_the_spec_status_codes(pool: PgPool) {
    let app = spawn_app(pool).await;
    let site = Fixture::new(&app).await;
    let ana = site.agent("Ana", Role::Agent).await;
    let url = format!("{}/graphql", app.address);
    let query = json!({ "query": "{ me { role } }" });

    let graphql = app
        .http
        .post(&url)
        .bearer_auth(&ana.token)
        .header("accept", "application/graphql-response+json, application/json;q=0.9")
        .json(&query)
        .send()
        .await
        .expect("request");
    assert_eq!(graphql.status(), 200);
    assert!(
        graphql.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("application/graphql-response+json")
    );
    let body: serde_json::Value = graphql.json().await.expect("json");
    assert_eq!(body["data"]["me"]["role"], "AGENT");

    let legacy = app
        .http
        .post(&url)
        .bearer_auth(&ana.token)
        .json(&query)
        .send()
        .await
        .expect("request");
    assert!(
        legacy.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("application/json")
    );

    let invalid = json!({ "query": "{ me { nope } }" });
    let legacy = app
        .http
        .post(&url)
        .bearer_auth(&ana.token)
        .json(&invalid)
        .send()
        .await
        .expect("request");
    assert_eq!(
        legacy.status(),
        200,
        "application/json answers validation errors with 200"
    );
    let strict = app
        .http
        .post(&url)
        .bearer_auth(&ana.token)
        .header("accept", "application/graphql-response+json")
        .json(&invalid)
        .send()
        .await
        .expect("request");
    assert_eq!(strict.status(), 400);

    let xml = app
        .http
        .post(&url)
        .bearer_auth(&ana.token)
        .header("accept", "application/xml")
        .json(&query)
        .send()
        .await
        .expect("request");
    assert_eq!(xml.status(), 406);

    let text = app
        .http
        .post(&url)
        .bearer_auth(&ana.token)
        .header("content-type", "text/plain")
        .body("{ me { role } }")
        .send()
        .await
        .expect("request");
    assert_eq!(text.status(), 415);

    let not_json = app
        .http
        .post(&url)
        .bearer_auth(&ana.token)
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .expect("request");
    assert_eq!(not_json.status(), 400);

    let anonymous = app.http.post(&url).json(&query).send().await.expect("request");
    assert_eq!(anonymous.status(), 401);
    assert_eq!(anonymous.headers()["www-authenticate"], "Bearer");
    let body: serde_json::Value = anonymous.json().await.expect("json");
    assert_eq!(code(&body), "UNAUTHENTICATED");
}

#[sqlx::test(migrations = false)]
async fn get_runs_queries_refuses_mutations_and_serves_graphiql_to_browsers(pool: PgPool) {
    let app = spawn_app(pool).await;
    let site = Fixture::new(&app).await;
    let ana = site.agent("Ana", Role::Agent).await;
    let (conversation, _) = site.open_conversation("hi").await;
    let url = format!("{}/graphql", app.address);

    let query = app
        .http
        .get(&url)
        .bearer_auth(&ana.token)
        .query(&[
            ("query", "query($id: ID!) { conversation(id: $id) { status } }"),
            ("variables", &json!({ "id": conversation.to_string() }).to_string()),
        ])
        .send()
        .await
        .expect("request");
    assert_eq!(query.status(), 200);
    let body: serde_json::Value = query.json().await.expect("json");
    assert_eq!(body["data"]["conversation"]["status"], "UNREAD");

    let before = event_count(&app).await;
    let mutation = app
        .http
        .get(&url)
        .bearer_auth(&ana.token)
        .query(&[(
            "query",
            format!("mutation {{ assignToMe(conversationId: \"{conversation}\") {{ id }} }}"),
        )])
        .send()
        .await
        .expect("request");
    assert_eq!(mutation.status(), 405);
    assert_eq!(mutation.headers()["allow"], "POST");
    assert_eq!(event_count(&app).await, before);

    let page = app
        .http
        .get(&url)
        .header("accept", "text/html")
        .send()
        .await
        .expect("request");
    assert_eq!(page.status(), 200);
    assert!(page.text().await.expect("html").contains("graphiql"));
}
