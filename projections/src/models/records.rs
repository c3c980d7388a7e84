//! Small read models: `text_blocks`, `sla_queue` and `audit_log`.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use livedesk_domain::RecordedEvent;
use livedesk_domain::conversation::ConversationEvent;
use livedesk_domain::site::SiteEvent;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

use super::inbox::variant;
use super::{Folded, decode, stream_id};
use crate::table::{CopyRows, Reads, Table, Writes};
use crate::{Changes, ProjectionError, Projector, Replay};

/// The `text_blocks` projector: a site's live canned answers.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextBlocksProjector;

pub(crate) const TEXT_BLOCKS: Table = Table {
    name: "text_blocks",
    key: "text_block_id",
    columns: &[
        "text_block_id",
        "site_id",
        "shortcut",
        "title",
        "body",
        "created_at",
        "updated_at",
        "position",
    ],
    json: &[],
};

/// A row of `text_blocks`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextBlockRow {
    /// The block.
    pub text_block_id: Uuid,
    /// Its site.
    pub site_id: Uuid,
    /// What agents type after `#`.
    pub shortcut: String,
    /// Its title.
    pub title: String,
    /// The text inserted.
    pub body: String,
    /// When added.
    pub created_at: DateTime<Utc>,
    /// When last changed.
    pub updated_at: DateTime<Utc>,
    /// The last event applied.
    pub position: i64,
}

impl Projector for TextBlocksProjector {
    fn name(&self) -> &'static str {
        "text_blocks"
    }

    fn event_types(&self) -> Vec<String> {
        ["TextBlockAdded", "TextBlockChanged", "TextBlockRemoved"]
            .map(String::from)
            .to_vec()
    }

    fn tables(&self) -> &'static [&'static str] {
        &["text_blocks"]
    }

    fn apply<'a>(
        &'a self,
        tx: &'a mut PgConnection,
        events: &'a [RecordedEvent],
        changes: &'a mut Changes,
    ) -> BoxFuture<'a, Result<(), ProjectionError>> {
        Box::pin(async move {
            let mut decoded = Vec::with_capacity(events.len());
            let mut keys = BTreeSet::new();
            for event in events {
                let site = stream_id(event)?;
                let e: SiteEvent = decode(event)?;
                match &e {
                    SiteEvent::TextBlockAdded(b) => keys.insert(b.text_block_id.0),
                    SiteEvent::TextBlockChanged(b) => keys.insert(b.text_block_id.0),
                    SiteEvent::TextBlockRemoved(b) => keys.insert(b.text_block_id.0),
                    _ => false,
                };
                changes.sites.insert(site);
                decoded.push((event.position as i64, site, e));
            }
            let mut reads = Reads::default();
            let read = reads.rows(&TEXT_BLOCKS, keys);
            let loaded: Vec<TextBlockRow> = reads.fetch(tx).await?.take(read)?;
            let mut blocks = Folded::loaded(loaded.into_iter().map(|b| (b.text_block_id, b)));
            for (position, site_id, e) in decoded {
                match e {
                    SiteEvent::TextBlockAdded(b) => blocks.put(
                        b.text_block_id.0,
                        TextBlockRow {
                            text_block_id: b.text_block_id.0,
                            site_id,
                            shortcut: b.shortcut,
                            title: b.title,
                            body: b.body,
                            created_at: b.at,
                            updated_at: b.at,
                            position,
                        },
                    ),
                    SiteEvent::TextBlockChanged(b) => {
                        if let Some(row) = blocks.get_mut(b.text_block_id.0) {
                            row.shortcut = b.shortcut;
                            row.title = b.title;
                            row.body = b.body;
                            row.updated_at = b.at;
                            row.position = position;
                        }
                    }
                    SiteEvent::TextBlockRemoved(b) => blocks.remove(b.text_block_id.0),
                    _ => {}
                }
            }
            let (rows, gone) = blocks.into_writes();
            let mut writes = Writes::default();
            writes.delete(&TEXT_BLOCKS, gone);
            writes.upsert(&TEXT_BLOCKS, &rows)?;
            writes.execute(tx).await?;
            Ok(())
        })
    }
}

/// The `sla_queue` projector: pending SLA clocks, soonest first, for the
/// SLA timer and the "due soon" view.
#[derive(Debug, Clone, Copy, Default)]
pub struct SlaQueueProjector;

/// Written by a replay only: the live projector writes one clock at a time.
pub(crate) const SLA_QUEUE: Table = Table {
    name: "sla_queue",
    // With `target`: the key is never loaded by.
    key: "conversation_id",
    columns: &[
        "conversation_id",
        "target",
        "site_id",
        "policy_id",
        "due_at",
        "position",
    ],
    json: &[],
};

/// A row of `sla_queue`: one pending clock.
#[derive(Debug, Clone, PartialEq, Serialize)]
struct SlaClock {
    conversation_id: Uuid,
    target: String,
    site_id: Uuid,
    policy_id: Uuid,
    due_at: DateTime<Utc>,
    position: i64,
}

/// The pending clocks of the whole history in memory.
#[derive(Debug, Default)]
struct SlaQueueReplay(HashMap<(Uuid, String), SlaClock>);

impl Replay for SlaQueueReplay {
    fn apply(&mut self, events: &[&RecordedEvent]) -> Result<Vec<CopyRows>, ProjectionError> {
        for event in events {
            let conversation = stream_id(event)?;
            match decode::<ConversationEvent>(event)? {
                ConversationEvent::SlaApplied(s) => {
                    for due in s.targets {
                        let target = variant(&due.target);
                        let clock = SlaClock {
                            conversation_id: conversation,
                            target: target.clone(),
                            site_id: event.metadata.site_id.unwrap_or_default(),
                            policy_id: s.policy_id.0,
                            due_at: due.due_at,
                            position: event.position as i64,
                        };
                        self.0.insert((conversation, target), clock);
                    }
                }
                ConversationEvent::SlaFulfilled(s) => _ = self.0.remove(&(conversation, variant(&s.target))),
                ConversationEvent::SlaBreached(s) => _ = self.0.remove(&(conversation, variant(&s.target))),
                _ => {}
            }
        }
        Ok(Vec::new())
    }

    fn finish(self: Box<Self>) -> Result<Vec<CopyRows>, ProjectionError> {
        Ok(vec![SLA_QUEUE.encode(self.0.values())?])
    }
}

impl Projector for SlaQueueProjector {
    fn name(&self) -> &'static str {
        "sla_queue"
    }

    fn event_types(&self) -> Vec<String> {
        ["SlaApplied", "SlaFulfilled", "SlaBreached"].map(String::from).to_vec()
    }

    fn tables(&self) -> &'static [&'static str] {
        &["sla_queue"]
    }

    fn replay(&self) -> Option<Box<dyn Replay>> {
        Some(Box::<SlaQueueReplay>::default())
    }

    /// One statement per event: SLA events are a small share of the log.
    fn apply<'a>(
        &'a self,
        tx: &'a mut PgConnection,
        events: &'a [RecordedEvent],
        changes: &'a mut Changes,
    ) -> BoxFuture<'a, Result<(), ProjectionError>> {
        Box::pin(async move {
            for event in events {
                let conversation = stream_id(event)?;
                let site = event.metadata.site_id.unwrap_or_default();
                match decode::<ConversationEvent>(event)? {
                    ConversationEvent::SlaApplied(s) => {
                        for due in s.targets {
                            sqlx::query(
                                "INSERT INTO sla_queue (conversation_id, target, site_id, policy_id, due_at, position) \
                                 VALUES ($1, $2, $3, $4, $5, $6) \
                                 ON CONFLICT (conversation_id, target) DO UPDATE SET site_id = excluded.site_id, \
                                   policy_id = excluded.policy_id, due_at = excluded.due_at, position = excluded.position",
                            )
                            .bind(conversation)
                            .bind(variant(&due.target))
                            .bind(site)
                            .bind(s.policy_id.0)
                            .bind(due.due_at)
                            .bind(event.position as i64)
                            .execute(&mut *tx)
                            .await?;
                        }
                    }
                    ConversationEvent::SlaFulfilled(s) => settle(tx, conversation, &variant(&s.target)).await?,
                    ConversationEvent::SlaBreached(s) => settle(tx, conversation, &variant(&s.target)).await?,
                    _ => {}
                }
                changes.conversations.insert(conversation);
                changes.sites.insert(site);
            }
            Ok(())
        })
    }
}

async fn settle(tx: &mut PgConnection, conversation: Uuid, target: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sla_queue WHERE conversation_id = $1 AND target = $2")
        .bind(conversation)
        .bind(target)
        .execute(tx)
        .await?;
    Ok(())
}

/// The `audit_log` projector: who did what, when. Every event but the
/// visitors' own browsing and chatting, which the transcripts and the
/// event log already hold.
#[derive(Debug, Clone, Copy, Default)]
pub struct AuditLogProjector;

pub(crate) const AUDIT_LOG: Table = Table {
    name: "audit_log",
    key: "position",
    columns: &[
        "position",
        "site_id",
        "stream_id",
        "event_type",
        "actor",
        "recorded_at",
        "details",
    ],
    json: &["details"],
};

/// A row of `audit_log`, borrowed from its event.
#[derive(Debug, Serialize)]
struct AuditRow<'a> {
    position: i64,
    site_id: Option<Uuid>,
    stream_id: &'a str,
    event_type: &'a str,
    actor: Option<String>,
    recorded_at: DateTime<Utc>,
    details: &'a serde_json::value::RawValue,
}

/// One audit row per event (live batches and replays alike).
fn audit_rows<'e>(events: impl Iterator<Item = &'e RecordedEvent>) -> Vec<AuditRow<'e>> {
    events
        .map(|event| AuditRow {
            position: event.position as i64,
            site_id: event.metadata.site_id,
            stream_id: event.stream.as_str(),
            event_type: &event.event_type,
            actor: event.metadata.actor.as_ref().map(ToString::to_string),
            recorded_at: event.recorded_at,
            details: &event.payload,
        })
        .collect()
}

/// Audit rows never change: a replay writes each page as it comes.
struct AuditLogReplay;

impl Replay for AuditLogReplay {
    fn apply(&mut self, events: &[&RecordedEvent]) -> Result<Vec<CopyRows>, ProjectionError> {
        Ok(vec![AUDIT_LOG.encode(&audit_rows(events.iter().copied()))?])
    }

    fn finish(self: Box<Self>) -> Result<Vec<CopyRows>, ProjectionError> {
        Ok(Vec::new())
    }
}

/// The event types the audit log records.
pub const AUDITED: &[&str] = &[
    "SiteCreated",
    "SiteProfileChanged",
    "SiteSettingsChanged",
    "CustomFieldsDefined",
    "SlaPoliciesDefined",
    "BusinessHoursSet",
    "RoutingRulesDefined",
    "AutoAssignmentConfigured",
    "TextBlockAdded",
    "TextBlockChanged",
    "TextBlockRemoved",
    "TeamCreated",
    "AgentJoinedTeam",
    "AgentLeftTeam",
    "ApiTokenIssued",
    "ApiTokenRevoked",
    "AgentInvited",
    "AgentActivated",
    "AgentRoleChanged",
    "AgentDisplayNameChanged",
    "AgentCapacityChanged",
    "AdditionalInfoSet",
    "AgentConnectedByCode",
    "ConnectionRequested",
    "CoBrowsingStarted",
    "CoBrowsingEnded",
    "NotePosted",
    "ConversationStatusChanged",
    "ConversationAssigned",
    "ConversationUnassigned",
    "ConversationTakenOver",
    "ConversationReleased",
    "ConversationWatched",
    "SpecialRequestSent",
    "TranscriptExported",
];

impl Projector for AuditLogProjector {
    fn name(&self) -> &'static str {
        "audit_log"
    }

    fn event_types(&self) -> Vec<String> {
        AUDITED.iter().map(|t| (*t).to_owned()).collect()
    }

    fn tables(&self) -> &'static [&'static str] {
        &["audit_log"]
    }

    fn replay(&self) -> Option<Box<dyn Replay>> {
        Some(Box::new(AuditLogReplay))
    }

    fn apply<'a>(
        &'a self,
        tx: &'a mut PgConnection,
        events: &'a [RecordedEvent],
        changes: &'a mut Changes,
    ) -> BoxFuture<'a, Result<(), ProjectionError>> {
        Box::pin(async move {
            changes.sites.extend(events.iter().filter_map(|e| e.metadata.site_id));
            let mut writes = Writes::default();
            writes.insert(&AUDIT_LOG, &audit_rows(events.iter()))?;
            writes.execute(tx).await?;
            Ok(())
        })
    }
}
