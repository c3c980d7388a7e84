//! `/reports/transcript.csv` and `/reports/conversations.csv` over the
//! running server: the rows the read models hold, streamed, for the roles
//! that may see them and nobody else; a refusal appends nothing; the CLI
//! (`livedesk::reports::write`) writes the same bytes.

use std::time::Duration;

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use livedesk_api::csv::{CONVERSATIONS_HEADER, TRANSCRIPT_HEADER, conversation_line};
use livedesk_api::reports::CsvExport;
use livedesk_domain::Role;
use livedesk_projections::read as reads;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::export::csv_records;
use crate::fixtures::{Fixture, data, event_count};
use crate::helpers::{TestApp, spawn_app};
use crate::report::until;

/// GETs `path?query` with `token`: status, content type and body.
async fn get(app: &TestApp, token: Option<&str>, path: &str, query: &str) -> (u16, String, String) {
    let mut request = app.http.get(format!("{}{path}?{query}", app.address));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let kind = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, kind, response.text().await.expect("body"))
}

/// Asserts the request is refused with `status` and `code` and appends
/// nothing.
async fn refused(app: &TestApp, token: Option<&str>, path: &str, query: &str, expected: (u16, &str)) {
    let before = event_count(app).await;
    let (status, _, body) = get(app, token, path, query).await;
    let json: Value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("a JSON error: {body}"));
    assert_eq!(
        (status, json["error"]["code"].as_str().unwrap_or("<none>")),
        expected,
        "{query}: {body}"
    );
    assert_eq!(event_count(app).await, before, "a refused {path}?{query} appended");
}

/// The `TranscriptExported` events of `conversation` and their actors.
async fn exports_of(app: &TestApp, conversation: Uuid) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT coalesce(actor, '') FROM events WHERE stream_id = $1 AND event_type = 'TranscriptExported' \
          ORDER BY position",
    )
    .bind(format!("conversation-{conversation}"))
    .fetch_all(app.store.pool())
    .await
    .expect("exports")
}

/// What the CLI writes for `export`.
async fn cli_bytes(app: &TestApp, export: &CsvExport) -> String {
    let mut out = Vec::new();
    livedesk::reports::write(app.store.pool(), export, &mut out)
        .await
        .expect("the CLI's export");
    String::from_utf8(out).expect("utf-8")
}

#[sqlx::test(migrations = false)]
async fn a_transcript_csv_holds_messages_and_notes_for_exporting_roles_and_records_each_export(pool: sqlx::PgPool) {
    let app = spawn_app(pool).await;
    let site = Fixture::new(&app).await;
    let ana = site.agent("Ana", Role::Agent).await;
    let ann = site.agent("Ann", Role::Analyst).await;
    let analyst_without_agent = site.token("Reports", Role::Analyst, None).await;
    let bot = site.token("Aiden", Role::Integrator, None).await;
    let (conversation, visitor) = site.open_conversation("Hello, I need \"help\"").await;
    let c = conversation.to_string();
    data(
        &app,
        &ana.token,
        "mutation($c: ID!) { sendMessage(conversationId: $c, body: \"=1+1, on it\") { __typename } }",
        json!({ "c": c }),
    )
    .await;
    data(
        &app,
        &ana.token,
        "mutation($c: ID!) { addNote(conversationId: $c, body: \"VIP,\\ncall back\") { id } }",
        json!({ "c": c }),
    )
    .await;
    site.visitor_says(conversation, visitor, "thanks").await;
    site.settle().await;

    let path = "/reports/transcript.csv";
    let query = format!("conversationId={c}");
    let (status, kind, body) = get(&app, Some(&ana.token), path, &query).await;
    assert_eq!((status, kind.as_str()), (200, "text/csv; charset=utf-8"), "{body}");
    let records = csv_records(&body);
    assert_eq!(records[0].join(","), TRANSCRIPT_HEADER.trim_end());
    let lines: Vec<(&str, &str, &str, &str)> = records[1..]
        .iter()
        .map(|r| (r[1].as_str(), r[2].as_str(), r[3].as_str(), r[4].as_str()))
        .collect();
    assert_eq!(
        lines,
        [
            ("visitor", "", "false", "Hello, I need \"help\""),
            ("agent", "Ana", "false", "'=1+1, on it"),
            ("agent", "Ana", "true", "VIP,\ncall back"),
            ("visitor", "", "false", "thanks"),
        ]
    );
    let messages = reads::all_messages(app.store.pool(), conversation, true)
        .await
        .expect("messages");
    for (record, message) in records[1..].iter().zip(&messages) {
        let at: DateTime<Utc> = record[0].parse().expect("an RFC 3339 time");
        assert_eq!(at, message.at);
    }
    assert_eq!(exports_of(&app, conversation).await, [format!("agent:{}", ana.id)]);

    // The GraphQL mutation and the CLI give the same bytes.
    let mutation = data(
        &app,
        &ann.token,
        "mutation($c: ID!) { exportTranscript(conversationId: $c) }",
        json!({ "c": c }),
    )
    .await;
    assert_eq!(mutation["exportTranscript"].as_str(), Some(body.as_str()));
    let cli = CsvExport::Transcript {
        conversation,
        notes: true,
    };
    assert_eq!(cli_bytes(&app, &cli).await, body);
    // An analyst acting as an agent exports too, notes included (every
    // role that may export may read notes; integrators may do neither).
    let (status, _, analysts) = get(&app, Some(&ann.token), path, &query).await;
    assert_eq!((status, analysts.as_str()), (200, body.as_str()));
    assert_eq!(
        exports_of(&app, conversation).await,
        [
            format!("agent:{}", ana.id),
            format!("agent:{}", ann.id),
            format!("agent:{}", ann.id)
        ]
    );

    // Refusals: nothing appended, no byte of the transcript.
    refused(&app, None, path, &query, (401, "UNAUTHENTICATED")).await;
    refused(&app, Some("ldk_not-a-token"), path, &query, (401, "UNAUTHENTICATED")).await;
    refused(&app, Some(&bot), path, &query, (403, "FORBIDDEN")).await;
    refused(&app, Some(&analyst_without_agent), path, &query, (403, "FORBIDDEN")).await;
    let unknown = format!("conversationId={}", Uuid::now_v7());
    refused(&app, Some(&ana.token), path, &unknown, (404, "NOT_FOUND")).await;
    refused(
        &app,
        Some(&ana.token),
        path,
        "conversationId=nope",
        (400, "BAD_USER_INPUT"),
    )
    .await;
    refused(&app, Some(&ana.token), path, "", (400, "BAD_USER_INPUT")).await;
    // Another site's conversation is FORBIDDEN, as in GraphQL.
    let other = Fixture::new(&app).await;
    let (theirs, _) = other.open_conversation("elsewhere").await;
    let theirs = format!("conversationId={theirs}");
    refused(&app, Some(&ana.token), path, &theirs, (403, "FORBIDDEN")).await;
    let their_admin = other.agent("Olga", Role::Admin).await;
    refused(&app, Some(&their_admin.token), path, &query, (403, "FORBIDDEN")).await;
    assert_eq!(exports_of(&app, conversation).await.len(), 3);
}

#[sqlx::test(migrations = false)]
async fn the_conversations_csv_holds_the_inbox_rows_of_the_conversations_opened_in_the_period(pool: sqlx::PgPool) {
    let app = spawn_app(pool).await;
    let site = Fixture::new(&app).await;
    let s = site.site.to_string();
    let ada = site.agent("Ada", Role::Admin).await;
    let ana = site.agent("Ana", Role::Agent).await;
    let analyst = site.token("Reports", Role::Analyst, None).await;
    let policies = json!([{ "name": "Default", "firstResponseSecs": 3600, "resolutionSecs": 86400 }]);
    data(
        &app,
        &ada.token,
        "mutation($s: ID!, $p: [SlaPolicyInput!]!) { defineSlaPolicies(siteId: $s, policies: $p) { policies { id } } }",
        json!({ "s": s, "p": policies }),
    )
    .await;
    let pause = || tokio::time::sleep(Duration::from_millis(20));

    let (before, _) = site.open_conversation("too early").await;
    pause().await;
    let from = Utc::now();
    pause().await;
    let (answered, vera) = site.open_conversation("Where is my order?").await;
    site.tag_visitor(vera, "Vera", "Vogel", "vera@example.com").await;
    let (waiting, _) = site.open_conversation("Hello?").await;
    pause().await;
    let to = Utc::now();
    pause().await;
    let (after, _) = site.open_conversation("too late").await;
    for id in [answered, waiting] {
        until(
            &app,
            &ada.token,
            "query($id: ID!) { conversation(id: $id) { slaDueAt } }",
            json!({ "id": id.to_string() }),
            |got| !got["conversation"]["slaDueAt"].is_null(),
        )
        .await;
    }
    let a = answered.to_string();
    data(
        &app,
        &ana.token,
        "mutation($c: ID!) { assignToMe(conversationId: $c) { id } }",
        json!({ "c": a }),
    )
    .await;
    data(
        &app,
        &ana.token,
        "mutation($c: ID!) { sendMessage(conversationId: $c, body: \"Shipped today\") { __typename } }",
        json!({ "c": a }),
    )
    .await;
    data(
        &app,
        &ana.token,
        "mutation($c: ID!) { addNote(conversationId: $c, body: \"checked the warehouse\") { id } }",
        json!({ "c": a }),
    )
    .await;
    data(
        &app,
        &ana.token,
        "mutation($c: ID!) { setConversationStatus(conversationId: $c, status: DONE) { status } }",
        json!({ "c": a }),
    )
    .await;
    // The SLA engine settles the clocks the reply and Done fulfilled.
    until(
        &app,
        &ada.token,
        "query($id: ID!) { conversation(id: $id) { sla { target outcome } } }",
        json!({ "id": a }),
        |got| {
            got["conversation"]["sla"]
                .as_array()
                .is_some_and(|clocks| clocks.len() == 2 && clocks.iter().all(|c| c["outcome"] == "FULFILLED"))
        },
    )
    .await;
    site.settle().await;

    let time = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Micros, true);
    let path = "/reports/conversations.csv";
    let query = format!("siteId={s}&from={}&to={}", time(from), time(to));
    let (status, kind, body) = get(&app, Some(&analyst), path, &query).await;
    assert_eq!((status, kind.as_str()), (200, "text/csv; charset=utf-8"), "{body}");

    // Exactly the period's conversations, as the read model holds them.
    let mut rows = reads::conversations_by_id(app.store.pool(), &[answered, waiting])
        .await
        .expect("rows");
    rows.sort_by_key(|r| (r.created_at, r.conversation_id));
    let expected: String = std::iter::once(CONVERSATIONS_HEADER.to_owned())
        .chain(rows.iter().map(conversation_line))
        .collect();
    assert_eq!(body, expected);
    for outside in [before, after] {
        assert!(!body.contains(&outside.to_string()), "{outside} is outside the period");
    }

    // And those rows say what happened.
    let records = csv_records(&body);
    let header = &records[0];
    let column = |record: &[String], name: &str| -> String {
        let at = header.iter().position(|h| h == name).expect("a column");
        record[at].clone()
    };
    let (done, open) = (&records[1], &records[2]);
    assert_eq!(column(done, "conversation_id"), a);
    assert_eq!(column(done, "status"), "done");
    assert_eq!(column(done, "visitor_email"), "vera@example.com");
    assert_eq!(column(done, "visitor_name"), "Vera Vogel");
    assert_eq!(
        (column(done, "assignee_type"), column(done, "assignee_id")),
        ("agent".to_owned(), ana.id.to_string())
    );
    assert_eq!(
        (column(done, "messages"), column(done, "notes")),
        ("2".to_owned(), "1".to_owned())
    );
    let reply = reads::all_messages(app.store.pool(), answered, false)
        .await
        .expect("messages")
        .into_iter()
        .find(|m| m.author_type == "agent")
        .expect("the reply");
    let first_response: DateTime<Utc> = column(done, "first_response_at").parse().expect("a time");
    assert_eq!(first_response, reply.at);
    let done_at: DateTime<Utc> = column(done, "done_at").parse().expect("a time");
    assert!(done_at >= reply.at && done_at <= Utc::now());
    assert_eq!(
        [
            column(done, "first_response_sla"),
            column(done, "next_response_sla"),
            column(done, "resolution_sla")
        ],
        ["met", "", "met"]
    );
    assert_eq!(column(open, "conversation_id"), waiting.to_string());
    assert_eq!(column(open, "status"), "unread");
    assert_eq!(
        (column(open, "first_response_at"), column(open, "done_at")),
        (String::new(), String::new())
    );
    assert_eq!(
        [column(open, "first_response_sla"), column(open, "resolution_sla")],
        ["pending", "pending"]
    );

    // The CLI writes the same bytes.
    let cli = CsvExport::conversations(site.site, from, to).expect("a period");
    assert_eq!(cli_bytes(&app, &cli).await, body);
    assert!(CsvExport::conversations(site.site, to, from).is_err());

    // Reporting roles only, on their own site, over a checked period.
    let (status, _, admins) = get(&app, Some(&ada.token), path, &query).await;
    assert_eq!((status, admins.as_str()), (200, body.as_str()));
    refused(&app, None, path, &query, (401, "UNAUTHENTICATED")).await;
    refused(&app, Some(&ana.token), path, &query, (403, "FORBIDDEN")).await;
    let other = format!("siteId={}&from={}&to={}", Uuid::now_v7(), time(from), time(to));
    refused(&app, Some(&analyst), path, &other, (403, "FORBIDDEN")).await;
    let backwards = format!("siteId={s}&from={}&to={}", time(to), time(from));
    refused(&app, Some(&analyst), path, &backwards, (400, "BAD_USER_INPUT")).await;
    let long = format!("siteId={s}&from={}&to={}", time(to - TimeDelta::days(367)), time(to));
    refused(&app, Some(&analyst), path, &long, (400, "BAD_USER_INPUT")).await;
    let unparsable = format!("siteId={s}&from=yesterday&to={}", time(to));
    refused(&app, Some(&analyst), path, &unparsable, (400, "BAD_USER_INPUT")).await;
    refused(
        &app,
        Some(&analyst),
        path,
        &format!("siteId={s}"),
        (400, "BAD_USER_INPUT"),
    )
    .await;
    refused(
        &app,
        Some(&analyst),
        path,
        &format!("siteId=nope&from={}&to={}", time(from), time(to)),
        (400, "BAD_USER_INPUT"),
    )
    .await;
}
