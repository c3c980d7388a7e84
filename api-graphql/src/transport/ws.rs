//! GraphQL over WebSocket: the `graphql-transport-ws` protocol.
//!
//! What the server does beyond relaying operations:
//!
//! | situation | answer |
//! | --- | --- |
//! | no `graphql-transport-ws` subprotocol | close 4406 |
//! | no `connection_init` within the init timeout | close 4408 |
//! | a second `connection_init` | close 4429 |
//! | `connection_init` without a valid token (or console session cookie) | close 4403 |
//! | the console session of the connection ended (signed out, expired) | close 4403: at once when it was ended through this process, else at the next ping |
//! | `subscribe` before `connection_ack` | close 4401 |
//! | `subscribe` with an id already running | close 4409 |
//! | a message that is not a protocol message | close 4400 |
//! | more subscriptions than the cap | `error` for that id, `RATE_LIMITED` |
//! | the client's send buffer stays full for the send timeout (slow consumer) | close 4413 |
//! | no `pong` (or any message) for two ping intervals | close 4504 |
//!
//! The server pings every ping interval. Every connection has one bounded
//! outgoing queue for its operations' messages. A subscription waits for
//! room in it, which paces a catch-up (the `events` subscription reads the
//! log only as fast as the client takes it), but at most the send timeout:
//! a client that takes nothing for that long is closed with 4413 and
//! resumes from its cursor. Memory per connection stays bounded either
//! way, and subscriptions fed by the process-wide change feed never hold
//! it up (they lag and re-read instead). Pings, pongs and the ack travel
//! in a small queue of their own that goes first, so a full data queue
//! does not starve the keep-alive.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_graphql::{Request, Response};
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use futures::{SinkExt, StreamExt};
use serde::Deserialize;
use tokio::sync::{mpsc, watch};
use tokio::task::AbortHandle;
use tokio::time::{Instant, sleep_until};

use super::{code_argument_errors, request_error};
use crate::auth::{Principal, authenticate, bearer};
use crate::{ApiConfig, GraphQl};

/// The subprotocol spoken.
pub const PROTOCOL: &str = "graphql-transport-ws";

/// Close codes.
pub mod close {
    /// A message that is not a protocol message.
    pub const INVALID_MESSAGE: u16 = 4400;
    /// `subscribe` before `connection_ack`.
    pub const UNAUTHORIZED: u16 = 4401;
    /// `connection_init` rejected (no valid token).
    pub const FORBIDDEN: u16 = 4403;
    /// The subprotocol is not `graphql-transport-ws`.
    pub const SUBPROTOCOL_NOT_ACCEPTABLE: u16 = 4406;
    /// No `connection_init` in time.
    pub const INIT_TIMEOUT: u16 = 4408;
    /// A subscription id already running.
    pub const DUPLICATE_SUBSCRIBER: u16 = 4409;
    /// The client does not read fast enough: its send buffer is full.
    pub const SLOW_CONSUMER: u16 = 4413;
    /// A second `connection_init`.
    pub const TOO_MANY_INITS: u16 = 4429;
    /// Nothing heard, not even a `pong`, for two ping intervals.
    pub const KEEPALIVE_TIMEOUT: u16 = 4504;
}

/// Counts of `/graphql/ws` connections: open now, and closed by the
/// server per close code (a client closing is not counted).
#[derive(Debug, Default)]
pub(crate) struct WsMetrics {
    open: AtomicI64,
    closed: Mutex<BTreeMap<u16, u64>>,
}

impl WsMetrics {
    fn opened(&self) {
        self.open.fetch_add(1, Ordering::Relaxed);
    }

    fn ended(&self, closing: &Closing) {
        self.open.fetch_sub(1, Ordering::Relaxed);
        if let Some((code, _)) = closing {
            let mut closed = self.closed.lock().unwrap_or_else(PoisonError::into_inner);
            *closed.entry(*code).or_default() += 1;
        }
    }

    /// Prometheus text format.
    pub(crate) fn render(&self) -> String {
        let mut out = String::from(
            "# HELP livedesk_graphql_ws_connections Open /graphql/ws connections.\n\
             # TYPE livedesk_graphql_ws_connections gauge\n",
        );
        let _ = writeln!(
            out,
            "livedesk_graphql_ws_connections {}",
            self.open.load(Ordering::Relaxed)
        );
        out.push_str(
            "# HELP livedesk_graphql_ws_closed_total /graphql/ws connections the server closed, by close code \
             (4413: slow consumer, 4504: keep-alive timeout, ...).\n\
             # TYPE livedesk_graphql_ws_closed_total counter\n",
        );
        let closed = self.closed.lock().unwrap_or_else(PoisonError::into_inner);
        for (code, count) in closed.iter() {
            let _ = writeln!(out, "livedesk_graphql_ws_closed_total{{code=\"{code}\"}} {count}");
        }
        out
    }
}

/// `GET /graphql/ws`. A browser signed in to the console is authenticated
/// by its session cookie, read here; the upgrade is refused (403) when the
/// cookie comes from a page of another origin.
pub async fn upgrade(
    State(state): State<GraphQl>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> axum::response::Response {
    let session = crate::console::cookie::session_secret(&headers).map(str::to_owned);
    if session.is_some()
        && let Err(error) = crate::console::cookie::require_same_origin_upgrade(&headers)
    {
        let body = serde_json::json!({ "error": { "code": error.code(), "message": error.message() } });
        return (StatusCode::FORBIDDEN, axum::Json(body)).into_response();
    }
    ws.protocols([PROTOCOL])
        .on_upgrade(move |socket| async move { Connection::run(state, socket, session).await })
        .into_response()
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientMessage {
    ConnectionInit {
        #[serde(default)]
        payload: Option<serde_json::Value>,
    },
    Ping {
        #[serde(default)]
        payload: Option<serde_json::Value>,
    },
    Pong {},
    Subscribe {
        id: String,
        payload: SubscribePayload,
    },
    Complete {
        id: String,
    },
}

#[derive(Debug, Deserialize)]
struct SubscribePayload {
    query: String,
    #[serde(default)]
    variables: Option<serde_json::Value>,
    #[serde(rename = "operationName", default)]
    operation_name: Option<String>,
}

/// Why the connection is being closed: code and reason.
type Closing = Option<(u16, String)>;

/// Control messages (ping, pong, ack, refusals) queued at most.
const CONTROL_QUEUE: usize = 16;

/// The sending half of a connection, shared with its subscriptions.
#[derive(Clone)]
struct Outbox {
    /// Operations' messages (`next`, `error`, `complete`), in order.
    queue: mpsc::Sender<Message>,
    /// Protocol messages, written before anything queued in `queue`.
    control: mpsc::Sender<Message>,
    /// How long an operation waits for room in `queue`.
    send_timeout: Duration,
    closing: Arc<watch::Sender<Closing>>,
}

impl Outbox {
    /// Queues a protocol message; a client that lets even these pile up is
    /// closed as a slow consumer.
    fn control(&self, message: serde_json::Value) -> bool {
        match self.control.try_send(Message::Text(message.to_string().into())) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.close(close::SLOW_CONSUMER, "send buffer full: the client reads too slowly");
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }

    /// Queues an operation's message, waiting up to the send timeout for
    /// room; `false` when the connection is gone or was closed as a slow
    /// consumer.
    async fn send(&self, message: serde_json::Value) -> bool {
        let message = Message::Text(message.to_string().into());
        match tokio::time::timeout(self.send_timeout, self.queue.send(message)).await {
            Ok(sent) => sent.is_ok(),
            Err(_) => {
                self.close(
                    close::SLOW_CONSUMER,
                    "send buffer full for the send timeout: the client reads too slowly",
                );
                false
            }
        }
    }

    fn close(&self, code: u16, reason: &str) {
        self.closing.send_if_modified(|closing| {
            if closing.is_some() {
                return false;
            }
            *closing = Some((code, reason.to_owned()));
            true
        });
    }
}

struct Connection {
    state: GraphQl,
    config: ApiConfig,
    outbox: Outbox,
    principal: Option<Principal>,
    /// The console session cookie of the upgrade, if any: it authenticates
    /// a `connection_init` without a token, and is checked again at every
    /// ping so that signing out ends the connection too.
    session: Option<String>,
    /// Whether the principal came from `session`.
    by_session: bool,
    init_received: bool,
    running: HashMap<String, AbortHandle>,
    finished: mpsc::UnboundedSender<(String, tokio::task::Id)>,
    /// Marks the agent's console as connected while the socket is open.
    _console: Option<crate::consoles::Console>,
}

impl Connection {
    async fn run(state: GraphQl, socket: WebSocket, session: Option<String>) {
        let config = state.api.config.clone();
        let api = state.api.clone();
        api.ws_metrics.opened();
        let protocol_ok = socket.protocol().is_some_and(|p| p.as_bytes() == PROTOCOL.as_bytes());
        let (sink, mut incoming) = socket.split();
        let (queue, outgoing) = mpsc::channel(config.ws_send_buffer.max(1));
        let (control, controls) = mpsc::channel(CONTROL_QUEUE);
        let (closing, closing_rx) = watch::channel(None);
        let outbox = Outbox {
            queue,
            control,
            send_timeout: config.ws_send_timeout,
            closing: Arc::new(closing),
        };
        let writer = tokio::spawn(write(sink, controls, outgoing, closing_rx.clone()));
        if !protocol_ok {
            outbox.close(close::SUBPROTOCOL_NOT_ACCEPTABLE, "Subprotocol not acceptable");
        }
        let (finished, mut finished_rx) = mpsc::unbounded_channel();
        let mut connection = Self {
            state,
            config: config.clone(),
            outbox: outbox.clone(),
            principal: None,
            session,
            by_session: false,
            init_received: false,
            running: HashMap::new(),
            finished,
            _console: None,
        };
        let init_deadline = Instant::now() + config.ws_init_timeout;
        let mut ping = tokio::time::interval_at(Instant::now() + config.ws_ping_interval, config.ws_ping_interval);
        let mut last_heard = Instant::now();
        let mut closing_rx = closing_rx;
        let mut sessions_ended = api.sessions_ended.subscribe();
        loop {
            tokio::select! {
                message = incoming.next() => match message {
                    Some(Ok(message)) => {
                        last_heard = Instant::now();
                        if !connection.receive(message).await {
                            break;
                        }
                    }
                    Some(Err(_)) | None => break,
                },
                Some((id, task)) = finished_rx.recv() => {
                    // Not a newer subscription that reused the id.
                    if connection.running.get(&id).is_some_and(|h| h.id() == task) {
                        connection.running.remove(&id);
                    }
                }
                () = sleep_until(init_deadline), if !connection.init_received => {
                    outbox.close(close::INIT_TIMEOUT, "Connection initialisation timeout");
                }
                _ = ping.tick() => {
                    if last_heard.elapsed() > config.ws_ping_interval * 2 {
                        outbox.close(close::KEEPALIVE_TIMEOUT, "no pong within two ping intervals");
                    } else if !connection.session_lives().await {
                        outbox.close(close::FORBIDDEN, "the console session has ended");
                    } else {
                        outbox.control(serde_json::json!({ "type": "ping" }));
                    }
                }
                Ok(()) = sessions_ended.changed(), if connection.by_session => {
                    if !connection.session_lives().await {
                        outbox.close(close::FORBIDDEN, "the console session has ended");
                    }
                }
                _ = closing_rx.changed() => {}
            }
            if closing_rx.borrow().is_some() {
                break;
            }
        }
        for (_, task) in connection.running.drain() {
            task.abort();
        }
        drop(connection);
        drop(outbox);
        let _ = writer.await;
        api.ws_metrics.ended(&closing_rx.borrow());
    }

    /// Handles one client message; `false` ends the connection.
    async fn receive(&mut self, message: Message) -> bool {
        let text = match message {
            Message::Text(text) => text,
            Message::Close(_) => return false,
            Message::Ping(_) | Message::Pong(_) => return true,
            Message::Binary(_) => {
                self.outbox
                    .close(close::INVALID_MESSAGE, "binary messages are not part of the protocol");
                return true;
            }
        };
        let Ok(message) = serde_json::from_str::<ClientMessage>(text.as_str()) else {
            self.outbox.close(close::INVALID_MESSAGE, "Invalid message received");
            return true;
        };
        match message {
            ClientMessage::ConnectionInit { payload } => self.init(payload).await,
            ClientMessage::Ping { payload } => {
                let mut pong = serde_json::json!({ "type": "pong" });
                if let Some(payload) = payload {
                    pong["payload"] = payload;
                }
                self.outbox.control(pong);
            }
            ClientMessage::Pong {} => {}
            ClientMessage::Subscribe { id, payload } => self.subscribe(id, payload),
            ClientMessage::Complete { id } => {
                if let Some(task) = self.running.remove(&id) {
                    task.abort();
                }
            }
        }
        true
    }

    async fn init(&mut self, payload: Option<serde_json::Value>) {
        if std::mem::replace(&mut self.init_received, true) {
            self.outbox
                .close(close::TOO_MANY_INITS, "Too many initialisation requests");
            return;
        }
        let token = payload
            .as_ref()
            .and_then(|p| p.get("authorization"))
            .and_then(|a| a.as_str())
            .and_then(bearer)
            .map(str::to_owned);
        let api = &self.state.api;
        let authenticated = match (&token, &self.session) {
            (None, Some(secret)) => {
                self.by_session = true;
                crate::console::session::resolve(&api.pool, &api.config.console, secret)
                    .await
                    .map(|(principal, _)| principal)
            }
            _ => authenticate(&api.pool, token.as_deref()).await,
        };
        match authenticated {
            Ok(principal) => {
                if let Some(agent) = principal.agent_id() {
                    self._console = Some(self.state.api.consoles.connect(agent.0));
                }
                self.principal = Some(principal);
                self.outbox.control(serde_json::json!({ "type": "connection_ack" }));
            }
            Err(_) => self.outbox.close(close::FORBIDDEN, "Forbidden"),
        }
    }

    /// Whether the console session this connection was authenticated with
    /// still lives (always, for a token).
    async fn session_lives(&self) -> bool {
        let (true, Some(secret)) = (self.by_session, &self.session) else {
            return true;
        };
        let api = &self.state.api;
        match crate::console::session::resolve(&api.pool, &api.config.console, secret).await {
            Ok(_) => true,
            Err(crate::error::ApiError::Unauthenticated(_)) => false,
            // A database hiccup does not sign anyone out.
            Err(_) => true,
        }
    }

    fn subscribe(&mut self, id: String, payload: SubscribePayload) {
        let Some(principal) = self.principal.clone() else {
            self.outbox.close(close::UNAUTHORIZED, "Unauthorized");
            return;
        };
        if self.running.contains_key(&id) {
            self.outbox.close(
                close::DUPLICATE_SUBSCRIBER,
                &format!("Subscriber for {id} already exists"),
            );
            return;
        }
        if self.running.len() >= self.config.ws_max_subscriptions {
            let error = super::coded_error(
                format!(
                    "at most {} subscriptions per connection",
                    self.config.ws_max_subscriptions
                ),
                "RATE_LIMITED",
            );
            self.outbox
                .control(serde_json::json!({ "type": "error", "id": id, "payload": [error] }));
            return;
        }
        let mut request = Request::new(payload.query).data(principal);
        if let Some(variables @ serde_json::Value::Object(_)) = payload.variables {
            request = request.variables(async_graphql::Variables::from_json(variables));
        }
        if let Some(name) = payload.operation_name {
            request = request.operation_name(name);
        }
        let stream = self.state.schema.execute_stream(request);
        let outbox = self.outbox.clone();
        let finished = self.finished.clone();
        let task_id = id.clone();
        let task = tokio::spawn(async move {
            relay(&task_id, stream, &outbox).await;
            let _ = finished.send((task_id, tokio::task::id()));
        });
        self.running.insert(id, task.abort_handle());
    }
}

/// Sends every response of one operation, then `complete` (or `error` when
/// the operation failed before it started).
async fn relay(id: &str, mut stream: futures::stream::BoxStream<'static, Response>, outbox: &Outbox) {
    let mut first = true;
    while let Some(mut response) = stream.next().await {
        code_argument_errors(&mut response);
        if first && request_error(&mut response) {
            outbox
                .send(serde_json::json!({ "type": "error", "id": id, "payload": response.errors }))
                .await;
            return;
        }
        first = false;
        let payload = serde_json::to_value(&response).unwrap_or_default();
        if !outbox
            .send(serde_json::json!({ "type": "next", "id": id, "payload": payload }))
            .await
        {
            return;
        }
    }
    outbox.send(serde_json::json!({ "type": "complete", "id": id })).await;
}

/// Writes queued messages to the socket, control messages first, until
/// the connection closes, then sends the close frame (giving up on a client
/// that does not read).
async fn write(
    mut sink: futures::stream::SplitSink<WebSocket, Message>,
    mut controls: mpsc::Receiver<Message>,
    mut outgoing: mpsc::Receiver<Message>,
    mut closing: watch::Receiver<Closing>,
) {
    loop {
        tokio::select! {
            biased;
            _ = closing.changed() => break,
            Some(message) = controls.recv() => tokio::select! {
                sent = sink.send(message) => if sent.is_err() {
                    return;
                },
                _ = closing.changed() => break,
            },
            message = outgoing.recv() => match message {
                Some(message) => tokio::select! {
                    sent = sink.send(message) => if sent.is_err() {
                        return;
                    },
                    _ = closing.changed() => break,
                },
                None => break,
            },
        }
    }
    let frame = closing.borrow().clone().map(|(code, reason)| CloseFrame {
        code,
        reason: reason.into(),
    });
    let _ = tokio::time::timeout(Duration::from_secs(1), sink.send(Message::Close(frame))).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outbox(capacity: usize, send_timeout: Duration) -> (Outbox, mpsc::Receiver<Message>, watch::Receiver<Closing>) {
        let (queue, outgoing) = mpsc::channel(capacity);
        let (control, _controls) = mpsc::channel(CONTROL_QUEUE);
        let (closing, watcher) = watch::channel(None);
        let outbox = Outbox {
            queue,
            control,
            send_timeout,
            closing: Arc::new(closing),
        };
        (outbox, outgoing, watcher)
    }

    fn code(watcher: &watch::Receiver<Closing>) -> Option<u16> {
        watcher.borrow().as_ref().map(|(code, _)| *code)
    }

    #[tokio::test(start_paused = true)]
    async fn a_send_buffer_full_for_the_send_timeout_closes_the_connection_as_a_slow_consumer() {
        let (outbox, mut outgoing, watcher) = outbox(2, Duration::from_secs(10));
        assert!(outbox.send(serde_json::json!({ "n": 1 })).await);
        assert!(outbox.send(serde_json::json!({ "n": 2 })).await);
        let started = Instant::now();
        assert!(
            !outbox.send(serde_json::json!({ "n": 3 })).await,
            "the third never fits"
        );
        assert_eq!(started.elapsed(), Duration::from_secs(10), "it waited the send timeout");
        assert_eq!(code(&watcher), Some(close::SLOW_CONSUMER));
        outbox.close(close::FORBIDDEN, "later reasons do not replace the first");
        assert_eq!(code(&watcher), Some(close::SLOW_CONSUMER));
        assert!(outgoing.recv().await.is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn a_client_that_reads_within_the_send_timeout_is_paced_not_closed() {
        let (outbox, mut outgoing, watcher) = outbox(1, Duration::from_secs(10));
        let reader = tokio::spawn(async move {
            let mut read = 0;
            while outgoing.recv().await.is_some() {
                read += 1;
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
            read
        });
        for n in 0..5 {
            assert!(outbox.send(serde_json::json!({ "n": n })).await, "message {n}");
        }
        assert_eq!(code(&watcher), None);
        drop(outbox);
        assert_eq!(reader.await.expect("reader"), 5);
    }
}
