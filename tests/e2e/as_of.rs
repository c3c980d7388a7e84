//! State as of a moment over the running server: `conversationAsOf` and
//! `sessionAsOf` answer, for the history roles, exactly what
//! `conversation` and `liveSessions` answered at that moment; agents are
//! refused, another site's ids are refused as `conversation(id)` refuses
//! them, unknown ids are `null`, bad ids and moments are bad input.

use std::time::Duration;

use chrono::{DateTime, Utc};
use livedesk_domain::conversation::{Conversation, ConversationCommand, Provider};
use livedesk_domain::session::{ClientInfo, DeviceClass, EndReason, Session, SessionCode, SessionCommand};
use livedesk_domain::visitor::{Visitor, VisitorCommand};
use livedesk_domain::{Actor, ConversationId, MessageId, Metadata, Role, SessionId, SiteId, VisitorId};
use livedesk_eventstore::{CommandContext, CommandService, PgEventStore};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::fixtures::{Fixture, code, data, event_count, post};
use crate::helpers::TestApp;
use crate::helpers::spawn_app;

/// Every field of `Conversation` that `ConversationAsOf` has too.
const CONVERSATION: &str = "id siteId status provider sessionId visitorId visitorName visitorEmail \
     assignee { kind id name } takenOverBy { agentId displayName } aiActive humanRequested \
     lastMessagePreview lastMessageAt lastMessageAuthor messageCount noteCount unreadCount \
     slaDueAt slaDueTarget slaBreached sla { target policyId dueAt outcome } createdAt updatedAt \
     messages(first: 100) { edges { cursor node { id conversationId internal author { type id name } \
     body attachments { kind reference } clientMessageId at position } } pageInfo { hasNextPage endCursor } }";

/// Every field of `LiveSession` but `timeActiveSeconds` (which counts to
/// now on the live view, to the moment as of one).
const SESSION: &str = "id siteId visitorId code status currentPath currentTitle referrer browser device os \
     country visitorName visitorEmail tags tabs pageViews connectedAgent { id displayName } \
     coBrowsingAgent { id displayName } conversationId messageCount lastMessagePreview lastMessageAt \
     startedAt lastActivityAt expiresAt";

fn context(site: Uuid) -> CommandContext {
    CommandContext {
        metadata: Metadata {
            site_id: Some(site),
            actor: Some(Actor::System),
            ..Metadata::default()
        },
    }
}

/// A visitor browsing `site` who opens a chat in their session and says
/// hello, as the widget would: (visitor, session, conversation).
async fn visitor_chats(app: &TestApp, site: &Fixture) -> (Uuid, Uuid, Uuid) {
    let (visitor, session, conversation) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let ctx = context(site.site);
    let visitors: CommandService<PgEventStore, Visitor> = CommandService::new(app.store.clone(), 4);
    let seen = VisitorCommand::FirstSeen {
        visitor_id: VisitorId(visitor),
        site_id: SiteId(site.site),
        at: Utc::now(),
    };
    visitors.execute(visitor, seen, &ctx).await.expect("visitor");
    let start = SessionCommand::Start {
        session_id: SessionId(session),
        site_id: SiteId(site.site),
        visitor_id: VisitorId(visitor),
        tab_id: "tab-1".into(),
        client: ClientInfo {
            browser: "Firefox 131".into(),
            device: DeviceClass::Desktop,
            os: "Linux".into(),
            country: Some("SI".into()),
            languages: Vec::new(),
        },
        entry_path: "/pricing".into(),
        referrer: Some("https://search.example".into()),
        code: SessionCode::parse("ASOF42").expect("code"),
        max_duration_secs: 3600,
        at: Utc::now(),
    };
    session_command(app, site.site, session, start).await;
    let open = ConversationCommand::open(
        ConversationId(conversation),
        SiteId(site.site),
        VisitorId(visitor),
        Some(SessionId(session)),
        Provider::WebChat,
        Utc::now(),
    );
    conversation_command(app, site.site, conversation, open).await;
    visitor_says(app, site.site, conversation, visitor, "Hi, is shipping free?").await;
    site.settle().await;
    (visitor, session, conversation)
}

async fn session_command(app: &TestApp, site: Uuid, session: Uuid, command: SessionCommand) {
    let sessions: CommandService<PgEventStore, Session> = CommandService::new(app.store.clone(), 4);
    sessions
        .execute(session, command, &context(site))
        .await
        .expect("session command");
}

async fn conversation_command(app: &TestApp, site: Uuid, conversation: Uuid, command: ConversationCommand) {
    let conversations: CommandService<PgEventStore, Conversation> = CommandService::new(app.store.clone(), 4);
    conversations
        .execute(conversation, command, &context(site))
        .await
        .expect("conversation command");
}

async fn visitor_says(app: &TestApp, site: Uuid, conversation: Uuid, visitor: Uuid, text: &str) {
    let message =
        ConversationCommand::post_visitor_message(MessageId(Uuid::now_v7()), VisitorId(visitor), text, Utc::now());
    conversation_command(app, site, conversation, message).await;
}

/// What the live API answers now, once every projector shows every event,
/// and the moment that is: the time of the newest event. Read again if an
/// event (the server's own automation) came in meanwhile.
async fn live<T>(app: &TestApp, site: &Fixture, read: impl AsyncFn() -> T) -> (T, DateTime<Utc>) {
    loop {
        let before = event_count(app).await;
        site.settle().await;
        let answer = read().await;
        let at: DateTime<Utc> = sqlx::query_scalar("SELECT max(recorded_at) FROM events")
            .fetch_one(app.store.pool())
            .await
            .expect("the newest event's time");
        if event_count(app).await == before {
            // Whatever comes next is recorded strictly after `at`.
            tokio::time::sleep(Duration::from_millis(5)).await;
            return (answer, at);
        }
    }
}

fn conversation_as_of() -> String {
    format!("query($id: ID!, $at: DateTime!) {{ conversationAsOf(id: $id, at: $at) {{ {CONVERSATION} }} }}")
}

fn session_as_of() -> String {
    format!("query($id: ID!, $at: DateTime!) {{ sessionAsOf(id: $id, at: $at) {{ {SESSION} timeActiveSeconds }} }}")
}

async fn conversation_now(app: &TestApp, token: &str, id: Uuid) -> Value {
    let query = format!("query($id: ID!) {{ conversation(id: $id) {{ {CONVERSATION} }} }}");
    data(app, token, &query, json!({ "id": id.to_string() })).await["conversation"].clone()
}

async fn session_now(app: &TestApp, token: &str, site: Uuid, id: Uuid) -> Value {
    let query =
        format!("query($s: ID!) {{ liveSessions(siteId: $s, first: 100) {{ edges {{ node {{ {SESSION} }} }} }} }}");
    let found = data(app, token, &query, json!({ "s": site.to_string() })).await;
    let edges = found["liveSessions"]["edges"].as_array().cloned().unwrap_or_default();
    edges
        .into_iter()
        .map(|e| e["node"].clone())
        .find(|n| n["id"] == id.to_string())
        .unwrap_or(Value::Null)
}

fn vars(id: Uuid, at: DateTime<Utc>) -> Value {
    json!({ "id": id.to_string(), "at": at.to_rfc3339() })
}

#[sqlx::test(migrations = false)]
async fn as_of_queries_answer_what_the_live_api_answered_at_that_moment_for_history_roles(pool: sqlx::PgPool) {
    let app = spawn_app(pool).await;
    let site = Fixture::new(&app).await;
    let admin = site.agent("Ada", Role::Admin).await;
    let supervisor = site.agent("Sam", Role::Supervisor).await;
    let agent = site.agent("Ana", Role::Agent).await;
    let analyst = site.token("History", Role::Analyst, None).await;
    let integrator = site.token("Aiden", Role::Integrator, None).await;
    let readers = [
        ("admin", admin.token.clone()),
        ("supervisor", supervisor.token.clone()),
        ("analyst", analyst.clone()),
        ("integrator", integrator.clone()),
    ];
    let before_anything = Utc::now();
    tokio::time::sleep(Duration::from_millis(5)).await;

    let (visitor, session, conversation) = visitor_chats(&app, &site).await;
    let c = json!({ "c": conversation.to_string() });
    data(
        &app,
        &agent.token,
        "mutation($c: ID!) { sendMessage(conversationId: $c, body: \"Yes, above 50 EUR\", clientMessageId: \"m-1\", attachments: [{kind: ARTICLE, reference: \"kb-7\"}]) { message { id } } }",
        c.clone(),
    )
    .await;
    data(
        &app,
        &agent.token,
        "mutation($c: ID!) { addNote(conversationId: $c, body: \"asks about shipping\") { id } }",
        c.clone(),
    )
    .await;
    let ((first, first_session), t1) = live(&app, &site, async || {
        let mut answers = Vec::new();
        for (_, token) in &readers {
            answers.push(conversation_now(&app, token, conversation).await);
        }
        (answers, session_now(&app, &admin.token, site.site, session).await)
    })
    .await;
    assert_eq!(first[0]["messageCount"], 2, "{}", first[0]);
    assert_eq!(first[0]["noteCount"], 1);
    assert_eq!(first_session["messageCount"], 2, "{first_session}");

    // Then the visitor is named, writes again, an agent takes over and
    // closes the chat, the visitor leaves.
    site.tag_visitor(visitor, "Vera", "Novak", "vera@example.com").await;
    visitor_says(&app, site.site, conversation, visitor, "Thanks!").await;
    site.settle().await;
    data(
        &app,
        &agent.token,
        "mutation($c: ID!) { takeOver(conversationId: $c) { id } }",
        c.clone(),
    )
    .await;
    data(
        &app,
        &agent.token,
        "mutation($c: ID!) { setConversationStatus(conversationId: $c, status: DONE) { id } }",
        c.clone(),
    )
    .await;
    let end = SessionCommand::End {
        reason: EndReason::Closed,
        at: Utc::now(),
    };
    session_command(&app, site.site, session, end).await;
    let ((second, second_session), t2) = live(&app, &site, async || {
        let mut answers = Vec::new();
        for (_, token) in &readers {
            answers.push(conversation_now(&app, token, conversation).await);
        }
        (answers, session_now(&app, &admin.token, site.site, session).await)
    })
    .await;
    assert_eq!(second[0]["status"], "DONE", "{}", second[0]);
    assert_eq!(second[0]["visitorName"], "Vera Novak");
    assert_eq!(second_session, Value::Null, "the session ended");

    // Each history role sees, as of each moment, what it saw live then.
    for (i, (role, token)) in readers.iter().enumerate() {
        for (at, expected) in [(t1, &first[i]), (t2, &second[i])] {
            let got = data(&app, token, &conversation_as_of(), vars(conversation, at)).await;
            assert_eq!(&got["conversationAsOf"], expected, "{role} as of {at}");
        }
        let got = data(&app, token, &conversation_as_of(), vars(conversation, before_anything)).await;
        assert_eq!(got["conversationAsOf"], Value::Null, "{role}: not yet opened");
    }
    let notes = |answer: &Value| {
        answer["messages"]["edges"]
            .as_array()
            .map_or(0, |e| e.iter().filter(|e| e["node"]["internal"] == true).count())
    };
    assert_eq!(notes(&first[2]), 1, "the analyst reads notes");
    assert_eq!(notes(&first[3]), 0, "the integrator reads no notes");

    let got = data(&app, &analyst, &session_as_of(), vars(session, t1)).await;
    let mut as_of = got["sessionAsOf"].clone();
    let active = as_of
        .as_object_mut()
        .and_then(|o| o.remove("timeActiveSeconds"))
        .expect("timeActiveSeconds");
    assert_eq!(as_of, first_session, "the session as of {t1}");
    let started: DateTime<Utc> = first_session["startedAt"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("startedAt");
    assert_eq!(
        active,
        json!((t1 - started).num_seconds().max(0)),
        "time active up to the moment"
    );
    for at in [t2, before_anything] {
        let got = data(&app, &analyst, &session_as_of(), vars(session, at)).await;
        assert_eq!(got["sessionAsOf"], Value::Null, "no live session as of {at}");
    }

    // Agents may not read the history.
    for query in [conversation_as_of(), session_as_of()] {
        let id = if query.contains("conversationAsOf") {
            conversation
        } else {
            session
        };
        let (_, refused) = post(&app, Some(&agent.token), &query, vars(id, t1)).await;
        assert_eq!(code(&refused), "FORBIDDEN", "{refused}");
    }

    // An unknown id is `null`, as `conversation(id)` answers it.
    let unknown = Uuid::now_v7();
    let got = conversation_now(&app, &analyst, unknown).await;
    assert_eq!(got, Value::Null);
    let got = data(&app, &analyst, &conversation_as_of(), vars(unknown, t2)).await;
    assert_eq!(got["conversationAsOf"], Value::Null);
    let got = data(&app, &analyst, &session_as_of(), vars(unknown, t2)).await;
    assert_eq!(got["sessionAsOf"], Value::Null);

    // Another site's conversation and session are refused the way
    // `conversation(id)` refuses them, whatever the moment.
    let other = Fixture::new(&app).await;
    let (_, other_session, other_conversation) = visitor_chats(&app, &other).await;
    let (_, refused) = post(
        &app,
        Some(&analyst),
        &format!("{{ conversation(id: \"{other_conversation}\") {{ id }} }}"),
        json!({}),
    )
    .await;
    assert_eq!(code(&refused), "FORBIDDEN", "{refused}");
    for at in [Utc::now(), before_anything] {
        let (_, refused) = post(
            &app,
            Some(&analyst),
            &conversation_as_of(),
            vars(other_conversation, at),
        )
        .await;
        assert_eq!(code(&refused), "FORBIDDEN", "{refused}");
        let (_, refused) = post(&app, Some(&analyst), &session_as_of(), vars(other_session, at)).await;
        assert_eq!(code(&refused), "FORBIDDEN", "{refused}");
    }

    // Bad ids and moments are bad input.
    let bad_id = json!({ "id": "not-a-uuid", "at": t1.to_rfc3339() });
    let bad_at = json!({ "id": conversation.to_string(), "at": "yesterday" });
    for query in [conversation_as_of(), session_as_of()] {
        for variables in [&bad_id, &bad_at] {
            let (_, refused) = post(&app, Some(&analyst), &query, variables.clone()).await;
            assert_eq!(code(&refused), "BAD_USER_INPUT", "{variables}: {refused}");
        }
    }
    let (_, refused) = post(
        &app,
        Some(&analyst),
        &format!("{{ conversationAsOf(id: \"{conversation}\", at: \"2026-13-45\") {{ id }} }}"),
        json!({}),
    )
    .await;
    assert_eq!(code(&refused), "BAD_USER_INPUT", "{refused}");
}
