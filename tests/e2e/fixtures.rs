//! What GraphQL tests start from: a site, agents with tokens, open
//! conversations, written through the command service as the widget and
//! admins would; and clients for `/graphql` and `/graphql/ws`.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::Utc;
use futures::{SinkExt, StreamExt};
use livedesk_api::tokens::{self, TokenRequest};
use livedesk_domain::agent::{Agent, AgentCommand};
use livedesk_domain::conversation::{Conversation, ConversationCommand, Provider};
use livedesk_domain::session::{ClientInfo, DeviceClass, Session, SessionCode, SessionCommand};
use livedesk_domain::site::{Site, SiteCommand};
use livedesk_domain::visitor::{Visitor, VisitorCommand, VisitorTag};
use livedesk_domain::{Actor, AgentId, ConversationId, MessageId, Metadata, Role, SessionId, SiteId, VisitorId};
use livedesk_eventstore::{CommandContext, CommandService, EventStore, PgEventStore};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use uuid::Uuid;

use crate::helpers::TestApp;

fn context(site: Uuid) -> CommandContext {
    CommandContext {
        metadata: Metadata {
            site_id: Some(site),
            actor: Some(Actor::System),
            ..Metadata::default()
        },
    }
}

/// A site with agents, tokens and conversations.
pub struct Fixture {
    pub site: Uuid,
    store: PgEventStore,
    projections: std::sync::Arc<livedesk_projections::ProjectionRuntime>,
}

/// An agent of a fixture with a token acting as them.
#[derive(Debug, Clone)]
pub struct Person {
    pub id: Uuid,
    pub name: String,
    pub token: String,
}

impl Fixture {
    /// A new site, once every projector of the server has started.
    pub async fn new(app: &TestApp) -> Self {
        let site = Uuid::now_v7();
        let sites: CommandService<PgEventStore, Site> = CommandService::new(app.store.clone(), 4);
        let command = SiteCommand::Create {
            site_id: SiteId(site),
            name: "Shop".into(),
            allowed_origins: vec!["https://shop.example".into()],
            widget_key: format!("key{}", site.simple()),
            at: Utc::now(),
        };
        sites.execute(site, command, &context(site)).await.expect("site");
        let fixture = Self {
            site,
            store: app.store.clone(),
            projections: app.projections.clone(),
        };
        fixture.settle().await;
        fixture
    }

    /// The site's widget key.
    pub fn widget_key(&self) -> String {
        format!("key{}", self.site.simple())
    }

    /// Runs a site command as an admin would, and waits for the read models.
    pub async fn site_command(&self, command: SiteCommand) {
        let sites: CommandService<PgEventStore, Site> = CommandService::new(self.store.clone(), 4);
        sites
            .execute(self.site, command, &context(self.site))
            .await
            .expect("site command");
        self.settle().await;
    }

    /// Waits until every read model shows everything appended so far.
    pub async fn settle(&self) {
        let head = self.store.head().await.expect("head");
        self.projections
            .wait_for_all(head, Duration::from_secs(10))
            .await
            .expect("projectors caught up");
    }

    /// An activated agent with `role` here, and a token of that role
    /// acting as them.
    pub async fn agent(&self, name: &str, role: Role) -> Person {
        let id = Uuid::now_v7();
        let agents: CommandService<PgEventStore, Agent> = CommandService::new(self.store.clone(), 4);
        let invite = AgentCommand::Invite {
            agent_id: AgentId(id),
            email: format!("{}@shop.example", name.to_lowercase()),
            name: name.into(),
            roles: BTreeMap::from([(SiteId(self.site), role)]),
            at: Utc::now(),
        };
        agents.execute(id, invite, &context(self.site)).await.expect("invite");
        let activate = AgentCommand::Activate { at: Utc::now() };
        agents
            .execute(id, activate, &context(self.site))
            .await
            .expect("activate");
        let token = self.token(name, role, Some((AgentId(id), role))).await;
        Person {
            id,
            name: name.into(),
            token,
        }
    }

    /// [`Fixture::agent`] with a console password set, as the invitation
    /// link sets it. Their email is `{name in lower case}@shop.example`.
    pub async fn agent_with_password(&self, name: &str, role: Role, password: &str) -> Person {
        let person = self.agent(name, role).await;
        let agents: CommandService<PgEventStore, Agent> = CommandService::new(self.store.clone(), 4);
        livedesk_api::console::password::set(
            self.store.pool(),
            &agents,
            person.id,
            password.to_owned(),
            &context(self.site),
        )
        .await
        .expect("set the password");
        self.settle().await;
        person
    }

    /// Gives `agent` `role` here (`None`: no role), and waits for the
    /// read models.
    pub async fn change_role(&self, agent: &Person, role: Option<Role>) {
        let agents: CommandService<PgEventStore, Agent> = CommandService::new(self.store.clone(), 4);
        let command = AgentCommand::ChangeRole {
            site_id: SiteId(self.site),
            role,
            at: Utc::now(),
        };
        agents
            .execute(agent.id, command, &context(self.site))
            .await
            .expect("change role");
        self.settle().await;
    }

    /// A token acting as no agent (an integrator's is named `name`).
    pub async fn token(&self, name: &str, role: Role, agent: Option<(AgentId, Role)>) -> String {
        self.token_request(TokenRequest {
            site_id: self.site,
            name: name.into(),
            role,
            event_categories: Vec::new(),
            agent,
        })
        .await
    }

    /// A token acting as no agent whose history reads are limited to
    /// `categories`.
    pub async fn scoped_token(&self, name: &str, role: Role, categories: &[livedesk_domain::StreamCategory]) -> String {
        self.token_request(TokenRequest {
            site_id: self.site,
            name: name.into(),
            role,
            event_categories: categories.to_vec(),
            agent: None,
        })
        .await
    }

    async fn token_request(&self, request: TokenRequest) -> String {
        let sites: CommandService<PgEventStore, Site> = CommandService::new(self.store.clone(), 4);
        let issued = tokens::issue(&sites, request, context(self.site).metadata)
            .await
            .expect("token");
        self.settle().await;
        issued.secret
    }

    /// Revokes the token whose secret is `secret`.
    pub async fn revoke(&self, app: &TestApp, secret: &str) {
        let hash = livedesk_api::auth::hash(secret);
        let id: Uuid = sqlx::query_scalar("SELECT token_id FROM api_tokens WHERE token_hash = $1")
            .bind(hash)
            .fetch_one(app.store.pool())
            .await
            .expect("token row");
        let sites: CommandService<PgEventStore, Site> = CommandService::new(self.store.clone(), 4);
        tokens::revoke(&sites, self.site, id, context(self.site).metadata)
            .await
            .expect("revoke");
        self.settle().await;
    }

    /// A web chat a visitor opened with one message; not yet settled.
    pub async fn open_conversation_unsettled(&self, text: &str) -> (Uuid, Uuid) {
        let visitor = Uuid::now_v7();
        let visitors: CommandService<PgEventStore, Visitor> = CommandService::new(self.store.clone(), 4);
        let seen = VisitorCommand::FirstSeen {
            visitor_id: VisitorId(visitor),
            site_id: SiteId(self.site),
            at: Utc::now(),
        };
        visitors
            .execute(visitor, seen, &context(self.site))
            .await
            .expect("visitor");
        let conversation = Uuid::now_v7();
        let open = ConversationCommand::open(
            ConversationId(conversation),
            SiteId(self.site),
            VisitorId(visitor),
            None,
            Provider::WebChat,
            Utc::now(),
        );
        self.conversation_command(conversation, open).await;
        self.visitor_says(conversation, visitor, text).await;
        (conversation, visitor)
    }

    /// A web chat a visitor opened with one message, in the inbox.
    pub async fn open_conversation(&self, text: &str) -> (Uuid, Uuid) {
        let opened = self.open_conversation_unsettled(text).await;
        self.settle().await;
        opened
    }

    /// The visitor posts a message (through the command service, as the
    /// widget API does).
    pub async fn visitor_says(&self, conversation: Uuid, visitor: Uuid, text: &str) {
        let message =
            ConversationCommand::post_visitor_message(MessageId(Uuid::now_v7()), VisitorId(visitor), text, Utc::now());
        self.conversation_command(conversation, message).await;
    }

    /// The visitor's site tags them with a name and an email.
    pub async fn tag_visitor(&self, visitor: Uuid, first_name: &str, last_name: &str, email: &str) {
        let visitors: CommandService<PgEventStore, Visitor> = CommandService::new(self.store.clone(), 4);
        let tag = VisitorCommand::Tag {
            tag: VisitorTag {
                first_name: Some(first_name.into()),
                last_name: Some(last_name.into()),
                email: Some(email.into()),
                ..VisitorTag::default()
            },
            at: Utc::now(),
        };
        visitors.execute(visitor, tag, &context(self.site)).await.expect("tag");
    }

    /// A live session on the site whose visitor shared the code `code`.
    pub async fn start_session(&self, code: &str) -> Uuid {
        let session = Uuid::now_v7();
        let sessions: CommandService<PgEventStore, Session> = CommandService::new(self.store.clone(), 4);
        let start = SessionCommand::Start {
            session_id: SessionId(session),
            site_id: SiteId(self.site),
            visitor_id: VisitorId(Uuid::now_v7()),
            tab_id: "tab-1".into(),
            client: ClientInfo {
                browser: "Firefox 131".into(),
                device: DeviceClass::Desktop,
                os: "Linux".into(),
                country: Some("SI".into()),
                languages: Vec::new(),
            },
            entry_path: "/pricing".into(),
            referrer: None,
            code: SessionCode::parse(code).expect("code"),
            max_duration_secs: 3600,
            at: Utc::now(),
        };
        sessions
            .execute(session, start, &context(self.site))
            .await
            .expect("session");
        let share = SessionCommand::ShareCode { at: Utc::now() };
        sessions
            .execute(session, share, &context(self.site))
            .await
            .expect("share code");
        self.settle().await;
        session
    }

    async fn conversation_command(&self, id: Uuid, command: ConversationCommand) {
        let service: CommandService<PgEventStore, Conversation> = CommandService::new(self.store.clone(), 4);
        service
            .execute(id, command, &context(self.site))
            .await
            .expect("conversation command");
    }
}

/// The number of events in the store.
pub async fn event_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(app.store.pool())
        .await
        .expect("count events")
}

/// POSTs a GraphQL request and returns status and body.
pub async fn post(app: &TestApp, token: Option<&str>, query: &str, variables: Value) -> (u16, Value) {
    let mut request = app
        .http
        .post(format!("{}/graphql", app.address))
        .header("accept", "application/graphql-response+json")
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.expect("json body"))
}

/// POSTs a GraphQL request expected to succeed; returns `data`.
pub async fn data(app: &TestApp, token: &str, query: &str, variables: Value) -> Value {
    let (status, body) = post(app, Some(token), query, variables).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "unexpected errors: {body}");
    body["data"].clone()
}

/// The `extensions.code` of the first error.
pub fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or("<none>")
}

/// A graphql-transport-ws client.
pub struct WsClient {
    socket: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
}

/// What the server sent: a message, or a close with its code.
#[derive(Debug)]
pub enum Received {
    Message(Value),
    Closed(Option<u16>),
}

impl WsClient {
    /// A client over a socket connected elsewhere.
    pub fn from_socket(
        socket: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    ) -> Self {
        Self { socket }
    }

    /// Connects with the `graphql-transport-ws` subprotocol.
    pub async fn connect(app: &TestApp) -> Self {
        let url = format!("{}/graphql/ws", app.address.replacen("http", "ws", 1));
        let mut request = url.into_client_request().expect("request");
        request.headers_mut().insert(
            "sec-websocket-protocol",
            "graphql-transport-ws".parse().expect("header"),
        );
        let (socket, _) = tokio_tungstenite::connect_async(request).await.expect("ws connect");
        Self { socket }
    }

    /// Connects, sends `connection_init` with `token` and expects the ack.
    pub async fn authenticated(app: &TestApp, token: &str) -> Self {
        let mut client = Self::connect(app).await;
        client.init(token).await;
        match client.receive().await {
            Received::Message(m) if m["type"] == "connection_ack" => client,
            other => panic!("expected connection_ack, got {other:?}"),
        }
    }

    /// Sends `connection_init` with the token.
    pub async fn init(&mut self, token: &str) {
        self.send(json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } }))
            .await;
    }

    /// Sends a JSON message.
    pub async fn send(&mut self, message: Value) {
        self.socket
            .send(Message::Text(message.to_string().into()))
            .await
            .expect("ws send");
    }

    /// Starts an operation.
    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(json!({ "type": "subscribe", "id": id, "payload": { "query": query, "variables": variables } }))
            .await;
    }

    /// The next protocol message or close (server pings answered and
    /// skipped), within 10 seconds.
    pub async fn receive(&mut self) -> Received {
        loop {
            let next = tokio::time::timeout(Duration::from_secs(10), self.socket.next())
                .await
                .expect("a message within 10 s");
            match next {
                Some(Ok(Message::Text(text))) => {
                    let value: Value = serde_json::from_str(text.as_str()).expect("json message");
                    if value["type"] == "ping" {
                        self.send(json!({ "type": "pong" })).await;
                        continue;
                    }
                    return Received::Message(value);
                }
                Some(Ok(Message::Close(frame))) => return Received::Closed(frame.map(|f| u16::from(f.code))),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Received::Closed(None),
            }
        }
    }

    /// The next message, which must not be a close.
    pub async fn message(&mut self) -> Value {
        match self.receive().await {
            Received::Message(m) => m,
            Received::Closed(code) => panic!("closed with {code:?} while a message was expected"),
        }
    }

    /// The close code the server ends the connection with.
    pub async fn close_code(&mut self) -> Option<u16> {
        loop {
            if let Received::Closed(code) = self.receive().await {
                return code;
            }
        }
    }

    /// Every message until the server closes, never answering pings, and
    /// the close code. Waits up to a minute for each message: the callers
    /// read after the server has had to give up on them, which on a loaded
    /// CI machine can take a while.
    pub async fn raw_until_close(&mut self) -> (Vec<Value>, Option<u16>) {
        let mut seen: Vec<Value> = Vec::new();
        loop {
            let Ok(next) = tokio::time::timeout(Duration::from_secs(60), self.socket.next()).await else {
                panic!(
                    "neither a message nor a close within 60 s, after {} messages (the last: {:?})",
                    seen.len(),
                    seen.last().map(|m| m["type"].clone())
                );
            };
            match next {
                Some(Ok(Message::Text(text))) => {
                    seen.push(serde_json::from_str(text.as_str()).expect("json message"));
                }
                Some(Ok(Message::Close(frame))) => return (seen, frame.map(|f| u16::from(f.code))),
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return (seen, None),
            }
        }
    }

    /// Closes the connection from the client side.
    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }
}
