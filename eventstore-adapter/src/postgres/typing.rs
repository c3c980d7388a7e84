//! Typing presence: "the visitor is typing", "Ana is typing". Ephemeral,
//! so not an event: the log holds facts, and a keystroke signal every two
//! seconds per chat would flood it.
//!
//! A notice goes out as `NOTIFY livedesk_typing` (JSON) from the shared
//! pool; every process listens on a connection of its own (never one of
//! the shared pool's: `LISTEN` needs a session, see DESIGN.md) and fans
//! each notice out to its subscribers through a broadcast channel. A
//! process hears its own notices the same way, so a widget socket and a
//! GraphQL subscription get the same thing whichever process the sender
//! reached. Delivery is best effort: a notice sent while a listener
//! reconnects is lost, which is why every reader lets a typing state lapse
//! by itself (the clients after ~6 s without a repeat).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use sqlx::postgres::{PgListener, PgPoolOptions};
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::StoreError;

/// The channel typing notices travel on.
pub const TYPING_CHANNEL: &str = "livedesk_typing";

/// Notices a slow subscriber may fall behind by before it misses some.
const BUFFER: usize = 1024;

/// Who is typing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Typist {
    /// The conversation's visitor (through the widget).
    Visitor,
    /// An agent, writing a reply (never a note).
    Agent {
        /// The agent.
        id: Uuid,
        /// Their display name, as visitors see it.
        name: String,
    },
}

/// One "started or stopped typing" signal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TypingNotice {
    /// The conversation's site (subscribers check it again).
    pub site_id: Uuid,
    /// The conversation.
    pub conversation_id: Uuid,
    /// Who.
    pub who: Typist,
    /// Started (`true`) or stopped.
    pub typing: bool,
    /// When the sender's process took it.
    pub at: DateTime<Utc>,
}

/// The process's typing relay. Cheap to clone; the listener stops when the
/// last clone is dropped.
#[derive(Debug, Clone)]
pub struct TypingRelay {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    pool: PgPool,
    sender: broadcast::Sender<Arc<TypingNotice>>,
    listener: JoinHandle<()>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

impl TypingRelay {
    /// Sends through `pool` and listens on a connection of its own with
    /// `pool`'s connect options; spawns the listener on the current tokio
    /// runtime.
    pub fn start(pool: &PgPool) -> Self {
        let own = PgPoolOptions::new()
            .max_connections(1)
            .min_connections(0)
            .connect_lazy_with((*pool.connect_options()).clone().application_name("livedesk-typing"));
        let (sender, _) = broadcast::channel(BUFFER);
        let listener = tokio::spawn(listen(own, sender.clone()));
        Self {
            inner: Arc::new(Inner {
                pool: pool.clone(),
                sender,
                listener,
            }),
        }
    }

    /// Announces `notice` to every process's subscribers (this one's
    /// included).
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`] when the notice cannot be sent.
    pub async fn publish(&self, notice: &TypingNotice) -> Result<(), StoreError> {
        // Plain strings, ids and a time: serialising cannot fail.
        let payload = serde_json::to_string(notice).unwrap_or_default();
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(TYPING_CHANNEL)
            .bind(payload)
            .execute(&self.inner.pool)
            .await?;
        Ok(())
    }

    /// Every notice from now on, from every process.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<TypingNotice>> {
        self.inner.sender.subscribe()
    }
}

async fn listen(pool: PgPool, sender: broadcast::Sender<Arc<TypingNotice>>) {
    let mut backoff = Duration::from_millis(50);
    loop {
        let connected = async {
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.listen(TYPING_CHANNEL).await?;
            Ok::<_, sqlx::Error>(listener)
        };
        let mut listener = match connected.await {
            Ok(listener) => listener,
            Err(error) => {
                tracing::warn!(%error, "cannot LISTEN for typing notices; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(2));
                continue;
            }
        };
        backoff = Duration::from_millis(50);
        loop {
            match listener.try_recv().await {
                Ok(Some(notification)) => match serde_json::from_str::<TypingNotice>(notification.payload()) {
                    // No subscriber is not an error.
                    Ok(notice) => drop(sender.send(Arc::new(notice))),
                    Err(error) => tracing::warn!(%error, "an unreadable typing notice"),
                },
                // Reconnected by sqlx: notices in between are lost, and
                // lapse on the clients.
                Ok(None) => {}
                Err(error) => {
                    tracing::warn!(%error, "lost the LISTEN connection for typing notices; reconnecting");
                    break;
                }
            }
        }
    }
}
