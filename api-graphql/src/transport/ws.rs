//! GraphQL over WebSocket: the `graphql-transport-ws` protocol.
//!
//! What the server does beyond relaying operations:
//!
//! | situation | answer |
//! | --- | --- |
//! | no `graphql-transport-ws` subprotocol | close 4406 |
//! | no `connection_init` within the init timeout | close 4408 |
//! | a second `connection_init` | close 4429 |
//! | `connection_init` without a valid token | close 4403 |
//! | `subscribe` before `connection_ack` | close 4401 |
//! | `subscribe` with an id already running | close 4409 |
//! | a message that is not a protocol message | close 4400 |
//! | more subscriptions than the cap | `error` for that id, `RATE_LIMITED` |
//! | the client's send buffer is full (slow consumer) | close 4413 |
//! | no `pong` (or any message) for two ping intervals | close 4504 |
//!
//! The server pings every ping interval. Every connection has one bounded
//! outgoing queue; a subscription never waits on it: when it is full the
//! connection is closed, so a slow client stalls nobody else.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::{Request, Response};
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
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

/// `GET /graphql/ws`.
pub async fn upgrade(State(state): State<GraphQl>, ws: WebSocketUpgrade) -> impl IntoResponse {
    ws.protocols([PROTOCOL])
        .on_upgrade(move |socket| async move { Connection::run(state, socket).await })
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

/// The sending half of a connection, shared with its subscriptions.
#[derive(Clone)]
struct Outbox {
    queue: mpsc::Sender<Message>,
    closing: Arc<watch::Sender<Closing>>,
}

impl Outbox {
    /// Queues `message`; a full queue closes the connection.
    fn send(&self, message: serde_json::Value) -> bool {
        match self.queue.try_send(Message::Text(message.to_string().into())) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.close(close::SLOW_CONSUMER, "send buffer full: the client reads too slowly");
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
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
    init_received: bool,
    running: HashMap<String, AbortHandle>,
    finished: mpsc::UnboundedSender<(String, tokio::task::Id)>,
    /// Marks the agent's console as connected while the socket is open.
    _console: Option<crate::consoles::Console>,
}

impl Connection {
    async fn run(state: GraphQl, socket: WebSocket) {
        let config = state.api.config.clone();
        let protocol_ok = socket.protocol().is_some_and(|p| p.as_bytes() == PROTOCOL.as_bytes());
        let (sink, mut incoming) = socket.split();
        let (queue, outgoing) = mpsc::channel(config.ws_send_buffer.max(1));
        let (closing, closing_rx) = watch::channel(None);
        let outbox = Outbox {
            queue,
            closing: Arc::new(closing),
        };
        let writer = tokio::spawn(write(sink, outgoing, closing_rx.clone()));
        if !protocol_ok {
            outbox.close(close::SUBPROTOCOL_NOT_ACCEPTABLE, "Subprotocol not acceptable");
        }
        let (finished, mut finished_rx) = mpsc::unbounded_channel();
        let mut connection = Self {
            state,
            config: config.clone(),
            outbox: outbox.clone(),
            principal: None,
            init_received: false,
            running: HashMap::new(),
            finished,
            _console: None,
        };
        let init_deadline = Instant::now() + config.ws_init_timeout;
        let mut ping = tokio::time::interval_at(Instant::now() + config.ws_ping_interval, config.ws_ping_interval);
        let mut last_heard = Instant::now();
        let mut closing_rx = closing_rx;
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
                    } else {
                        outbox.send(serde_json::json!({ "type": "ping" }));
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
                self.outbox.send(pong);
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
        match authenticate(&self.state.api.pool, token.as_deref()).await {
            Ok(principal) => {
                if let Some(agent) = principal.agent_id() {
                    self._console = Some(self.state.api.consoles.connect(agent.0));
                }
                self.principal = Some(principal);
                self.outbox.send(serde_json::json!({ "type": "connection_ack" }));
            }
            Err(_) => self.outbox.close(close::FORBIDDEN, "Forbidden"),
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
                .send(serde_json::json!({ "type": "error", "id": id, "payload": [error] }));
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
            outbox.send(serde_json::json!({ "type": "error", "id": id, "payload": response.errors }));
            return;
        }
        first = false;
        let payload = serde_json::to_value(&response).unwrap_or_default();
        if !outbox.send(serde_json::json!({ "type": "next", "id": id, "payload": payload })) {
            return;
        }
    }
    outbox.send(serde_json::json!({ "type": "complete", "id": id }));
}

/// Writes queued messages to the socket until the connection closes, then
/// sends the close frame (giving up on a client that does not read).
async fn write(
    mut sink: futures::stream::SplitSink<WebSocket, Message>,
    mut outgoing: mpsc::Receiver<Message>,
    mut closing: watch::Receiver<Closing>,
) {
    loop {
        tokio::select! {
            biased;
            _ = closing.changed() => break,
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

    #[tokio::test]
    async fn a_full_send_buffer_closes_the_connection_as_a_slow_consumer_without_waiting() {
        let (queue, mut outgoing) = mpsc::channel(2);
        let (closing, watcher) = watch::channel(None);
        let outbox = Outbox {
            queue,
            closing: Arc::new(closing),
        };
        assert!(outbox.send(serde_json::json!({ "n": 1 })));
        assert!(outbox.send(serde_json::json!({ "n": 2 })));
        assert!(watcher.borrow().is_none());
        assert!(!outbox.send(serde_json::json!({ "n": 3 })), "the third does not fit");
        assert_eq!(
            watcher.borrow().as_ref().map(|(code, _)| *code),
            Some(close::SLOW_CONSUMER)
        );
        outbox.close(close::FORBIDDEN, "later reasons do not replace the first");
        assert_eq!(
            watcher.borrow().as_ref().map(|(code, _)| *code),
            Some(close::SLOW_CONSUMER)
        );
        assert!(outgoing.recv().await.is_some());
    }
}
