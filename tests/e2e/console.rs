//! The rest of the console: configuration, text blocks, teams, visitor
//! details, connect by code, notifications.

use livedesk_domain::Role;
use serde_json::json;
use sqlx::PgPool;

use crate::fixtures::{Fixture, WsClient, code, data, post};
use crate::helpers::spawn_app;

#[sqlx::test(migrations = false)]
async fn admins_configure_the_site_and_agents_work_with_it(pool: PgPool) {
    let app = spawn_app(pool).await;
    let site = Fixture::new(&app).await;
    let ada = site.agent("Ada", Role::Admin).await;
    let ana = site.agent("Ana", Role::Agent).await;
    let s = json!({ "s": site.site.to_string() });

    let configured = data(
        &app,
        &ada.token,
        "mutation($s: ID!) { updateSiteSettings(siteId: $s, settings: {keepSessionAcrossTabs: false, \
           persistentVisitorIds: true, maxSessionDurationSecs: 3600, idleTimeoutSecs: 300, leaveTimeoutSecs: 30, \
           maxMessageChars: 20}) { settings { maxMessageChars } } \
         }",
        s.clone(),
    )
    .await;
    assert_eq!(configured["updateSiteSettings"]["settings"]["maxMessageChars"], 20);
    data(
        &app,
        &ada.token,
        "mutation($s: ID!) { defineCustomFields(siteId: $s, fields: [{key: \"plan\", label: \"Plan\", kind: \"select\", \
           options: [\"free\", \"pro\"]}]) { customFields { key options } } }",
        s.clone(),
    )
    .await;
    data(
        &app,
        &ada.token,
        "mutation($s: ID!) { addTextBlock(siteId: $s, shortcut: \"refund\", title: \"Refunds\", body: \"Within 30 days.\") { id } }",
        s.clone(),
    )
    .await;
    let found = data(
        &app,
        &ana.token,
        "query($s: ID!) { textBlocks(siteId: $s, search: \"#ref\") { shortcut body } }",
        s.clone(),
    )
    .await;
    assert_eq!(found["textBlocks"][0]["shortcut"], "refund");

    let team = data(
        &app,
        &ada.token,
        "mutation($s: ID!) { createTeam(siteId: $s, name: \"Billing\") { id } }",
        s.clone(),
    )
    .await;
    let team = team["createTeam"]["id"].clone();
    let joined = data(
        &app,
        &ada.token,
        "mutation($t: ID!, $a: ID!) { addTeamMember(teamId: $t, agentId: $a) { name members { displayName } } }",
        json!({ "t": team, "a": ana.id.to_string() }),
    )
    .await;
    assert_eq!(joined["addTeamMember"]["members"][0]["displayName"], "Ana");

    let (conversation, visitor) = site.open_conversation("refund please").await;
    let c = conversation.to_string();
    let visitor_id = visitor.to_string();
    let assigned = data(
        &app,
        &ana.token,
        "mutation($c: ID!, $t: ID!) { assignConversation(conversationId: $c, teamId: $t) { assignee { kind name } } }",
        json!({ "c": c, "t": team }),
    )
    .await;
    assert_eq!(assigned["assignConversation"]["assignee"]["kind"], "TEAM");
    assert_eq!(assigned["assignConversation"]["assignee"]["name"], "Billing");

    let (_, too_long) = post(
        &app,
        Some(&ana.token),
        "mutation($c: ID!) { sendMessage(conversationId: $c, body: \"twenty-one characters\") { message { id } } }",
        json!({ "c": c }),
    )
    .await;
    assert_eq!(
        code(&too_long),
        "BAD_USER_INPUT",
        "the site's own limit applies: {too_long}"
    );

    let updated = data(
        &app,
        &ana.token,
        "mutation($v: ID!) { updateVisitorInfo(visitorId: $v, info: {email: \"eva@example.com\", firstName: \"Eva\", \
           additionalInfo: [{key: \"plan\", value: \"pro\"}]}) { name email additionalInfo { key value } conversationCount } }",
        json!({ "v": visitor_id }),
    )
    .await;
    let visitor = &updated["updateVisitorInfo"];
    assert_eq!(visitor["name"], "Eva");
    assert_eq!(visitor["additionalInfo"][0]["value"]["value"], "pro");
    assert_eq!(visitor["conversationCount"], 1);
    let (_, wrong) = post(
        &app,
        Some(&ana.token),
        "mutation($v: ID!) { updateVisitorInfo(visitorId: $v, info: {additionalInfo: [{key: \"plan\", value: \"gold\"}]}) { name } }",
        json!({ "v": visitor_id }),
    )
    .await;
    assert_eq!(code(&wrong), "BAD_USER_INPUT", "{wrong}");

    let me = data(
        &app,
        &ana.token,
        "mutation { setDisplayName(displayName: \"Ana from billing\") { displayName } setPresence(presence: ONLINE) { presence } }",
        json!({}),
    )
    .await;
    assert_eq!(me["setDisplayName"]["displayName"], "Ana from billing");
    assert_eq!(me["setPresence"]["presence"], "ONLINE");
}

#[sqlx::test(migrations = false)]
async fn an_agent_connects_by_the_code_the_visitor_reads_out(pool: PgPool) {
    let app = spawn_app(pool).await;
    let site = Fixture::new(&app).await;
    let ana = site.agent("Ana", Role::Agent).await;
    site.start_session("7K3QXM").await;
    let s = json!({ "s": site.site.to_string() });
    let found = data(
        &app,
        &ana.token,
        "query($s: ID!) { sessionByCode(siteId: $s, code: \"7k3-qxm\") { id code currentPath device country } }",
        s.clone(),
    )
    .await;
    assert_eq!(found["sessionByCode"]["currentPath"], "/pricing");
    let connected = data(
        &app,
        &ana.token,
        "mutation($s: ID!) { connectByCode(siteId: $s, code: \"7K3QXM\") { connectedAgent { displayName } } }",
        s.clone(),
    )
    .await;
    assert_eq!(connected["connectByCode"]["connectedAgent"]["displayName"], "Ana");
    let (_, wrong) = post(
        &app,
        Some(&ana.token),
        "mutation($s: ID!) { connectByCode(siteId: $s, code: \"AAAA\") { id } }",
        s,
    )
    .await;
    assert_eq!(code(&wrong), "NOT_FOUND");
}

#[sqlx::test(migrations = false)]
async fn notifications_follow_the_agents_preference(pool: PgPool) {
    let app = spawn_app(pool).await;
    let site = Fixture::new(&app).await;
    let ana = site.agent("Ana", Role::Agent).await;
    let mut ws = WsClient::authenticated(&app, &ana.token).await;
    ws.subscribe(
        "n",
        "subscription { notifications { kind message { body } } }",
        json!({}),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    let (first, visitor) = site.open_conversation("first").await;
    let note = ws.message().await;
    assert_eq!(
        note["payload"]["data"]["notifications"]["kind"], "NEW_CONVERSATION",
        "{note}"
    );
    site.visitor_says(first, visitor, "again").await;
    let note = ws.message().await;
    assert_eq!(note["payload"]["data"]["notifications"]["kind"], "NEW_MESSAGE");
    assert_eq!(note["payload"]["data"]["notifications"]["message"]["body"], "again");

    data(
        &app,
        &ana.token,
        "mutation { setNotificationPreference(preference: NEW_CONVERSATIONS_ONLY) { notificationPreference } }",
        json!({}),
    )
    .await;
    site.visitor_says(first, visitor, "not notified").await;
    site.open_conversation("second").await;
    let note = ws.message().await;
    assert_eq!(
        note["payload"]["data"]["notifications"]["message"]["body"], "second",
        "the message of the old conversation was skipped: {note}"
    );
}

#[sqlx::test(migrations = false)]
async fn the_inbox_search_finds_conversations_by_the_visitors_name_or_email(pool: PgPool) {
    let app = spawn_app(pool).await;
    let site = Fixture::new(&app).await;
    let ana = site.agent("Ana", Role::Agent).await;
    let (first, anna) = site.open_conversation_unsettled("Where is my parcel?").await;
    let (second, _) = site.open_conversation_unsettled("Hello").await;
    site.tag_visitor(anna, "Anna", "Schmidt", "anna.schmidt@example.com")
        .await;
    site.settle().await;
    let search = |q: &str| {
        data(
            &app,
            &ana.token,
            "query($s: ID!, $q: String) { conversations(siteId: $s, status: ALL, search: $q) { edges { node { id visitorName } } } }",
            json!({ "s": site.site.to_string(), "q": q }),
        )
    };
    let ids = |found: serde_json::Value| -> Vec<String> {
        found["conversations"]["edges"]
            .as_array()
            .map(|edges| {
                edges
                    .iter()
                    .map(|e| e["node"]["id"].as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(ids(search("ANNA SCH").await), [first.to_string()], "by name, any case");
    assert_eq!(ids(search("schmidt@example").await), [first.to_string()], "by email");
    assert!(ids(search("nobody").await).is_empty());
    let mut all = ids(search("").await);
    all.sort();
    let mut both = vec![first.to_string(), second.to_string()];
    both.sort();
    assert_eq!(all, both, "an empty search filters nothing");
}

#[sqlx::test(migrations = false)]
async fn a_burst_of_visitor_messages_notifies_each_one_once(pool: PgPool) {
    let app = spawn_app(pool).await;
    let site = Fixture::new(&app).await;
    let ana = site.agent("Ana", Role::Agent).await;
    let mut ws = WsClient::authenticated(&app, &ana.token).await;
    ws.subscribe(
        "n",
        "subscription { notifications { kind message { body } } }",
        json!({}),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    // Many conversations at once commit many inbox batches while the
    // change feed is still reading earlier ones: it reads them merged.
    let (conversations, messages) = (30, 4);
    let opened = futures::future::join_all((0..conversations).map(|c| {
        let site = &site;
        async move { site.open_conversation_unsettled(&format!("c{c} m0")).await }
    }))
    .await;
    futures::future::join_all(opened.iter().enumerate().map(|(c, (conversation, visitor))| {
        let site = &site;
        async move {
            for m in 1..messages {
                site.visitor_says(*conversation, *visitor, &format!("c{c} m{m}")).await;
            }
        }
    }))
    .await;

    let mut seen = std::collections::BTreeMap::new();
    while seen.values().sum::<usize>() < conversations * messages {
        let note = ws.message().await;
        let body = note["payload"]["data"]["notifications"]["message"]["body"]
            .as_str()
            .unwrap_or_else(|| panic!("not a notification: {note}"))
            .to_owned();
        *seen.entry(body).or_insert(0) += 1;
    }
    let expected: std::collections::BTreeMap<String, usize> = (0..conversations)
        .flat_map(|c| (0..messages).map(move |m| (format!("c{c} m{m}"), 1)))
        .collect();
    let wrong: Vec<_> = seen.iter().filter(|(body, n)| expected.get(*body) != Some(n)).collect();
    assert!(wrong.is_empty(), "notified other than once: {wrong:?}");
    assert_eq!(seen.len(), expected.len());
}
