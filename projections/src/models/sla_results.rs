//! The SLA report's read model: `sla_result_conversations` (who holds each
//! conversation now, and its pending clocks with their start) and
//! `sla_results` (one row per ended clock: met or missed, by whom, how
//! long it ran).
//!
//! A batch is folded in memory as the inbox's is: the conversations it
//! touches are loaded with one query, every event is applied in order, and
//! the rows are written back with one statement (an upsert of the
//! conversations and an insert of the results, which never change).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use livedesk_domain::RecordedEvent;
use livedesk_domain::conversation::{Assignee, AssignmentReason, ConversationEvent};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

use super::inbox::variant;
use super::{Folded, decode, stream_id};
use crate::table::{CopyRows, Reads, Table, Writes};
use crate::{Changes, ProjectionError, Projector, Replay};

/// The `sla_results` projector.
#[derive(Debug, Clone, Copy, Default)]
pub struct SlaResultsProjector;

/// The event types it reads.
const EVENT_TYPES: [&str; 6] = [
    "ConversationOpened",
    "ConversationAssigned",
    "ConversationUnassigned",
    "SlaApplied",
    "SlaFulfilled",
    "SlaBreached",
];

pub(crate) const CONVERSATIONS: Table = Table {
    name: "sla_result_conversations",
    key: "conversation_id",
    columns: &[
        "conversation_id",
        "site_id",
        "agent_id",
        "team_id",
        "clocks",
        "position",
    ],
    json: &["clocks"],
};

pub(crate) const RESULTS: Table = Table {
    name: "sla_results",
    key: "result_id",
    columns: &[
        "result_id",
        "conversation_id",
        "site_id",
        "target",
        "policy_id",
        "started_at",
        "due_at",
        "ended_at",
        "met",
        "agent_id",
        "team_id",
        "position",
    ],
    json: &[],
};

/// A row of `sla_result_conversations`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HolderRow {
    /// The conversation.
    pub conversation_id: Uuid,
    /// Its site.
    pub site_id: Uuid,
    /// The agent who holds it now.
    pub agent_id: Option<Uuid>,
    /// The team it belongs to now: the team it was assigned to, or whose
    /// queue auto-assignment took it from; kept when it goes to an agent
    /// by hand or is unassigned.
    pub team_id: Option<Uuid>,
    /// The pending clocks by target (`first_response`, ...).
    pub clocks: BTreeMap<String, PendingClock>,
    /// The last event applied.
    pub position: i64,
}

/// A clock that runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingClock {
    /// When it started (`SlaApplied.at`).
    pub started_at: DateTime<Utc>,
    /// When it falls due.
    pub due_at: DateTime<Utc>,
    /// The policy that set it.
    pub policy_id: Uuid,
}

/// A row of `sla_results`: one clock that ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlaResultRow {
    /// The id of the `SlaFulfilled` or `SlaBreached` event.
    pub result_id: Uuid,
    /// The conversation.
    pub conversation_id: Uuid,
    /// Its site.
    pub site_id: Uuid,
    /// `first_response`, `next_response` or `resolution`.
    pub target: String,
    /// The policy.
    pub policy_id: Uuid,
    /// When the clock started; `None` when no pending clock was known.
    pub started_at: Option<DateTime<Utc>>,
    /// When it was due, if known.
    pub due_at: Option<DateTime<Utc>>,
    /// When it ended (the event's `at`).
    pub ended_at: DateTime<Utc>,
    /// Fulfilled (`true`) or breached.
    pub met: bool,
    /// The agent holding the conversation when it ended.
    pub agent_id: Option<Uuid>,
    /// The team of the conversation when it ended.
    pub team_id: Option<Uuid>,
    /// The event's position.
    pub position: i64,
}

impl Projector for SlaResultsProjector {
    fn name(&self) -> &'static str {
        "sla_results"
    }

    fn event_types(&self) -> Vec<String> {
        EVENT_TYPES.map(String::from).to_vec()
    }

    fn tables(&self) -> &'static [&'static str] {
        &["sla_result_conversations", "sla_results"]
    }

    fn apply<'a>(
        &'a self,
        tx: &'a mut PgConnection,
        events: &'a [RecordedEvent],
        changes: &'a mut Changes,
    ) -> BoxFuture<'a, Result<(), ProjectionError>> {
        Box::pin(apply(tx, events, changes))
    }

    fn replay(&self) -> Option<Box<dyn Replay>> {
        Some(Box::new(SlaResultsReplay(Results::default())))
    }
}

/// The rows a batch folds: loaded ones for a live batch, all of them for a
/// replay.
#[derive(Debug, Default)]
struct Results {
    conversations: Folded<HolderRow>,
    /// Result rows added.
    results: Vec<SlaResultRow>,
}

impl Results {
    fn fold(
        &mut self,
        event: &RecordedEvent,
        id: Uuid,
        e: ConversationEvent,
        changes: &mut Changes,
    ) -> Result<(), ProjectionError> {
        let position = event.position as i64;
        if let ConversationEvent::Opened(o) = &e {
            let row = HolderRow {
                conversation_id: id,
                site_id: o.site_id.0,
                agent_id: None,
                team_id: None,
                clocks: BTreeMap::new(),
                position,
            };
            self.conversations.put(id, row);
        }
        let Some(row) = self.conversations.get_mut(id) else {
            return Err(ProjectionError::Invalid {
                position: event.position,
                reason: format!("conversation {id} was never opened"),
            });
        };
        row.position = position;
        changes.conversations.insert(id);
        changes.sites.insert(row.site_id);
        match e {
            ConversationEvent::Assigned(a) => match a.assignee {
                Assignee::Team { team } => {
                    row.team_id = Some(team.id.0);
                    row.agent_id = None;
                }
                Assignee::Agent { agent } => {
                    row.agent_id = Some(agent.id.0);
                    if let AssignmentReason::AutoAssignment { team_id } = a.reason {
                        row.team_id = Some(team_id.0);
                    }
                }
            },
            ConversationEvent::Unassigned(_) => row.agent_id = None,
            ConversationEvent::SlaApplied(s) => {
                for due in s.targets {
                    let clock = PendingClock {
                        started_at: s.at,
                        due_at: due.due_at,
                        policy_id: s.policy_id.0,
                    };
                    row.clocks.insert(variant(&due.target), clock);
                }
            }
            ConversationEvent::SlaFulfilled(s) => {
                let target = variant(&s.target);
                let clock = row.clocks.remove(&target);
                self.results.push(SlaResultRow {
                    result_id: event.event_id,
                    conversation_id: id,
                    site_id: row.site_id,
                    target,
                    policy_id: s.policy_id.0,
                    started_at: clock.as_ref().map(|c| c.started_at),
                    due_at: clock.as_ref().map(|c| c.due_at),
                    ended_at: s.at,
                    met: true,
                    agent_id: row.agent_id,
                    team_id: row.team_id,
                    position,
                });
            }
            ConversationEvent::SlaBreached(s) => {
                let target = variant(&s.target);
                let clock = row.clocks.remove(&target);
                self.results.push(SlaResultRow {
                    result_id: event.event_id,
                    conversation_id: id,
                    site_id: row.site_id,
                    target,
                    policy_id: s.policy_id.0,
                    started_at: clock.as_ref().map(|c| c.started_at),
                    due_at: Some(s.due_at),
                    ended_at: s.at,
                    met: false,
                    agent_id: row.agent_id,
                    team_id: row.team_id,
                    position,
                });
            }
            _ => {}
        }
        Ok(())
    }
}

async fn apply(tx: &mut PgConnection, events: &[RecordedEvent], changes: &mut Changes) -> Result<(), ProjectionError> {
    let mut decoded = Vec::with_capacity(events.len());
    let mut ids = BTreeSet::new();
    for event in events {
        let id = stream_id(event)?;
        ids.insert(id);
        decoded.push((event, id, decode::<ConversationEvent>(event)?));
    }
    let mut reads = Reads::default();
    let conversations = reads.rows(&CONVERSATIONS, ids);
    let loaded: Vec<HolderRow> = reads.fetch(tx).await?.take(conversations)?;
    let mut results = Results {
        conversations: Folded::loaded(loaded.into_iter().map(|r| (r.conversation_id, r))),
        ..Results::default()
    };
    for (event, id, e) in decoded {
        results.fold(event, id, e, changes)?;
    }
    let mut writes = Writes::default();
    let (rows, _) = results.conversations.into_writes();
    writes.upsert(&CONVERSATIONS, &rows)?;
    writes.insert(&RESULTS, &results.results)?;
    writes.execute(tx).await?;
    Ok(())
}

/// The whole history in memory: results are written page by page, the
/// conversations once at the end.
struct SlaResultsReplay(Results);

impl Replay for SlaResultsReplay {
    fn apply(&mut self, events: &[&RecordedEvent]) -> Result<Vec<CopyRows>, ProjectionError> {
        let mut changes = Changes::default();
        for event in events {
            self.0.fold(event, stream_id(event)?, decode(event)?, &mut changes)?;
        }
        let results = std::mem::take(&mut self.0.results);
        Ok(vec![RESULTS.encode(&results)?])
    }

    fn finish(self: Box<Self>) -> Result<Vec<CopyRows>, ProjectionError> {
        Ok(vec![CONVERSATIONS.encode(self.0.conversations.values())?])
    }
}
