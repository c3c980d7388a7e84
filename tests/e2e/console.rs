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

#[sqlx::test(migrations = false)]
async fn the_inbox_counts_each_folder_with_its_filters(pool: PgPool) {
    let app = spawn_app(pool).await;
    let site = Fixture::new(&app).await;
    let ana = site.agent("Ana", Role::Agent).await;
    let mut conversations = Vec::new();
    for n in 0..4 {
        conversations.push(site.open_conversation(&format!("question {n}")).await.0);
    }
    let assign = "mutation($c: ID!) { assignToMe(conversationId: $c) { id } }";
    let done = "mutation($c: ID!) { setConversationStatus(conversationId: $c, status: DONE) { id } }";
    data(&app, &ana.token, assign, json!({ "c": conversations[0].to_string() })).await;
    data(&app, &ana.token, assign, json!({ "c": conversations[1].to_string() })).await;
    data(&app, &ana.token, done, json!({ "c": conversations[1].to_string() })).await;
    site.settle().await;

    let counts = "query($s: ID!, $me: Boolean) { conversationCounts(siteId: $s, assignedToMe: $me) { \
                  unread unresolved done all } }";
    let everyone = data(&app, &ana.token, counts, json!({ "s": site.site.to_string() })).await;
    let mine = data(
        &app,
        &ana.token,
        counts,
        json!({ "s": site.site.to_string(), "me": true }),
    )
    .await;
    let folders = |v: &serde_json::Value| {
        let c = &v["conversationCounts"];
        [&c["unread"], &c["unresolved"], &c["done"], &c["all"]].map(|n| n.as_i64().unwrap_or(-1))
    };
    assert_eq!(folders(&everyone), [3, 0, 1, 4], "{everyone}");
    assert_eq!(folders(&mine), [1, 0, 1, 2], "{mine}");

    let other = Fixture::new(&app).await;
    let (status, body) = post(&app, Some(&ana.token), counts, json!({ "s": other.site.to_string() })).await;
    assert_eq!((status, code(&body)), (200, "FORBIDDEN"), "{body}");
}

#[sqlx::test(migrations = false)]
async fn a_live_session_is_read_by_id_on_its_own_site_only(pool: PgPool) {
    let app = spawn_app(pool).await;
    let site = Fixture::new(&app).await;
    let ana = site.agent("Ana", Role::Agent).await;
    let session = site.start_session("ABC123").await;
    site.settle().await;
    let query = "query($id: ID!) { liveSession(id: $id) { id currentPath } }";

    let found = data(&app, &ana.token, query, json!({ "id": session.to_string() })).await;
    assert_eq!(found["liveSession"]["id"], session.to_string(), "{found}");
    let unknown = data(
        &app,
        &ana.token,
        query,
        json!({ "id": uuid::Uuid::now_v7().to_string() }),
    )
    .await;
    assert!(unknown["liveSession"].is_null());

    let other = Fixture::new(&app).await;
    let stranger = other.agent("Sam", Role::Agent).await;
    let (_, refused) = post(&app, Some(&stranger.token), query, json!({ "id": session.to_string() })).await;
    assert_eq!(code(&refused), "FORBIDDEN", "{refused}");
}

#[sqlx::test(migrations = false)]
async fn admins_switch_the_widget_rename_the_site_and_require_signed_identities(pool: PgPool) {
    let app = spawn_app(pool).await;
    let site = Fixture::new(&app).await;
    let ada = site.agent("Ada", Role::Admin).await;
    let ana = site.agent("Ana", Role::Agent).await;
    let s = json!({ "s": site.site.to_string() });
    let widget = "mutation($s: ID!, $on: Boolean!) { setWidgetEnabled(siteId: $s, enabled: $on) { widgetEnabled } }";
    let identity = "mutation($s: ID!, $r: Boolean!, $rotate: Boolean!) { \
                    configureIdentityVerification(siteId: $s, required: $r, rotateSecret: $rotate) { required configured secret } }";
    let vars = |extra: serde_json::Value| {
        let mut v = s.clone();
        v.as_object_mut()
            .expect("object")
            .extend(extra.as_object().expect("object").clone());
        v
    };

    // Agents may not; nothing is appended.
    let before = crate::fixtures::event_count(&app).await;
    for (query, extra) in [
        (widget, json!({ "on": false })),
        (identity, json!({ "r": true, "rotate": false })),
    ] {
        let (_, refused) = post(&app, Some(&ana.token), query, vars(extra)).await;
        assert_eq!(code(&refused), "FORBIDDEN", "{refused}");
    }
    assert_eq!(crate::fixtures::event_count(&app).await, before);

    let off = data(&app, &ada.token, widget, vars(json!({ "on": false }))).await;
    assert_eq!(off["setWidgetEnabled"]["widgetEnabled"], false);
    let start = json!({ "widgetKey": site.widget_key(), "tabId": "t1", "path": "/" });
    let mut refused = None;
    for _ in 0..50 {
        let answer = app
            .http
            .post(format!("{}/widget/v1/sessions", app.address))
            .json(&start)
            .send()
            .await
            .expect("widget");
        if answer.status() == 403 {
            refused = Some(answer.json::<serde_json::Value>().await.expect("json"));
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(refused.expect("the widget refuses")["error"]["code"], "site_disabled");
    let on = data(&app, &ada.token, widget, vars(json!({ "on": true }))).await;
    assert_eq!(on["setWidgetEnabled"]["widgetEnabled"], true);

    let first = data(&app, &ada.token, identity, vars(json!({ "r": true, "rotate": false }))).await;
    let first = &first["configureIdentityVerification"];
    let secret = first["secret"].as_str().expect("a new secret, once").to_owned();
    assert!(secret.len() >= 32 && first["required"] == true, "{first}");
    let again = data(&app, &ada.token, identity, vars(json!({ "r": false, "rotate": false }))).await;
    assert!(
        again["configureIdentityVerification"]["secret"].is_null(),
        "the secret is kept and not shown"
    );
    let rotated = data(&app, &ada.token, identity, vars(json!({ "r": true, "rotate": true }))).await;
    let rotated = rotated["configureIdentityVerification"]["secret"]
        .as_str()
        .expect("rotated");
    assert_ne!(rotated, secret);
    let shown = data(
        &app,
        &ada.token,
        "query($s: ID!) { site(id: $s) { widgetEnabled identityVerification { required configured secret } } }",
        s.clone(),
    )
    .await;
    assert_eq!(
        shown["site"]["identityVerification"],
        json!({ "required": true, "configured": true, "secret": null }),
        "{shown}"
    );

    let renamed = data(
        &app,
        &ada.token,
        "mutation($s: ID!) { updateSiteProfile(siteId: $s, name: \"Bakery\", allowedOrigins: [\"https://bakery.example\"]) \
         { name allowedOrigins } }",
        s.clone(),
    )
    .await;
    assert_eq!(renamed["updateSiteProfile"]["name"], "Bakery", "{renamed}");
    assert_eq!(
        renamed["updateSiteProfile"]["allowedOrigins"][0],
        "https://bakery.example"
    );
}
