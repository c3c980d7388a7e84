//! The event history over the running server: `events` pages the site's
//! log in position order with filters, `stream` shows one stream,
//! `auditLog` says who did what, token scopes and roles limit all of them,
//! and another site's data is never shown.

use livedesk_domain::{Role, StreamCategory};
use livedesk_eventstore::{EventStore, Filter};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::fixtures::{Fixture, code, data, post};
use crate::helpers::spawn_app;

const EVENTS: &str = "query($f: EventFilter!, $after: String, $first: Int) { \
     events(filter: $f, after: $after, first: $first) { \
     pageInfo { hasNextPage } edges { cursor node { position streamId streamVersion type siteId actor category payload } } } }";

const STREAM: &str = "query($s: ID!, $id: String!, $after: String, $first: Int) { stream(siteId: $s, id: $id) { \
     id version events(after: $after, first: $first) { pageInfo { hasNextPage } edges { cursor node { streamVersion type } } } } }";

const AUDIT: &str = "query($s: ID!, $f: AuditLogFilter, $after: String, $first: Int) { \
     auditLog(siteId: $s, filter: $f, after: $after, first: $first) { \
     pageInfo { hasNextPage } edges { cursor node { position action actor actorName streamId details } } } }";

/// Every event `token` gets from `events` with `filter`, paging by `first`.
async fn all_events(app: &crate::helpers::TestApp, token: &str, filter: Value, first: i64) -> Vec<Value> {
    let mut after = Value::Null;
    let mut seen = Vec::new();
    loop {
        let page = data(
            app,
            token,
            EVENTS,
            json!({ "f": filter, "after": after, "first": first }),
        )
        .await;
        let edges = page["events"]["edges"].as_array().expect("edges").clone();
        assert!(edges.len() as i64 <= first);
        for edge in &edges {
            assert_eq!(edge["cursor"], edge["node"]["position"], "the cursor is the position");
        }
        let more = page["events"]["pageInfo"]["hasNextPage"]
            .as_bool()
            .expect("hasNextPage");
        if let Some(last) = edges.last() {
            after = last["cursor"].clone();
        }
        seen.extend(edges.into_iter().map(|e| e["node"].clone()));
        if !more {
            return seen;
        }
    }
}

fn positions(events: &[Value]) -> Vec<u64> {
    events
        .iter()
        .map(|e| e["position"].as_str().expect("position").parse().expect("decimal"))
        .collect()
}

#[sqlx::test]
async fn the_events_query_pages_the_sites_log_in_order_and_filters_it(pool: sqlx::PgPool) {
    let app = spawn_app(pool).await;
    let shop = Fixture::new(&app).await;
    let other = Fixture::new(&app).await;
    let (chat, visitor) = shop.open_conversation("Hello").await;
    shop.visitor_says(chat, visitor, "Anyone there?").await;
    shop.open_conversation("A second chat").await;
    other.open_conversation("Not yours").await;
    shop.settle().await;
    let analyst = shop.token("analyst", Role::Analyst, None).await;
    let site = json!({ "siteId": shop.site });

    let events = all_events(&app, &analyst, site.clone(), 3).await;
    let stored = app
        .store
        .read_all(
            0,
            10_000,
            &Filter {
                site_id: Some(shop.site),
                ..Filter::all()
            },
        )
        .await
        .expect("the log");
    assert_eq!(
        positions(&events),
        stored.iter().map(|e| e.position).collect::<Vec<_>>(),
        "every event of the site, in position order, none of another site"
    );
    assert!(events.iter().all(|e| e["siteId"] == json!(shop.site.to_string())));
    let first = &events[0];
    assert_eq!(first["type"], "SiteCreated");
    assert_eq!(first["category"], "SITE");
    assert_eq!(first["payload"]["name"], "Shop");

    let stream = format!("conversation-{chat}");
    let one = all_events(
        &app,
        &analyst,
        json!({ "siteId": shop.site, "streamPrefix": stream }),
        100,
    )
    .await;
    assert!(one.iter().all(|e| e["streamId"] == json!(stream)));
    let versions: Vec<i64> = one
        .iter()
        .map(|e| e["streamVersion"].as_i64().expect("version"))
        .collect();
    assert_eq!(versions, (0..versions.len() as i64).collect::<Vec<_>>());
    let messages = all_events(
        &app,
        &analyst,
        json!({ "siteId": shop.site, "categories": ["CONVERSATION"], "types": ["MessagePosted"] }),
        100,
    )
    .await;
    assert_eq!(messages.len(), 3, "three visitor messages on the shop's site");
    let cut: chrono::DateTime<chrono::Utc> = stored[stored.len() / 2].recorded_at;
    let cut_text = cut.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let before = all_events(&app, &analyst, json!({ "siteId": shop.site, "to": cut_text }), 100).await;
    let since = all_events(&app, &analyst, json!({ "siteId": shop.site, "from": cut_text }), 100).await;
    assert_eq!(before.len() + since.len(), events.len(), "[from, to) splits the log");
    assert!(stored.iter().filter(|e| e.recorded_at < cut).count() == before.len());
    let ana = shop.agent("Ana", Role::Agent).await;
    data(
        &app,
        &ana.token,
        "mutation($c: ID!) { assignToMe(conversationId: $c) { id } }",
        json!({ "c": chat }),
    )
    .await;
    let by_ana = all_events(
        &app,
        &analyst,
        json!({ "siteId": shop.site, "actor": format!("agent:{}", ana.id) }),
        100,
    )
    .await;
    let types: Vec<&str> = by_ana.iter().map(|e| e["type"].as_str().expect("type")).collect();
    assert_eq!(types, ["ConversationAssigned"], "what Ana did");
}

#[sqlx::test]
async fn history_reads_refuse_agents_other_sites_bad_input_and_categories_outside_the_scope(pool: sqlx::PgPool) {
    let app = spawn_app(pool).await;
    let shop = Fixture::new(&app).await;
    let other = Fixture::new(&app).await;
    let (chat, _) = shop.open_conversation("Hello").await;
    let agent = shop.agent("Ana", Role::Agent).await;
    let sessions_only = shop
        .scoped_token("Live view sync", Role::Integrator, &[StreamCategory::Session])
        .await;
    let outsider = other.token("analyst", Role::Analyst, None).await;
    let analyst = shop.token("analyst", Role::Analyst, None).await;
    let site = json!({ "siteId": shop.site });
    let refused = |token: String, query: &'static str, variables: Value, expected: &'static str| {
        let app = &app;
        async move {
            let (_, body) = post(app, Some(&token), query, variables.clone()).await;
            assert_eq!(code(&body), expected, "{query} with {variables}: {body}");
        }
    };
    refused(agent.token.clone(), EVENTS, json!({ "f": site }), "FORBIDDEN").await;
    refused(agent.token.clone(), AUDIT, json!({ "s": shop.site }), "FORBIDDEN").await;
    refused(outsider.clone(), EVENTS, json!({ "f": site }), "FORBIDDEN").await;
    refused(outsider.clone(), AUDIT, json!({ "s": shop.site }), "FORBIDDEN").await;
    let stream = format!("conversation-{chat}");
    refused(
        outsider.clone(),
        STREAM,
        json!({ "s": shop.site, "id": stream }),
        "FORBIDDEN",
    )
    .await;
    let (_, body) = post(&app, Some(&outsider), STREAM, json!({ "s": other.site, "id": stream })).await;
    assert!(body["errors"].is_null(), "{body}");
    assert!(
        body["data"]["stream"].is_null(),
        "another site's stream is not there: {body}"
    );
    for (variables, what) in [
        (json!({ "f": site, "after": "x" }), "a foreign cursor"),
        (json!({ "f": site, "first": 0 }), "first 0"),
        (json!({ "f": site, "first": 1001 }), "first 1001"),
        (json!({ "f": { "siteId": "nope" } }), "a bad site id"),
        (
            json!({ "f": { "siteId": shop.site, "from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z" } }),
            "from after to",
        ),
        (
            json!({ "f": { "siteId": shop.site, "streamPrefix": "" } }),
            "an empty prefix",
        ),
        (
            json!({ "f": { "siteId": shop.site, "actor": "x".repeat(201) } }),
            "a long actor",
        ),
    ] {
        let (_, body) = post(&app, Some(&analyst), EVENTS, variables).await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{what}: {body}");
    }
    for id in ["nodash", "ticket-1"] {
        let (_, body) = post(&app, Some(&analyst), STREAM, json!({ "s": shop.site, "id": id })).await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{id}: {body}");
    }

    // A token scoped to sessions reads sessions only.
    let mut session = shop.start_session("HIST42").await.to_string();
    session.insert_str(0, "session-");
    let scoped = all_events(&app, &sessions_only, site.clone(), 100).await;
    assert!(!scoped.is_empty());
    assert!(scoped.iter().all(|e| e["category"] == "SESSION"), "{scoped:?}");
    refused(
        sessions_only.clone(),
        EVENTS,
        json!({ "f": { "siteId": shop.site, "categories": ["CONVERSATION"] } }),
        "FORBIDDEN",
    )
    .await;
    refused(
        sessions_only.clone(),
        STREAM,
        json!({ "s": shop.site, "id": stream }),
        "FORBIDDEN",
    )
    .await;
    let got = data(&app, &sessions_only, STREAM, json!({ "s": shop.site, "id": session })).await;
    assert_eq!(got["stream"]["id"], json!(session));
    let audit = data(&app, &sessions_only, AUDIT, json!({ "s": shop.site })).await;
    for edge in audit["auditLog"]["edges"].as_array().expect("edges") {
        assert!(
            edge["node"]["streamId"]
                .as_str()
                .is_some_and(|s| s.starts_with("session-"))
        );
    }
}

#[sqlx::test]
async fn a_stream_shows_its_version_and_events_page_by_page(pool: sqlx::PgPool) {
    let app = spawn_app(pool).await;
    let shop = Fixture::new(&app).await;
    let (chat, visitor) = shop.open_conversation("Hello").await;
    for n in 0..4 {
        shop.visitor_says(chat, visitor, &format!("message {n}")).await;
    }
    shop.settle().await;
    let analyst = shop.token("analyst", Role::Analyst, None).await;
    let id = format!("conversation-{chat}");
    let stored = app
        .store
        .read_stream(
            &livedesk_domain::StreamName::parse(&id).expect("name"),
            0,
            livedesk_eventstore::Direction::Forward,
            100,
        )
        .await
        .expect("stream");
    let mut after = Value::Null;
    let mut seen = Vec::new();
    loop {
        let got = data(
            &app,
            &analyst,
            STREAM,
            json!({ "s": shop.site, "id": id, "after": after, "first": 2 }),
        )
        .await;
        let history = &got["stream"];
        assert_eq!(history["id"], json!(id));
        assert_eq!(history["version"], json!(stored.len() - 1));
        let edges = history["events"]["edges"].as_array().expect("edges").clone();
        if let Some(last) = edges.last() {
            after = last["cursor"].clone();
        }
        seen.extend(
            edges
                .iter()
                .map(|e| e["node"]["type"].as_str().expect("type").to_owned()),
        );
        if !history["events"]["pageInfo"]["hasNextPage"].as_bool().expect("more") {
            break;
        }
    }
    assert_eq!(seen, stored.iter().map(|e| e.event_type.clone()).collect::<Vec<_>>());
    let unknown = format!("conversation-{}", Uuid::now_v7());
    let got = data(&app, &analyst, STREAM, json!({ "s": shop.site, "id": unknown })).await;
    assert!(got["stream"].is_null());
}

#[sqlx::test]
async fn the_audit_log_says_who_assigned_took_over_watched_exported_and_issued_tokens(pool: sqlx::PgPool) {
    let app = spawn_app(pool).await;
    let shop = Fixture::new(&app).await;
    let (chat, _) = shop.open_conversation("Hello").await;
    let ana = shop.agent("Ana", Role::Supervisor).await;
    let admin = shop.agent("Root", Role::Admin).await;
    let analyst = shop.token("analyst", Role::Analyst, None).await;
    let c = json!({ "c": chat });
    for mutation in [
        "mutation($c: ID!) { assignToMe(conversationId: $c) { id } }",
        "mutation($c: ID!) { takeOver(conversationId: $c) { id } }",
        "mutation($c: ID!) { release(conversationId: $c) { id } }",
        "mutation($c: ID!) { exportTranscript(conversationId: $c) }",
    ] {
        data(&app, &ana.token, mutation, c.clone()).await;
    }
    data(
        &app,
        &admin.token,
        "mutation($s: ID!) { issueApiToken(siteId: $s, name: \"CRM\", role: INTEGRATOR, eventCategories: [CONVERSATION]) { token { eventCategories } } }",
        json!({ "s": shop.site }),
    )
    .await;
    shop.settle().await;
    let got = data(
        &app,
        &analyst,
        AUDIT,
        json!({ "s": shop.site, "f": { "actor": format!("agent:{}", ana.id) } }),
    )
    .await;
    let actions: Vec<&str> = got["auditLog"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["action"].as_str().expect("action"))
        .collect();
    assert_eq!(
        actions,
        [
            "TranscriptExported",
            "ConversationReleased",
            "ConversationTakenOver",
            "ConversationAssigned"
        ],
        "Ana's actions, newest first"
    );
    let newest = &got["auditLog"]["edges"][0]["node"];
    assert_eq!(newest["actorName"], "Ana");
    assert_eq!(newest["streamId"], json!(format!("conversation-{chat}")));

    let issued = data(
        &app,
        &analyst,
        AUDIT,
        json!({ "s": shop.site, "f": { "actions": ["ApiTokenIssued"], "actor": format!("agent:{}", admin.id) } }),
    )
    .await;
    let entry = &issued["auditLog"]["edges"][0]["node"];
    assert_eq!(entry["details"]["name"], "CRM");
    assert_eq!(entry["details"]["event_categories"], json!(["conversation"]));
    assert!(entry["details"].get("token_hash").is_none(), "the hash is never shown");

    // Paging: one entry at a time walks the same entries.
    let mut after = Value::Null;
    let mut walked = Vec::new();
    loop {
        let page = data(
            &app,
            &analyst,
            AUDIT,
            json!({ "s": shop.site, "f": { "actor": format!("agent:{}", ana.id) }, "after": after, "first": 1 }),
        )
        .await;
        let edges = page["auditLog"]["edges"].as_array().expect("edges").clone();
        if let Some(last) = edges.last() {
            after = last["cursor"].clone();
            walked.push(last["node"]["action"].as_str().expect("action").to_owned());
        }
        if !page["auditLog"]["pageInfo"]["hasNextPage"].as_bool().expect("more") {
            break;
        }
    }
    assert_eq!(walked, actions);
}

#[sqlx::test]
async fn an_integrator_never_sees_internal_notes_and_nobody_reads_the_identity_secret(pool: sqlx::PgPool) {
    let app = spawn_app(pool).await;
    let shop = Fixture::new(&app).await;
    let (chat, visitor) = shop.open_conversation("Hello").await;
    let ana = shop.agent("Ana", Role::Agent).await;
    data(
        &app,
        &ana.token,
        "mutation($c: ID!) { addNote(conversationId: $c, body: \"VIP: offer the discount\") { id } }",
        json!({ "c": chat }),
    )
    .await;
    shop.visitor_says(chat, visitor, "Still there?").await;
    let secret = "a-very-long-identity-secret-0123456789";
    shop.site_command(livedesk_domain::site::SiteCommand::ConfigureIdentityVerification {
        secret: secret.into(),
        required: true,
        at: chrono::Utc::now(),
    })
    .await;
    shop.settle().await;
    let analyst = shop.token("analyst", Role::Analyst, None).await;
    let integrator = shop.token("CRM sync", Role::Integrator, None).await;
    let is_note = |e: &Value| e["type"] == "NotePosted" || e["action"] == "NotePosted";
    let site = json!({ "siteId": shop.site });

    let seen_by_analyst = all_events(&app, &analyst, site.clone(), 100).await;
    assert_eq!(
        seen_by_analyst.iter().filter(|e| is_note(e)).count(),
        1,
        "analysts read notes"
    );
    let seen_by_integrator = all_events(&app, &integrator, site.clone(), 100).await;
    assert!(!seen_by_integrator.iter().any(is_note));
    assert_eq!(
        seen_by_integrator.len(),
        seen_by_analyst.len() - 1,
        "everything but the note"
    );
    for events in [&seen_by_analyst, &seen_by_integrator] {
        let configured = events
            .iter()
            .find(|e| e["type"] == "IdentityVerificationConfigured")
            .expect("the configuration event");
        assert_eq!(configured["payload"]["required"], true);
        assert!(configured["payload"].get("secret").is_none(), "{configured}");
        assert!(!Value::Array(events.clone()).to_string().contains(secret));
    }
    let (_, asked) = post(
        &app,
        Some(&integrator),
        EVENTS,
        json!({ "f": { "siteId": shop.site, "types": ["NotePosted"] } }),
    )
    .await;
    assert_eq!(code(&asked), "FORBIDDEN", "{asked}");

    let stream = json!({ "s": shop.site, "id": format!("conversation-{chat}"), "first": 100 });
    let stream_types = |page: Value| -> Vec<Value> {
        page["stream"]["events"]["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .map(|e| e["node"].clone())
            .collect()
    };
    let analyst_stream = stream_types(data(&app, &analyst, STREAM, stream.clone()).await);
    assert!(analyst_stream.iter().any(is_note));
    let integrator_stream = stream_types(data(&app, &integrator, STREAM, stream).await);
    assert!(!integrator_stream.iter().any(is_note));
    assert_eq!(integrator_stream.len(), analyst_stream.len() - 1);

    let audit = json!({ "s": shop.site, "first": 1000 });
    let entries = |page: Value| -> Vec<Value> {
        page["auditLog"]["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .map(|e| e["node"].clone())
            .collect()
    };
    assert!(
        entries(data(&app, &analyst, AUDIT, audit.clone()).await)
            .iter()
            .any(is_note)
    );
    let integrator_audit = entries(data(&app, &integrator, AUDIT, audit).await);
    assert!(!integrator_audit.iter().any(is_note));
    assert!(!Value::Array(integrator_audit).to_string().contains(secret));

    let conversation_events = seen_by_integrator
        .iter()
        .filter(|e| e["category"] == "CONVERSATION")
        .count();
    let mut ws = crate::fixtures::WsClient::authenticated(&app, &integrator).await;
    ws.subscribe(
        "feed",
        "subscription($f: EventFilter!) { events(filter: $f) { cursor events { type } } }",
        json!({ "f": { "siteId": shop.site, "categories": ["CONVERSATION"] } }),
    )
    .await;
    let mut fed = Vec::new();
    while fed.len() < conversation_events {
        let push = ws.message().await;
        assert_eq!(push["type"], "next", "{push}");
        fed.extend(
            push["payload"]["data"]["events"]["events"]
                .as_array()
                .expect("events")
                .iter()
                .cloned(),
        );
    }
    assert!(!fed.iter().any(is_note), "{fed:?}");
    assert_eq!(fed.len(), conversation_events);
    ws.close().await;
}
