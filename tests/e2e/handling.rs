//! Assignment races and take-over, over a real server and HTTP client.

use livedesk_domain::Role;
use serde_json::json;
use sqlx::PgPool;

use crate::fixtures::{Fixture, code, data, event_count, post};
use crate::helpers::spawn_app;

const ASSIGN_TO_ME: &str = "mutation($id: ID!) { assignToMe(conversationId: $id) { id assignee { kind id name } } }";

#[sqlx::test(migrations = false)]
async fn two_agents_assigning_to_themselves_at_once_give_one_winner_and_a_conflict_naming_them(pool: PgPool) {
    let app = spawn_app(pool).await;
    let site = Fixture::new(&app).await;
    let ana = site.agent("Ana", Role::Agent).await;
    let ben = site.agent("Ben", Role::Agent).await;
    let mut conversations = Vec::new();
    for i in 0..50 {
        conversations.push(site.open_conversation_unsettled(&format!("help {i}")).await.0);
    }
    site.settle().await;
    for conversation in conversations {
        let variables = json!({ "id": conversation.to_string() });
        let (a, b) = tokio::join!(
            post(&app, Some(&ana.token), ASSIGN_TO_ME, variables.clone()),
            post(&app, Some(&ben.token), ASSIGN_TO_ME, variables.clone()),
        );
        let answers = [(&ana, a), (&ben, b)];
        let winners: Vec<usize> = answers
            .iter()
            .enumerate()
            .filter(|(_, (_, (_, body)))| body["data"]["assignToMe"].is_object())
            .map(|(i, _)| i)
            .collect();
        assert_eq!(winners.len(), 1, "exactly one winner: {answers:?}");
        let winner = winners[0];
        let (who, (_, body)) = &answers[winner];
        assert_eq!(body["data"]["assignToMe"]["assignee"]["id"], who.id.to_string());
        let (_, (status, lost)) = &answers[1 - winner];
        assert_eq!(*status, 200, "{lost}");
        assert_eq!(code(lost), "CONFLICT", "{lost}");
        let error = &lost["errors"][0];
        assert_eq!(error["extensions"]["holder"]["id"], who.id.to_string(), "{lost}");
        assert!(
            error["message"].as_str().unwrap_or_default().contains(&who.name),
            "the conflict names {}: {lost}",
            who.name
        );
    }
}

const SEND: &str = "mutation($id: ID!, $body: String!) { sendMessage(conversationId: $id, body: $body) { \
    message { body author { type name } } conversation { aiActive } } }";

#[sqlx::test(migrations = false)]
async fn a_bot_reply_after_take_over_is_rejected_and_after_release_accepted(pool: PgPool) {
    let app = spawn_app(pool).await;
    let site = Fixture::new(&app).await;
    let ana = site.agent("Ana", Role::Agent).await;
    let bot = site.token("Aiden", Role::Integrator, None).await;
    let (conversation, _) = site.open_conversation("where is my order?").await;
    let id = conversation.to_string();

    let replied = data(&app, &bot, SEND, json!({ "id": id, "body": "Let me check." })).await;
    assert_eq!(replied["sendMessage"]["message"]["author"]["type"], "BOT");
    assert_eq!(replied["sendMessage"]["message"]["author"]["name"], "Aiden");

    let taken = data(
        &app,
        &ana.token,
        "mutation($id: ID!) { takeOver(conversationId: $id) { aiActive takenOverBy { agentId displayName } } }",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(taken["takeOver"]["aiActive"], false);
    assert_eq!(taken["takeOver"]["takenOverBy"]["displayName"], "Ana");

    let before = event_count(&app).await;
    let (_, rejected) = post(&app, Some(&bot), SEND, json!({ "id": id, "body": "Still checking." })).await;
    assert_eq!(code(&rejected), "CONFLICT", "{rejected}");
    assert!(
        rejected["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("Ana")
    );
    assert_eq!(event_count(&app).await, before, "a rejected reply appends nothing");

    let released = data(
        &app,
        &ana.token,
        "mutation($id: ID!) { release(conversationId: $id) { aiActive takenOverBy { agentId } } }",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(released["release"]["aiActive"], true);
    assert!(released["release"]["takenOverBy"].is_null());

    let resumed = data(&app, &bot, SEND, json!({ "id": id, "body": "I am back." })).await;
    assert_eq!(resumed["sendMessage"]["message"]["body"], "I am back.");
    assert_eq!(resumed["sendMessage"]["conversation"]["aiActive"], true);
}

#[sqlx::test(migrations = false)]
async fn mutations_answer_with_the_state_after_the_change(pool: PgPool) {
    let app = spawn_app(pool).await;
    let site = Fixture::new(&app).await;
    let ana = site.agent("Ana", Role::Supervisor).await;
    let (conversation, _) = site.open_conversation("hello").await;
    let id = conversation.to_string();
    let sent = data(
        &app,
        &ana.token,
        "mutation($id: ID!) { sendMessage(conversationId: $id, body: \"Hi!\", clientMessageId: \"c-1\", \
           attachments: [{kind: IMAGE, reference: \"https://cdn.example/a.png\"}]) { \
           message { body clientMessageId attachments { kind reference } } \
           conversation { status messageCount lastMessagePreview } } }",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(sent["sendMessage"]["conversation"]["status"], "UNRESOLVED");
    assert_eq!(sent["sendMessage"]["conversation"]["messageCount"], 2);
    assert_eq!(sent["sendMessage"]["conversation"]["lastMessagePreview"], "Hi!");
    assert_eq!(sent["sendMessage"]["message"]["attachments"][0]["kind"], "IMAGE");

    let noted = data(
        &app,
        &ana.token,
        "mutation($id: ID!) { addNote(conversationId: $id, body: \"VIP\") { noteCount \
           messages { edges { node { body internal author { type name } } } } } }",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(noted["addNote"]["noteCount"], 1);
    let transcript = noted["addNote"]["messages"]["edges"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(transcript.len(), 3);
    assert_eq!(transcript[2]["node"]["internal"], true);

    let done = data(
        &app,
        &ana.token,
        "mutation($id: ID!) { setConversationStatus(conversationId: $id, status: DONE) { status } }",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(done["setConversationStatus"]["status"], "DONE");

    let inbox = data(
        &app,
        &ana.token,
        "query($site: ID!) { unread: conversations(siteId: $site) { edges { node { id } } } \
           done: conversations(siteId: $site, status: DONE) { edges { node { id status } } } }",
        json!({ "site": site.site.to_string() }),
    )
    .await;
    assert_eq!(inbox["unread"]["edges"].as_array().map(Vec::len), Some(0));
    assert_eq!(inbox["done"]["edges"][0]["node"]["id"], id);

    let csv = data(
        &app,
        &ana.token,
        "mutation($id: ID!) { exportTranscript(conversationId: $id) }",
        json!({ "id": id }),
    )
    .await;
    let csv = csv["exportTranscript"].as_str().unwrap_or_default();
    assert!(
        csv.starts_with("at,author_type,author,internal,body,attachments\r\n"),
        "{csv}"
    );
    assert!(csv.contains(",agent,Ana,true,VIP,"), "{csv}");
}
