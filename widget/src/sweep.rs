//! Background work: every process records the liveness of what it holds
//! (`touch`); one process, elected with a PostgreSQL advisory lock held on
//! a connection of its own, ends silent and over-long sessions and
//! releases take-overs whose agent's console is gone (`contend`).
//!
//! The election follows the projector leader pattern
//! (`livedesk-projections`' `runtime/leader.rs`): `pg_try_advisory_lock`
//! on a dedicated session-level connection (never behind a
//! transaction-mode pgbouncer), retried by standbys every sweep interval;
//! when the leader's connection dies PostgreSQL frees the lock and a
//! standby takes over.

use std::collections::HashMap;
use std::time::Instant;

use chrono::Utc;
use livedesk_domain::conversation::{ConversationCommand, ReleaseReason};
use livedesk_domain::session::{EndReason, SessionCommand, SessionError};
use livedesk_domain::{Actor, Initiator};
use livedesk_eventstore::CommandError;
use livedesk_projections::{liveness, lock};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, PgConnection};
use uuid::Uuid;

use crate::Widget;
use crate::session::context;
use crate::stats::Stats;

/// The advisory lock's source text.
const LOCK: &str = "livedesk.widget.sweep";
/// Sessions ended per sweep at most.
const BATCH: i64 = 500;

/// Records, every touch interval, that this process's widget sockets and
/// agent consoles are alive.
pub(crate) async fn touch(widget: Widget) {
    let mut interval = tokio::time::interval(widget.config.touch_interval);
    loop {
        interval.tick().await;
        let sessions = widget.hub.connected_sessions();
        if let Err(error) = liveness::touch_sessions(&widget.pool, &sessions).await {
            tracing::warn!(%error, "cannot record live widget sockets");
        }
        let agents = (widget.consoles)();
        if let Err(error) = liveness::touch_consoles(&widget.pool, &agents).await {
            tracing::warn!(%error, "cannot record connected consoles");
        }
    }
}

/// Contends for the sweep lock forever; sweeps while holding it.
pub(crate) async fn contend(widget: Widget) {
    let options: PgConnectOptions = (*widget.pool.connect_options())
        .clone()
        .application_name("livedesk-widget-sweep");
    let mut interval = tokio::time::interval(widget.config.sweep_interval);
    let mut conn: Option<PgConnection> = None;
    let mut leader = false;
    let mut gone_since: HashMap<(Uuid, Uuid), Instant> = HashMap::new();
    loop {
        interval.tick().await;
        if conn.is_none() {
            leader = false;
            match options.connect().await {
                Ok(c) => conn = Some(c),
                Err(error) => {
                    tracing::warn!(%error, "cannot connect to contend for the widget sweep");
                    continue;
                }
            }
        }
        let Some(c) = conn.as_mut() else { continue };
        if !leader {
            match lock::try_lock(c, LOCK).await {
                Ok(held) => leader = held,
                Err(error) => {
                    tracing::warn!(%error, "widget sweep lock attempt failed; reconnecting");
                    conn = None;
                    continue;
                }
            }
        }
        if leader && let Err(error) = sweep(&widget, c, &mut gone_since).await {
            tracing::warn!(%error, "widget sweep failed; giving up the lock");
            conn = None;
        }
    }
}

async fn sweep(
    widget: &Widget,
    conn: &mut PgConnection,
    gone_since: &mut HashMap<(Uuid, Uuid), Instant>,
) -> Result<(), sqlx::Error> {
    Stats::add(&widget.stats.sweeps);
    for silent in liveness::silent_sessions(conn, BATCH).await? {
        let reason = if silent.expired {
            EndReason::MaxDurationReached
        } else {
            EndReason::TimedOut
        };
        // The domain records an expired session's end at its expiry,
        // whatever the time now.
        let end = SessionCommand::End { reason, at: Utc::now() };
        let ctx = context(silent.site_id, Actor::System);
        match widget.sessions.execute(silent.session_id, end, &ctx).await {
            Ok(_) => Stats::add(&widget.stats.sessions_swept),
            Err(CommandError::Rejected(SessionError::Ended { .. } | SessionError::NotStarted)) => {}
            Err(error) => {
                tracing::warn!(%error, session = %silent.session_id, "the sweep cannot end a session");
                continue;
            }
        }
        liveness::ended(&widget.pool, silent.session_id).await?;
    }
    let grace = widget.config.console_grace;
    let grace_ms = i64::try_from(grace.as_millis()).unwrap_or(i64::MAX);
    let abandoned = liveness::unwatched_take_overs(conn, grace_ms).await?;
    let now = Instant::now();
    gone_since.retain(|key, _| abandoned.iter().any(|a| (a.conversation_id, a.agent_id) == *key));
    for take_over in abandoned {
        // An agent who never had a console gets the grace period from
        // when the sweep first noticed.
        let noticed = *gone_since
            .entry((take_over.conversation_id, take_over.agent_id))
            .or_insert(now);
        if !take_over.seen_before && now.duration_since(noticed) < grace {
            continue;
        }
        let release = ConversationCommand::Release {
            by: Initiator::System,
            reason: ReleaseReason::TimedOut,
            at: Utc::now(),
        };
        let ctx = context(take_over.site_id, Actor::System);
        match widget
            .conversations
            .execute(take_over.conversation_id, release, &ctx)
            .await
        {
            Ok(executed) if !executed.events.is_empty() => Stats::add(&widget.stats.take_overs_released),
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, conversation = %take_over.conversation_id, "the sweep cannot release"),
        }
        gone_since.remove(&(take_over.conversation_id, take_over.agent_id));
    }
    Ok(())
}
