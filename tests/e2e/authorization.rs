//! The authorisation matrix: every query, mutation and subscription with
//! no token, a revoked token, another site's token and each role that may
//! not use it answers UNAUTHENTICATED or FORBIDDEN and appends nothing.

use livedesk_domain::{AgentId, Role};
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use crate::fixtures::{Fixture, Received, WsClient, code, data, event_count, post};
use crate::helpers::{TestApp, spawn_app};

use Role::{Admin, Agent, Analyst, Integrator, Supervisor};

/// An operation and the roles that may not run it.
struct Case {
    name: &'static str,
    query: String,
    forbidden: &'static [Role],
    /// Whether another site's token is refused (false for operations on
    /// the caller's own profile, which name no site).
    site_scoped: bool,
}

fn case(name: &'static str, query: &str, forbidden: &'static [Role]) -> Case {
    Case {
        name,
        query: query.to_owned(),
        forbidden,
        site_scoped: true,
    }
}

const HANDLERS_ONLY: &[Role] = &[Analyst, Integrator];
const CONTENT: &[Role] = &[Agent, Analyst, Integrator];
const ADMINS_ONLY: &[Role] = &[Supervisor, Agent, Analyst, Integrator];

fn cases(site: Uuid, conversation: Uuid, visitor: Uuid, agent: Uuid, team: Uuid) -> Vec<Case> {
    let c = format!("conversationId: \"{conversation}\"");
    let s = format!("siteId: \"{site}\"");
    let mut own = vec![
        case("me", "{ me { role } }", &[]),
        case(
            "setDisplayName",
            "mutation { setDisplayName(displayName: \"X\") { id } }",
            HANDLERS_ONLY,
        ),
        case(
            "setPresence",
            "mutation { setPresence(presence: ONLINE) { id } }",
            HANDLERS_ONLY,
        ),
        case(
            "setNotificationPreference",
            "mutation { setNotificationPreference(preference: NONE) { id } }",
            HANDLERS_ONLY,
        ),
    ];
    for own in &mut own {
        own.site_scoped = false;
    }
    let mut all = vec![
        case(
            "liveSessions",
            &format!("{{ liveSessions({s}) {{ onlineCount }} }}"),
            &[],
        ),
        case(
            "sessionByCode",
            &format!("{{ sessionByCode({s}, code: \"ABCD12\") {{ id }} }}"),
            &[],
        ),
        case(
            "conversations",
            &format!("{{ conversations({s}) {{ edges {{ cursor }} }} }}"),
            &[],
        ),
        case(
            "conversation",
            &format!("{{ conversation(id: \"{conversation}\") {{ id }} }}"),
            &[],
        ),
        case("visitor", &format!("{{ visitor(id: \"{visitor}\") {{ id }} }}"), &[]),
        case("textBlocks", &format!("{{ textBlocks({s}) {{ id }} }}"), &[]),
        case("agents", &format!("{{ agents({s}) {{ id }} }}"), &[]),
        case("teams", &format!("{{ teams({s}) {{ id }} }}"), &[]),
        case("site", &format!("{{ site(id: \"{site}\") {{ id }} }}"), &[]),
        case("apiTokens", &format!("{{ apiTokens({s}) {{ id }} }}"), ADMINS_ONLY),
        case(
            "assignToMe",
            &format!("mutation {{ assignToMe({c}) {{ id }} }}"),
            HANDLERS_ONLY,
        ),
        case(
            "assignConversation",
            &format!("mutation {{ assignConversation({c}, agentId: \"{agent}\") {{ id }} }}"),
            HANDLERS_ONLY,
        ),
        case(
            "unassign",
            &format!("mutation {{ unassign({c}) {{ id }} }}"),
            HANDLERS_ONLY,
        ),
        case(
            "setConversationStatus",
            &format!("mutation {{ setConversationStatus({c}, status: DONE) {{ id }} }}"),
            HANDLERS_ONLY,
        ),
        case(
            "sendMessage",
            &format!("mutation {{ sendMessage({c}, body: \"hi\") {{ conversation {{ id }} }} }}"),
            &[Analyst],
        ),
        case(
            "addNote",
            &format!("mutation {{ addNote({c}, body: \"n\") {{ id }} }}"),
            HANDLERS_ONLY,
        ),
        case(
            "takeOver",
            &format!("mutation {{ takeOver({c}) {{ id }} }}"),
            HANDLERS_ONLY,
        ),
        case(
            "release",
            &format!("mutation {{ release({c}) {{ id }} }}"),
            HANDLERS_ONLY,
        ),
        case(
            "watchConversation",
            &format!("mutation {{ watchConversation({c}) {{ id }} }}"),
            HANDLERS_ONLY,
        ),
        case(
            "sendSpecialRequest",
            &format!("mutation {{ sendSpecialRequest({c}, kind: CO_BROWSING) {{ id }} }}"),
            HANDLERS_ONLY,
        ),
        case(
            "exportTranscript",
            &format!("mutation {{ exportTranscript({c}) }}"),
            &[Integrator],
        ),
        case(
            "updateVisitorInfo",
            &format!(
                "mutation {{ updateVisitorInfo(visitorId: \"{visitor}\", info: {{labels: [\"vip\"]}}) {{ id }} }}"
            ),
            HANDLERS_ONLY,
        ),
        case(
            "connectByCode",
            &format!("mutation {{ connectByCode({s}, code: \"ABCD12\") {{ id }} }}"),
            HANDLERS_ONLY,
        ),
        case(
            "updateSiteSettings",
            &format!(
                "mutation {{ updateSiteSettings({s}, settings: {{keepSessionAcrossTabs: true, persistentVisitorIds: true, \
                 maxSessionDurationSecs: 3600, idleTimeoutSecs: 300, leaveTimeoutSecs: 30, maxMessageChars: 5000}}) {{ id }} }}"
            ),
            ADMINS_ONLY,
        ),
        case(
            "defineCustomFields",
            &format!(
                "mutation {{ defineCustomFields({s}, fields: [{{key: \"plan\", label: \"Plan\", kind: \"text\"}}]) {{ id }} }}"
            ),
            ADMINS_ONLY,
        ),
        case(
            "addTextBlock",
            &format!("mutation {{ addTextBlock({s}, shortcut: \"hi\", title: \"Hi\", body: \"Hello\") {{ id }} }}"),
            CONTENT,
        ),
        case(
            "createTeam",
            &format!("mutation {{ createTeam({s}, name: \"Sales\") {{ id }} }}"),
            CONTENT,
        ),
        case(
            "addTeamMember",
            &format!("mutation {{ addTeamMember(teamId: \"{team}\", agentId: \"{agent}\") {{ id }} }}"),
            CONTENT,
        ),
        case(
            "issueApiToken",
            &format!("mutation {{ issueApiToken({s}, name: \"x\", role: ANALYST) {{ secret }} }}"),
            ADMINS_ONLY,
        ),
        case(
            "revokeApiToken",
            &format!(
                "mutation {{ revokeApiToken({s}, id: \"{}\") {{ id }} }}",
                Uuid::now_v7()
            ),
            ADMINS_ONLY,
        ),
        case(
            "conversationAsOf",
            &format!("{{ conversationAsOf(id: \"{conversation}\", at: \"2026-01-01T00:00:00Z\") {{ id }} }}"),
            &[Agent],
        ),
    ];
    // An unknown session: another site's token gets `null` here; its
    // refusal of a real one is in `as_of.rs`.
    let mut session = case(
        "sessionAsOf",
        &format!(
            "{{ sessionAsOf(id: \"{}\", at: \"2026-01-01T00:00:00Z\") {{ id }} }}",
            Uuid::now_v7()
        ),
        &[Agent],
    );
    session.site_scoped = false;
    all.push(session);
    all.extend(own);
    all
}

fn subscriptions(site: Uuid, conversation: Uuid) -> Vec<(&'static str, String, &'static [Role])> {
    vec![
        (
            "liveSessionsChanged",
            format!("subscription {{ liveSessionsChanged(siteId: \"{site}\") {{ onlineCount }} }}"),
            &[],
        ),
        (
            "conversationsChanged",
            format!("subscription {{ conversationsChanged(siteId: \"{site}\") {{ snapshot }} }}"),
            &[],
        ),
        (
            "conversationEvents",
            format!("subscription {{ conversationEvents(conversationId: \"{conversation}\") {{ snapshot }} }}"),
            &[],
        ),
        (
            "notifications",
            "subscription { notifications { kind } }".to_owned(),
            HANDLERS_ONLY,
        ),
    ]
}

async fn refused(app: &TestApp, token: Option<&str>, case: &Case, expected: &[&str]) {
    let before = event_count(app).await;
    let (status, body) = post(app, token, &case.query, json!({})).await;
    assert!(
        expected.contains(&code(&body)),
        "{} with {token:?}: expected {expected:?}, got {status} {body}",
        case.name
    );
    assert_eq!(
        event_count(app).await,
        before,
        "{} appended events when refused",
        case.name
    );
}

#[sqlx::test(migrations = false)]
async fn every_operation_refuses_callers_without_the_right_token_or_role_and_appends_nothing(pool: PgPool) {
    let app = spawn_app(pool).await;
    let site = Fixture::new(&app).await;
    let other = Fixture::new(&app).await;
    let admin = site.agent("Ada", Admin).await;
    let supervisor = site.agent("Sue", Supervisor).await;
    let agent = site.agent("Ana", Agent).await;
    let analyst = site.agent("Al", Analyst).await;
    let integrator = site.token("Bot", Integrator, None).await;
    let revoked = site.token("Old", Admin, Some((AgentId(admin.id), Admin))).await;
    site.revoke(&app, &revoked).await;
    let stranger = other.agent("Olga", Admin).await;
    let (conversation, visitor) = site.open_conversation("hi").await;
    let team = data(
        &app,
        &admin.token,
        "mutation($site: ID!) { createTeam(siteId: $site, name: \"Support\") { id } }",
        json!({ "site": site.site.to_string() }),
    )
    .await["createTeam"]["id"]
        .as_str()
        .unwrap_or_default()
        .parse::<Uuid>()
        .expect("team id");
    let tokens = [
        (Admin, admin.token.clone()),
        (Supervisor, supervisor.token.clone()),
        (Agent, agent.token.clone()),
        (Analyst, analyst.token.clone()),
        (Integrator, integrator.clone()),
    ];
    let cases = cases(site.site, conversation, visitor, agent.id, team);
    for case in &cases {
        refused(&app, None, case, &["UNAUTHENTICATED"]).await;
        refused(&app, Some("ldk_not-a-token"), case, &["UNAUTHENTICATED"]).await;
        refused(&app, Some(&revoked), case, &["UNAUTHENTICATED"]).await;
        if case.site_scoped {
            refused(&app, Some(&stranger.token), case, &["FORBIDDEN"]).await;
        }
        for (role, token) in &tokens {
            if case.forbidden.contains(role) {
                refused(&app, Some(token), case, &["FORBIDDEN"]).await;
            }
        }
    }
    // The roles not refused really may: a read with each token works.
    for (_, token) in &tokens {
        let read = data(&app, token, &cases[2].query, json!({})).await;
        assert!(read["conversations"]["edges"].is_array());
    }

    for (name, query, forbidden) in subscriptions(site.site, conversation) {
        for token in [None, Some(revoked.as_str())] {
            let mut ws = WsClient::connect(&app).await;
            ws.init(token.unwrap_or("")).await;
            assert_eq!(ws.close_code().await, Some(4403), "{name} with {token:?}");
        }
        let mut refusals: Vec<&str> = vec![stranger.token.as_str()];
        refusals.extend(
            tokens
                .iter()
                .filter(|(r, _)| forbidden.contains(r))
                .map(|(_, t)| t.as_str()),
        );
        if name == "notifications" {
            refusals.retain(|t| *t != stranger.token.as_str());
        }
        for token in refusals {
            let before = event_count(&app).await;
            let mut ws = WsClient::authenticated(&app, token).await;
            ws.subscribe("1", &query, json!({})).await;
            let message = ws.message().await;
            let errors: &Value = if message["type"] == "error" {
                &message["payload"]
            } else {
                &message["payload"]["errors"]
            };
            assert_eq!(errors[0]["extensions"]["code"], "FORBIDDEN", "{name}: {message}");
            assert_eq!(event_count(&app).await, before);
            ws.close().await;
        }
        let mut ws = WsClient::authenticated(&app, &admin.token).await;
        ws.subscribe("1", &query, json!({})).await;
        if name != "notifications" {
            match ws.receive().await {
                Received::Message(m) => assert_eq!(m["type"], "next", "{name} for an admin: {m}"),
                Received::Closed(code) => panic!("{name}: closed {code:?}"),
            }
        }
        ws.close().await;
    }
}

#[sqlx::test(migrations = false)]
async fn a_token_gives_an_agent_no_more_than_their_current_role(pool: PgPool) {
    let app = spawn_app(pool).await;
    let site = Fixture::new(&app).await;
    let sue = site.agent("Sue", Supervisor).await;
    let me = data(&app, &sue.token, "{ me { role } }", json!({})).await;
    assert_eq!(me["me"]["role"], "SUPERVISOR");

    site.change_role(&sue, Some(Agent)).await;
    let (_, body) = post(&app, Some(&sue.token), "{ me { role } }", json!({})).await;
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
}

#[sqlx::test(migrations = false)]
async fn a_team_takes_only_agents_of_its_site_and_appends_nothing_otherwise(pool: PgPool) {
    let app = spawn_app(pool).await;
    let site = Fixture::new(&app).await;
    let other = Fixture::new(&app).await;
    let ada = site.agent("Ada", Admin).await;
    let stranger = other.agent("Stan", Agent).await;
    let team = data(
        &app,
        &ada.token,
        "mutation($s: ID!) { createTeam(siteId: $s, name: \"Billing\") { id } }",
        json!({ "s": site.site.to_string() }),
    )
    .await;
    let team = team["createTeam"]["id"].as_str().expect("team id").to_owned();
    let before = event_count(&app).await;
    for agent in [stranger.id, Uuid::now_v7()] {
        let (_, body) = post(
            &app,
            Some(&ada.token),
            "mutation($t: ID!, $a: ID!) { addTeamMember(teamId: $t, agentId: $a) { id } }",
            json!({ "t": team, "a": agent.to_string() }),
        )
        .await;
        assert_eq!(code(&body), "NOT_FOUND", "{body}");
    }
    assert_eq!(event_count(&app).await, before, "nothing appended");
}
