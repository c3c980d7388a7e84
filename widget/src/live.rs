//! Live delivery: one tail of the log per process feeds every widget
//! WebSocket of the process. A socket subscribes with its session, its
//! visitor and its conversation; conversation events the visitor may see
//! (`visible_to_visitor`: never notes, assignment or status) and the
//! session's connection requests and end are sent as JSON. Agents' typing
//! notices (from the [`TypingRelay`](livedesk_eventstore::TypingRelay),
//! not the log) go to the sockets of their conversation as `typing`.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use futures::StreamExt;
use livedesk_domain::conversation::{Conversation, ConversationEvent};
use livedesk_domain::session::{Session, SessionEvent};
use livedesk_domain::{Aggregate, RecordedEvent};
use livedesk_eventstore::{EventStore, Filter, PgEventStore, TypingNotice, Typist};
use serde_json::json;
use tokio::sync::{broadcast, mpsc};
use uuid::Uuid;

use crate::view::{Labels, agent_label};

/// A frame for one or more sockets.
pub type Frame = Arc<str>;

#[derive(Debug, Default)]
struct Registry {
    next: u64,
    sockets: HashMap<u64, Socket>,
    by_key: HashMap<Uuid, HashSet<u64>>,
}

#[derive(Debug)]
struct Socket {
    session: Uuid,
    keys: Vec<Uuid>,
    queue: mpsc::Sender<Frame>,
}

/// The sockets of this process and the task feeding them.
#[derive(Debug, Clone)]
pub struct Hub {
    registry: Arc<Mutex<Registry>>,
    labels: Labels,
}

/// A socket's registration; dropping it unsubscribes.
#[derive(Debug)]
pub struct Subscription {
    hub: Hub,
    id: u64,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut registry = self.hub.lock();
        if let Some(socket) = registry.sockets.remove(&self.id) {
            for key in socket.keys {
                if let Some(ids) = registry.by_key.get_mut(&key) {
                    ids.remove(&self.id);
                    if ids.is_empty() {
                        registry.by_key.remove(&key);
                    }
                }
            }
        }
    }
}

impl Hub {
    /// A hub with no sockets.
    pub fn new(labels: Labels) -> Self {
        Self {
            registry: Arc::default(),
            labels,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Delivers what concerns `session`, `visitor` and `conversation` to
    /// `queue` until the subscription is dropped.
    pub fn subscribe(
        &self,
        session: Uuid,
        visitor: Uuid,
        conversation: Uuid,
        queue: mpsc::Sender<Frame>,
    ) -> Subscription {
        let mut registry = self.lock();
        registry.next += 1;
        let id = registry.next;
        let keys = vec![session, visitor, conversation];
        for key in &keys {
            registry.by_key.entry(*key).or_default().insert(id);
        }
        registry.sockets.insert(id, Socket { session, keys, queue });
        Subscription { hub: self.clone(), id }
    }

    /// Sessions with an open socket in this process.
    pub fn connected_sessions(&self) -> Vec<Uuid> {
        let registry = self.lock();
        let sessions: HashSet<Uuid> = registry.sockets.values().map(|s| s.session).collect();
        sessions.into_iter().collect()
    }

    /// Follows the log from its head now until the process ends.
    pub async fn follow(self, store: PgEventStore) {
        let filter = Filter {
            categories: vec![Conversation::CATEGORY.to_owned(), Session::CATEGORY.to_owned()],
            ..Filter::default()
        };
        let mut after = loop {
            match store.head().await {
                Ok(head) => break head,
                Err(error) => {
                    tracing::warn!(%error, "widget live feed cannot read the head; retrying");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
            }
        };
        loop {
            let mut events = store.subscribe_all(after, filter.clone());
            while let Some(next) = events.next().await {
                match next {
                    Ok(event) => {
                        after = event.position;
                        self.dispatch(&event);
                    }
                    Err(error) => {
                        tracing::warn!(%error, "widget live feed interrupted; resubscribing");
                        break;
                    }
                }
            }
        }
    }

    fn dispatch(&self, event: &RecordedEvent) {
        let Ok(key) = Uuid::parse_str(event.stream.id()) else {
            return;
        };
        let frame = match event.stream.category() {
            "conversation" => match event.decode::<ConversationEvent>() {
                Ok(ConversationEvent::Opened(opened)) => {
                    self.attach(opened.visitor_id.0, key);
                    None
                }
                Ok(e) => self.conversation_frame(key, &e),
                Err(_) => None,
            },
            _ => event.decode::<SessionEvent>().ok().and_then(|e| session_frame(&e)),
        };
        if let Some(frame) = frame {
            self.send(key, &frame);
        }
    }

    /// Agents' typing notices, until the relay is gone. The visitor's own
    /// are not echoed back to them.
    pub async fn follow_typing(self, mut notices: broadcast::Receiver<Arc<TypingNotice>>) {
        loop {
            match notices.recv().await {
                Ok(notice) => {
                    if let Some(frame) = typing_frame(&notice) {
                        self.send(notice.conversation_id, &frame);
                    }
                }
                // Missed notices lapse on the client by themselves.
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    }

    /// Queues `frame` on every socket subscribed to `key`.
    fn send(&self, key: Uuid, frame: &serde_json::Value) {
        let frame: Frame = Arc::from(frame.to_string());
        let registry = self.lock();
        for id in registry.by_key.get(&key).into_iter().flatten() {
            if let Some(socket) = registry.sockets.get(id) {
                // A full queue means a stalled socket: it closes itself
                // when it notices (see `ws`); others are not held up.
                let _ = socket.queue.try_send(frame.clone());
            }
        }
    }

    /// Sockets of `visitor` also get `conversation` (a conversation opened
    /// after they connected).
    fn attach(&self, visitor: Uuid, conversation: Uuid) {
        let mut registry = self.lock();
        let ids: Vec<u64> = registry.by_key.get(&visitor).into_iter().flatten().copied().collect();
        for id in ids {
            if let Some(socket) = registry.sockets.get_mut(&id)
                && !socket.keys.contains(&conversation)
            {
                socket.keys.push(conversation);
                registry.by_key.entry(conversation).or_default().insert(id);
            }
        }
    }

    fn conversation_frame(&self, conversation: Uuid, event: &ConversationEvent) -> Option<serde_json::Value> {
        if !event.visible_to_visitor() {
            return None;
        }
        Some(match event {
            ConversationEvent::MessagePosted(m) => json!({
                "type": "message",
                "conversationId": conversation,
                "message": self.labels.posted(conversation, m),
            }),
            ConversationEvent::TakenOver(e) => json!({
                "type": "handled_by",
                "conversationId": conversation,
                "handledBy": self.labels.handled_by(Some(&e.agent)),
            }),
            ConversationEvent::Released(_) => json!({
                "type": "handled_by",
                "conversationId": conversation,
                "handledBy": self.labels.handled_by(None),
            }),
            ConversationEvent::HumanRequested(_) => json!({
                "type": "human_requested",
                "conversationId": conversation,
            }),
            ConversationEvent::SpecialRequestSent(e) => json!({
                "type": "special_request",
                "conversationId": conversation,
                "requestId": e.request_id.0,
                "kind": e.kind,
                "from": agent_label(&e.by.display_name),
            }),
            ConversationEvent::SpecialRequestAnswered(e) => json!({
                "type": "special_request_answered",
                "conversationId": conversation,
                "requestId": e.request_id.0,
                "answer": e.answer,
            }),
            _ => return None,
        })
    }
}

fn typing_frame(notice: &TypingNotice) -> Option<serde_json::Value> {
    let Typist::Agent { name, .. } = &notice.who else {
        return None;
    };
    Some(json!({
        "type": "typing",
        "conversationId": notice.conversation_id,
        "typing": notice.typing,
        "agent": { "name": name, "label": agent_label(name) },
        "at": notice.at,
    }))
}

fn session_frame(event: &SessionEvent) -> Option<serde_json::Value> {
    Some(match event {
        SessionEvent::ConnectionRequested(e) => json!({
            "type": "connection_request",
            "requestId": e.request_id.0,
            "agent": { "name": e.agent.display_name, "label": agent_label(&e.agent.display_name) },
            "expiresAt": e.expires_at,
        }),
        SessionEvent::ConnectionAccepted(e) => {
            json!({ "type": "connection_answered", "requestId": e.request_id.0, "answer": "accepted" })
        }
        SessionEvent::ConnectionDeclined(e) => {
            json!({ "type": "connection_answered", "requestId": e.request_id.0, "answer": "declined" })
        }
        SessionEvent::ConnectionExpired(e) => {
            json!({ "type": "connection_answered", "requestId": e.request_id.0, "answer": "expired" })
        }
        SessionEvent::AgentConnectedByCode(e) => json!({
            "type": "agent_connected",
            "agent": { "name": e.agent.display_name, "label": agent_label(&e.agent.display_name) },
        }),
        SessionEvent::Ended(e) => json!({ "type": "session_ended", "reason": e.reason }),
        _ => return None,
    })
}
