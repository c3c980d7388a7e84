//! Batches committed by other processes.
//!
//! A leader's batch sends `NOTIFY livedesk_changes` with what it changed
//! (as JSON) inside its transaction, so the notice goes out exactly when
//! the batch commits, in the same round trip as the `COMMIT`. Every
//! runtime listens on a connection of its own and republishes the other
//! processes' batches as [`Changed`]: GraphQL subscriptions on a replica
//! that leads no projector push fresh rows too, and `wait_for` there wakes
//! at once instead of polling.
//!
//! A notice holds at most [`MAX_PAYLOAD`] bytes (PostgreSQL refuses 8,000):
//! a batch that touched more ids sends none and says so (`complete:
//! false`), as does this listener after it reconnects (notices sent
//! meanwhile are lost); subscribers then re-read what they show.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::postgres::{PgListener, PgPoolOptions};
use uuid::Uuid;

use super::{Changed, Inner};

/// The channel batches are announced on.
pub(super) const CHANNEL: &str = "livedesk_changes";

/// Largest notice with ids.
const MAX_PAYLOAD: usize = 7_900;

/// What travels in a notice.
#[derive(Debug, Serialize, Deserialize)]
struct Notice {
    /// The runtime that committed (its own notices it ignores).
    runtime: Uuid,
    projector: String,
    after: u64,
    position: u64,
    complete: bool,
    sites: Vec<Uuid>,
    sessions: Vec<Uuid>,
    conversations: Vec<Uuid>,
}

/// The statement that announces `changed`, quoted for a simple query.
pub(super) fn notify(runtime: Uuid, changed: &Changed) -> String {
    let mut notice = Notice {
        runtime,
        projector: changed.projector.to_owned(),
        after: changed.after,
        position: changed.position,
        complete: changed.complete,
        sites: changed.sites.clone(),
        sessions: changed.sessions.clone(),
        conversations: changed.conversations.clone(),
    };
    let mut payload = serde_json::to_string(&notice).unwrap_or_default();
    if payload.len() > MAX_PAYLOAD {
        notice.complete = false;
        notice.sites.clear();
        notice.sessions.clear();
        notice.conversations.clear();
        payload = serde_json::to_string(&notice).unwrap_or_default();
    }
    format!("SELECT pg_notify('{CHANNEL}', '{}')", payload.replace('\'', "''"))
}

/// Listens until the runtime shuts down, republishing other runtimes'
/// batches.
pub(super) async fn listen(rt: Arc<Inner>) {
    let mut shutdown = rt.shutdown.subscribe();
    let mut backoff = Duration::from_millis(50);
    // `LISTEN` needs a session of its own: never one of the shared pool's.
    let own = PgPoolOptions::new()
        .max_connections(1)
        .min_connections(0)
        .connect_lazy_with(
            (*rt.store.pool().connect_options())
                .clone()
                .application_name("livedesk-changes"),
        );
    loop {
        let listening = async {
            let mut listener = PgListener::connect_with(&own).await?;
            listener.listen(CHANNEL).await?;
            Ok::<_, sqlx::Error>(listener)
        };
        let connected = tokio::select! {
            listener = listening => listener,
            _ = shutdown.wait_for(|stop| *stop) => return,
        };
        let mut listener = match connected {
            Ok(listener) => listener,
            Err(error) => {
                tracing::warn!(%error, "cannot LISTEN for other processes' batches; retrying");
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {}
                    _ = shutdown.wait_for(|stop| *stop) => return,
                }
                backoff = (backoff * 2).min(Duration::from_secs(2));
                continue;
            }
        };
        backoff = Duration::from_millis(50);
        // Whatever was announced before this connection listened is lost.
        missed(&rt);
        loop {
            let notification = tokio::select! {
                n = listener.try_recv() => n,
                _ = shutdown.wait_for(|stop| *stop) => return,
            };
            match notification {
                Ok(Some(notification)) => republish(&rt, notification.payload()),
                Ok(None) => missed(&rt),
                Err(error) => {
                    tracing::warn!(%error, "lost the LISTEN connection for other processes' batches");
                    break;
                }
            }
        }
    }
}

fn republish(rt: &Inner, payload: &str) {
    let notice: Notice = match serde_json::from_str(payload) {
        Ok(notice) => notice,
        Err(error) => {
            tracing::warn!(%error, "an unreadable batch notice");
            return;
        }
    };
    if notice.runtime == rt.id {
        return;
    }
    let Some(slot) = rt.slots.iter().find(|s| s.projector.name() == notice.projector) else {
        return;
    };
    slot.observe_at_least(notice.position);
    let _ = rt.changes.send(Arc::new(Changed {
        projector: slot.projector.name(),
        after: notice.after,
        position: notice.position,
        complete: notice.complete,
        sites: notice.sites,
        sessions: notice.sessions,
        conversations: notice.conversations,
        rows: None,
    }));
}

/// Tells subscribers that batches may have gone by unannounced.
fn missed(rt: &Inner) {
    for slot in &rt.slots {
        let position = *slot.position.borrow();
        let _ = rt.changes.send(Arc::new(Changed {
            projector: slot.projector.name(),
            after: position,
            position,
            complete: false,
            sites: Vec::new(),
            sessions: Vec::new(),
            conversations: Vec::new(),
            rows: None,
        }));
    }
}
