//! The assistant: answers from text blocks, hands over when it does not
//! know, pauses during a take-over, resumes after a release or when the
//! agent's console has been gone for the grace period.

use std::sync::atomic::Ordering::Relaxed;

use livedesk_domain::site::SiteCommand;
use livedesk_domain::{Role, TextBlockId};
use livedesk_widget::assistant::builtin::DONT_KNOW;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::{Tab, eventually};
use crate::fixtures::{Fixture, WsClient, data};
use livedesk::config::{WidgetArgs, WsConfig};

use crate::helpers::{spawn_app, spawn_app_configured, widget_args};

const RETURNS: &str = "You can return any item within 30 days for a full refund.";

async fn site_with_faq(app: &crate::helpers::TestApp) -> Fixture {
    let site = Fixture::new(app).await;
    site.site_command(SiteCommand::AddTextBlock {
        text_block_id: TextBlockId(Uuid::now_v7()),
        shortcut: "returns".into(),
        title: "Return policy".into(),
        body: RETURNS.into(),
        at: chrono::Utc::now(),
    })
    .await;
    site
}

/// A site with the FAQ, agent Ana with her console open, and a visitor's
/// tab with its socket.
struct AnaOnDuty {
    site: Fixture,
    ana: crate::fixtures::Person,
    console: WsClient,
    tab: Tab,
    socket: super::WidgetSocket,
}

impl AnaOnDuty {
    async fn open(app: &crate::helpers::TestApp) -> Self {
        let site = site_with_faq(app).await;
        let ana = site.agent("Ana", Role::Agent).await;
        let console = WsClient::authenticated(app, &ana.token).await;
        let tab = Tab::start(app, &site).await;
        let socket = tab.connect(app).await;
        Self {
            site,
            ana,
            console,
            tab,
            socket,
        }
    }
}

const TAKE_OVER: &str = "mutation($id: ID!) { takeOver(conversationId: $id) { id } }";
const RELEASE: &str = "mutation($id: ID!) { release(conversationId: $id) { id } }";
const REPLY: &str =
    "mutation($id: ID!, $body: String!) { sendMessage(conversationId: $id, body: $body) { message { id } } }";

#[sqlx::test(migrations = false)]
async fn the_assistant_answers_from_the_text_blocks_and_hands_over_when_it_does_not_know(pool: PgPool) {
    let app = spawn_app(pool).await;
    let site = site_with_faq(&app).await;
    let tab = Tab::start(&app, &site).await;
    let mut socket = tab.connect(&app).await;

    let sent = tab.say(&app, "How do returns work?").await;
    assert_eq!(sent["message"]["author"]["label"], "You");
    let (mine, _) = socket.until("message").await;
    assert_eq!(mine["message"]["author"]["type"], "visitor");
    let (reply, _) = socket.until("message").await;
    assert_eq!(reply["message"]["body"], RETURNS);
    assert_eq!(reply["message"]["author"]["type"], "assistant");
    assert_eq!(reply["message"]["author"]["label"], "Assistant");

    tab.say(&app, "Do you sell gift cards?").await;
    socket.until("message").await;
    let (reply, _) = socket.until("message").await;
    assert_eq!(reply["message"]["body"], DONT_KNOW);
    socket.until("human_requested").await;
    site.settle().await;
    let requested: bool = sqlx::query_scalar("SELECT human_requested FROM conversations WHERE conversation_id = $1")
        .bind(tab.conversation)
        .fetch_one(app.store.pool())
        .await
        .expect("inbox row");
    assert!(requested, "the conversation is marked for an agent");
}

#[sqlx::test(migrations = false)]
async fn a_take_over_silences_the_assistant_shows_the_agent_badge_and_a_release_brings_it_back(pool: PgPool) {
    let app = spawn_app(pool).await;
    let AnaOnDuty {
        site,
        ana,
        console: _console,
        tab,
        mut socket,
    } = AnaOnDuty::open(&app).await;
    tab.say(&app, "returns?").await;
    socket.until("message").await;
    socket.until("message").await;
    site.settle().await;

    let id = json!({ "id": tab.conversation.to_string() });
    data(&app, &ana.token, TAKE_OVER, id.clone()).await;
    let (badge, _) = socket.until("handled_by").await;
    assert_eq!(
        badge["handledBy"],
        json!({ "type": "agent", "name": "Ana", "label": "Live agent · Ana" })
    );

    let paused = app.widget.stats().assistant_paused.load(Relaxed);
    let sent = tab.say(&app, "are you a robot? returns?").await;
    assert_eq!(sent["handledBy"]["label"], "Live agent · Ana");
    eventually("the assistant to stand back", || async {
        (app.widget.stats().assistant_paused.load(Relaxed) > paused).then_some(())
    })
    .await;
    data(
        &app,
        &ana.token,
        REPLY,
        json!({ "id": tab.conversation.to_string(), "body": "No, I'm Ana." }),
    )
    .await;
    let (visitor, _) = socket.until("message").await;
    assert_eq!(visitor["message"]["author"]["type"], "visitor");
    let (reply, skipped) = socket.until("message").await;
    assert_eq!(reply["message"]["author"]["label"], "Live agent · Ana");
    assert_eq!(reply["message"]["body"], "No, I'm Ana.");
    assert!(skipped.iter().all(|f| f["type"] != "message"), "{skipped:?}");

    data(&app, &ana.token, RELEASE, id).await;
    let (badge, _) = socket.until("handled_by").await;
    assert_eq!(badge["handledBy"]["label"], "Assistant");
    tab.say(&app, "and returns once more?").await;
    socket.until("message").await;
    let (reply, _) = socket.until("message").await;
    assert_eq!(reply["message"]["author"]["type"], "assistant");
    assert_eq!(reply["message"]["body"], RETURNS);
}

#[sqlx::test(migrations = false)]
async fn the_assistant_resumes_once_the_agents_console_has_been_gone_for_the_grace_period(pool: PgPool) {
    let widget = WidgetArgs {
        console_grace_ms: 1_000,
        ..widget_args()
    };
    let app = spawn_app_configured(pool, WsConfig::default(), widget).await;
    let AnaOnDuty {
        site,
        ana,
        console,
        tab,
        mut socket,
    } = AnaOnDuty::open(&app).await;
    tab.say(&app, "hello").await;
    site.settle().await;
    data(
        &app,
        &ana.token,
        TAKE_OVER,
        json!({ "id": tab.conversation.to_string() }),
    )
    .await;
    let (badge, _) = socket.until("handled_by").await;
    assert_eq!(badge["handledBy"]["type"], "agent");
    // While the console is open, sweeps come and go and the take-over holds.
    let sweeps = app.widget.stats().sweeps.load(Relaxed);
    eventually("thirty sweeps", || async {
        (app.widget.stats().sweeps.load(Relaxed) > sweeps + 30).then_some(())
    })
    .await;
    assert_eq!(app.widget.stats().take_overs_released.load(Relaxed), 0);

    console.close().await;
    let (badge, _) = socket.until("handled_by").await;
    assert_eq!(badge["handledBy"]["type"], "assistant");
    let released = super::events_of(&app, &format!("conversation-{}", tab.conversation))
        .await
        .into_iter()
        .find(|(t, _)| t == "ConversationReleased")
        .map(|(_, p)| p)
        .expect("released");
    assert_eq!(released["reason"], "timed_out");
    assert!(released["by"].is_null(), "released by Livedesk");
    tab.say(&app, "returns?").await;
    socket.until("message").await;
    let (reply, _) = socket.until("message").await;
    assert_eq!(reply["message"]["body"], RETURNS);
}

/// A chat-completions endpoint that answers "Noted." and keeps each
/// request's body.
async fn completions_endpoint() -> (String, std::sync::Arc<std::sync::Mutex<Vec<serde_json::Value>>>) {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = seen.clone();
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        axum::routing::post(move |axum::Json(body): axum::Json<serde_json::Value>| {
            let kept = kept.clone();
            async move {
                kept.lock().expect("lock").push(body);
                axum::Json(json!({ "choices": [{ "message": { "role": "assistant", "content": "Noted." } }] }))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{address}/v1/chat/completions"), seen)
}

#[sqlx::test(migrations = false)]
async fn a_responder_that_takes_history_is_given_the_earlier_turns_oldest_first(pool: PgPool) {
    let (url, seen) = completions_endpoint().await;
    let widget = WidgetArgs {
        assistant: "openai".into(),
        openai_url: url,
        ..widget_args()
    };
    let app = spawn_app_configured(pool, WsConfig::default(), widget).await;
    let site = site_with_faq(&app).await;
    let tab = Tab::start(&app, &site).await;
    let mut socket = tab.connect(&app).await;
    for text in ["first question", "second question", "third question"] {
        tab.say(&app, text).await;
        socket.until("message").await;
        let (reply, _) = socket.until("message").await;
        assert_eq!(reply["message"]["body"], "Noted.");
        site.settle().await;
    }
    let requests = seen.lock().expect("lock").clone();
    assert_eq!(requests.len(), 3);
    let turns: Vec<(String, String)> = requests[2]["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .skip(1)
        .map(|m| {
            (
                m["role"].as_str().unwrap_or("").to_owned(),
                m["content"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let expected = [
        ("user", "first question"),
        ("assistant", "Noted."),
        ("user", "second question"),
        ("assistant", "Noted."),
        ("user", "third question"),
    ]
    .map(|(role, text)| (role.to_owned(), text.to_owned()));
    assert_eq!(turns, expected, "the earlier turns, then the question");
}

/// The conversation's `HumanRequested`, `ConversationTakenOver` and
/// `ConversationReleased` events, in order.
async fn hand_over_events(app: &crate::helpers::TestApp, conversation: Uuid) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT event_type FROM events WHERE stream_id = $1 \
            AND event_type IN ('HumanRequested', 'ConversationTakenOver', 'ConversationReleased') ORDER BY position",
    )
    .bind(format!("conversation-{conversation}"))
    .fetch_all(app.store.pool())
    .await
    .expect("events")
}

#[sqlx::test(migrations = false)]
async fn the_assistant_asks_for_a_human_once_and_again_after_an_agent_has_come_and_gone(pool: PgPool) {
    let app = spawn_app(pool).await;
    let AnaOnDuty {
        site,
        ana,
        console: _console,
        tab,
        mut socket,
    } = AnaOnDuty::open(&app).await;
    for text in ["Do you sell gift cards?", "Gift cards, really?"] {
        tab.say(&app, text).await;
        socket.until("message").await;
        let (reply, _) = socket.until("message").await;
        assert_eq!(reply["message"]["body"], DONT_KNOW);
    }
    site.settle().await;

    // Through the API: the widget's cached state of the conversation is
    // now behind the stream.
    let id = json!({ "id": tab.conversation.to_string() });
    data(&app, &ana.token, TAKE_OVER, id.clone()).await;
    socket.until("handled_by").await;
    data(&app, &ana.token, RELEASE, id).await;
    socket.until("handled_by").await;
    tab.say(&app, "Gift cards, anyone?").await;
    socket.until("message").await;
    let (reply, _) = socket.until("message").await;
    assert_eq!(reply["message"]["body"], DONT_KNOW);
    let events = eventually("a human asked for again", || async {
        let events = hand_over_events(&app, tab.conversation).await;
        (events.len() >= 4).then_some(events)
    })
    .await;
    site.settle().await;
    assert_eq!(
        hand_over_events(&app, tab.conversation).await,
        [
            "HumanRequested",
            "ConversationTakenOver",
            "ConversationReleased",
            "HumanRequested"
        ],
        "asked once while the request stood, then again: {events:?}"
    );
}
