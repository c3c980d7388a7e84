//! The read models, one projector each:
//!
//! | projector | tables | events |
//! | --- | --- | --- |
//! | [`live_view`] | `live_sessions`, `live_view_sites`, `live_view_visitors`, `live_view_conversations` | session, visitor tags, conversation opened / messages |
//! | [`inbox`] | `conversations`, `messages`, `visitors` | conversation and visitor events |
//! | [`agents`] | `agents`, `agent_assignments` | agent events, conversation assignment and status |
//! | [`records::TextBlocksProjector`] | `text_blocks` | text block events |
//! | [`records::SlaQueueProjector`] | `sla_queue` | SLA events |
//! | [`sla_results`] | `sla_result_conversations`, `sla_results` | conversation opened / assigned / unassigned, SLA events |
//! | [`records::AuditLogProjector`] | `audit_log` | staff, admin and system actions |
//! | [`directory`] | `sites`, `teams`, `api_tokens` | site events but text blocks |

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use livedesk_domain::{EventCodec, RecordedEvent};
use uuid::Uuid;

use crate::{ProjectionError, Projector};

pub mod agents;
pub mod directory;
pub mod inbox;
pub mod live_view;
pub mod records;
pub mod sla_results;

pub use agents::AgentsProjector;
pub use directory::DirectoryProjector;
pub use inbox::InboxProjector;
pub use live_view::LiveViewProjector;
pub use records::{AuditLogProjector, SlaQueueProjector, TextBlocksProjector};
pub use sla_results::SlaResultsProjector;

/// Every projector of Livedesk.
pub fn all() -> Vec<Arc<dyn Projector>> {
    vec![
        Arc::new(LiveViewProjector),
        Arc::new(InboxProjector),
        Arc::new(AgentsProjector),
        Arc::new(TextBlocksProjector),
        Arc::new(SlaQueueProjector),
        Arc::new(SlaResultsProjector),
        Arc::new(AuditLogProjector),
        Arc::new(DirectoryProjector),
    ]
}

/// Longest last-message preview, in characters.
pub const PREVIEW_CHARS: usize = 140;

pub(crate) fn preview(body: &str) -> String {
    body.chars().take(PREVIEW_CHARS).collect()
}

pub(crate) fn decode<E: EventCodec>(event: &RecordedEvent) -> Result<E, ProjectionError> {
    event.decode::<E>().map_err(|source| ProjectionError::Decode {
        position: event.position,
        source,
    })
}

/// A field a visitor tag sets: untouched when the tag leaves it out,
/// cleared by an empty string.
pub(crate) fn tag_field(field: &mut Option<String>, given: &Option<String>) {
    if let Some(value) = given {
        *field = Some(value.clone()).filter(|v| !v.is_empty());
    }
}

/// Labels a visitor tag sets: replaced when given.
pub(crate) fn tag_labels(labels: &mut Vec<String>, given: &Option<Vec<String>>) {
    if let Some(given) = given {
        labels.clone_from(given);
    }
}

/// The aggregate id of an event's stream (`conversation-{id}`).
pub(crate) fn stream_id(event: &RecordedEvent) -> Result<Uuid, ProjectionError> {
    Uuid::parse_str(event.stream.id()).map_err(|e| ProjectionError::Invalid {
        position: event.position,
        reason: format!("stream {} has no UUID id: {e}", event.stream),
    })
}

/// The event types of an event enum.
pub(crate) fn types_of(types: &[(&'static str, u32)]) -> impl Iterator<Item = String> {
    types.iter().map(|(name, _)| (*name).to_owned())
}

/// Rows of one table being folded in memory during a batch: what was
/// loaded, what changed, what goes away.
#[derive(Debug)]
pub(crate) struct Folded<R> {
    rows: HashMap<Uuid, R>,
    dirty: BTreeSet<Uuid>,
    deleted: BTreeSet<Uuid>,
}

impl<R> Default for Folded<R> {
    fn default() -> Self {
        Self {
            rows: HashMap::new(),
            dirty: BTreeSet::new(),
            deleted: BTreeSet::new(),
        }
    }
}

impl<R> Folded<R> {
    pub fn loaded(rows: impl IntoIterator<Item = (Uuid, R)>) -> Self {
        Self {
            rows: rows.into_iter().collect(),
            ..Self::default()
        }
    }

    /// The row `key` to change, if it exists.
    pub fn get_mut(&mut self, key: Uuid) -> Option<&mut R> {
        let row = self.rows.get_mut(&key)?;
        self.dirty.insert(key);
        Some(row)
    }

    pub fn get(&self, key: Uuid) -> Option<&R> {
        self.rows.get(&key)
    }

    pub fn put(&mut self, key: Uuid, row: R) {
        self.deleted.remove(&key);
        self.dirty.insert(key);
        self.rows.insert(key, row);
    }

    pub fn remove(&mut self, key: Uuid) {
        self.rows.remove(&key);
        self.dirty.remove(&key);
        self.deleted.insert(key);
    }

    /// Every row held (a replay's whole table).
    pub fn values(&self) -> impl Iterator<Item = &R> {
        self.rows.values()
    }

    /// Every row held, to change in place without marking it dirty.
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut R> {
        self.rows.values_mut()
    }

    /// Keeps the rows `keep` accepts, as if the others were removed.
    pub fn retain(&mut self, mut keep: impl FnMut(&R) -> bool) {
        let gone: Vec<Uuid> = self.rows.iter().filter(|(_, r)| !keep(r)).map(|(k, _)| *k).collect();
        for key in gone {
            self.remove(key);
        }
    }

    /// The rows to upsert and the keys to delete.
    pub fn into_writes(mut self) -> (Vec<R>, Vec<Uuid>) {
        let rows = self.dirty.iter().filter_map(|k| self.rows.remove(k)).collect();
        (rows, self.deleted.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use sqlx::PgPool;

    use super::{agents, inbox, live_view, records, sla_results};

    #[sqlx::test(migrator = "livedesk_eventstore::MIGRATOR")]
    async fn every_table_helper_writes_every_column_its_table_has_and_knows_its_json_columns(pool: PgPool) {
        let tables = [
            inbox::CONVERSATIONS,
            inbox::MESSAGES,
            inbox::VISITORS,
            live_view::SESSIONS,
            live_view::SITES,
            live_view::VISITORS,
            live_view::CONVERSATIONS,
            agents::AGENTS,
            agents::ASSIGNMENTS,
            records::TEXT_BLOCKS,
            records::SLA_QUEUE,
            records::AUDIT_LOG,
            sla_results::CONVERSATIONS,
            sla_results::RESULTS,
        ];
        for table in tables {
            let mut columns: Vec<String> = sqlx::query_scalar(
                "SELECT column_name::text FROM information_schema.columns \
                  WHERE table_schema = 'public' AND table_name = $1 AND is_generated = 'NEVER'",
            )
            .bind(table.name)
            .fetch_all(&pool)
            .await
            .expect("columns");
            columns.sort();
            let mut written: Vec<String> = table.columns.iter().map(|c| (*c).to_owned()).collect();
            written.sort();
            assert_eq!(written, columns, "{} columns", table.name);
            let mut json: Vec<String> = sqlx::query_scalar(
                "SELECT column_name::text FROM information_schema.columns \
                  WHERE table_schema = 'public' AND table_name = $1 AND data_type = 'jsonb'",
            )
            .bind(table.name)
            .fetch_all(&pool)
            .await
            .expect("json columns");
            json.sort();
            let mut declared: Vec<String> = table.json.iter().map(|c| (*c).to_owned()).collect();
            declared.sort();
            assert_eq!(declared, json, "{} jsonb columns", table.name);
        }
    }
}
