//! The inbox: `conversations` (one row per chat, with every inbox filter
//! indexed), `messages` (transcripts; notes flagged `internal`) and
//! `visitors` (identity, additional information, past conversations).
//!
//! A batch is folded in memory: the rows it touches are loaded with one
//! query per table, every event is applied to them in order, and they are
//! written back with one upsert per table. A visitor tagged after their
//! conversations opened gets their name onto those rows with one join
//! update at the end of the batch.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use livedesk_domain::RecordedEvent;
use livedesk_domain::conversation::{Assignee, Author, ConversationEvent, ConversationStatus, SlaTarget};
use livedesk_domain::visitor::{VisitorEvent, VisitorTag};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Folded, decode, preview, stream_id, tag_field, tag_labels, types_of};
use crate::as_of::{stored_conversation, stored_message};
use crate::table::{CopyRows, Reads, Table, Writes};
use crate::{Changes, ProjectionError, Projector, Replay, Rows};

/// The `inbox` projector.
#[derive(Debug, Clone, Copy, Default)]
pub struct InboxProjector;

pub(crate) const CONVERSATIONS: Table = Table {
    name: "conversations",
    key: "conversation_id",
    columns: &[
        "conversation_id",
        "site_id",
        "visitor_id",
        "session_id",
        "provider",
        "status",
        "visitor_name",
        "visitor_email",
        "assignee_type",
        "assignee_id",
        "assignee_name",
        "taken_over_by_id",
        "taken_over_by_name",
        "human_requested",
        "last_message_preview",
        "last_message_at",
        "last_message_author",
        "message_count",
        "note_count",
        "unread_count",
        "sla",
        "sla_due_at",
        "sla_breached",
        "created_at",
        "updated_at",
        "position",
        "first_response_at",
        "done_at",
    ],
    json: &["sla"],
};

pub(crate) const MESSAGES: Table = Table {
    name: "messages",
    key: "message_id",
    columns: &[
        "message_id",
        "conversation_id",
        "site_id",
        "internal",
        "author_type",
        "author_id",
        "author_name",
        "body",
        "attachments",
        "client_message_id",
        "at",
        "position",
    ],
    json: &["attachments"],
};

pub(crate) const VISITORS: Table = Table {
    name: "visitors",
    key: "visitor_id",
    columns: &[
        "visitor_id",
        "site_id",
        "first_seen_at",
        "email",
        "first_name",
        "last_name",
        "name",
        "labels",
        "assigned_user",
        "external_user_id",
        "additional_info",
        "reset_at",
        "conversation_count",
        "last_conversation_id",
        "updated_at",
        "position",
    ],
    json: &["labels", "additional_info"],
};

/// A row of `conversations`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationRow {
    /// The conversation.
    pub conversation_id: Uuid,
    /// Its site.
    pub site_id: Uuid,
    /// Its visitor.
    pub visitor_id: Uuid,
    /// The browsing session it began in (web chat).
    pub session_id: Option<Uuid>,
    /// `web_chat`, `facebook` or `api`.
    pub provider: String,
    /// `unread`, `unresolved` or `done`.
    pub status: String,
    /// The visitor's name, from their tags.
    pub visitor_name: Option<String>,
    /// The visitor's email, from their tags.
    pub visitor_email: Option<String>,
    /// `agent` or `team`.
    pub assignee_type: Option<String>,
    /// The assigned agent or team.
    pub assignee_id: Option<Uuid>,
    /// Its name when assigned.
    pub assignee_name: Option<String>,
    /// The agent who took over from the AI; `None` while the AI handles it.
    pub taken_over_by_id: Option<Uuid>,
    /// Their display name.
    pub taken_over_by_name: Option<String>,
    /// Someone asked for a human and none has taken over since.
    pub human_requested: bool,
    /// The first characters of the last message (notes excluded).
    pub last_message_preview: Option<String>,
    /// When it was posted.
    pub last_message_at: Option<DateTime<Utc>>,
    /// `visitor`, `agent`, `bot` or `system`.
    pub last_message_author: Option<String>,
    /// Messages (notes excluded).
    pub message_count: i32,
    /// Internal notes.
    pub note_count: i32,
    /// Visitor messages since the last agent message.
    pub unread_count: i32,
    /// SLA clocks by target (`first_response`, `next_response`, `resolution`).
    pub sla: BTreeMap<String, SlaClockRow>,
    /// The earliest pending due time.
    pub sla_due_at: Option<DateTime<Utc>>,
    /// Whether a clock is breached.
    pub sla_breached: bool,
    /// When it opened.
    pub created_at: DateTime<Utc>,
    /// The last change to the row.
    pub updated_at: DateTime<Utc>,
    /// The last event applied.
    pub position: i64,
    /// When an agent first posted a message (notes and the AI's replies
    /// excepted).
    pub first_response_at: Option<DateTime<Utc>>,
    /// When the status last became Done; `None` while it is not Done.
    pub done_at: Option<DateTime<Utc>>,
}

/// One SLA clock of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaClockRow {
    /// The policy that set it.
    pub policy_id: Uuid,
    /// When it falls due.
    pub due_at: DateTime<Utc>,
    /// `pending`, `fulfilled` or `breached`.
    pub outcome: String,
}

/// A row of `messages`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageRow {
    /// The message or note.
    pub message_id: Uuid,
    /// Its conversation.
    pub conversation_id: Uuid,
    /// Its site.
    pub site_id: Uuid,
    /// An internal note, never shown to the visitor.
    pub internal: bool,
    /// `visitor`, `agent`, `bot` or `system`.
    pub author_type: String,
    /// The visitor or agent.
    pub author_id: Option<Uuid>,
    /// The agent's display name or the bot's name.
    pub author_name: Option<String>,
    /// The text.
    pub body: String,
    /// `[{"kind", "reference"}]`.
    pub attachments: serde_json::Value,
    /// The sender's id for the message.
    pub client_message_id: Option<String>,
    /// When it was posted.
    pub at: DateTime<Utc>,
    /// Its event's position: transcripts are ordered by it.
    pub position: i64,
}

/// A row of `visitors`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VisitorRow {
    /// The visitor.
    pub visitor_id: Uuid,
    /// Their site.
    pub site_id: Uuid,
    /// When first seen.
    pub first_seen_at: Option<DateTime<Utc>>,
    /// Tagged email.
    pub email: Option<String>,
    /// Tagged first name.
    pub first_name: Option<String>,
    /// Tagged last name.
    pub last_name: Option<String>,
    /// First and last name.
    pub name: Option<String>,
    /// Tagged labels.
    pub labels: Vec<String>,
    /// The agent (email) the site routes them to.
    pub assigned_user: Option<String>,
    /// The site's id of the logged-in user.
    pub external_user_id: Option<String>,
    /// Additional information by field key.
    pub additional_info: serde_json::Map<String, serde_json::Value>,
    /// When the identity was retired by a logout.
    pub reset_at: Option<DateTime<Utc>>,
    /// Conversations opened.
    pub conversation_count: i32,
    /// The newest of them.
    pub last_conversation_id: Option<Uuid>,
    /// The last change.
    pub updated_at: DateTime<Utc>,
    /// The last event applied.
    pub position: i64,
}

impl VisitorRow {
    fn new(visitor_id: Uuid, site_id: Uuid, at: DateTime<Utc>) -> Self {
        Self {
            visitor_id,
            site_id,
            first_seen_at: None,
            email: None,
            first_name: None,
            last_name: None,
            name: None,
            labels: Vec::new(),
            assigned_user: None,
            external_user_id: None,
            additional_info: serde_json::Map::new(),
            reset_at: None,
            conversation_count: 0,
            last_conversation_id: None,
            updated_at: at,
            position: 0,
        }
    }

    fn tag(&mut self, tag: &VisitorTag) {
        tag_field(&mut self.email, &tag.email);
        tag_field(&mut self.first_name, &tag.first_name);
        tag_field(&mut self.last_name, &tag.last_name);
        tag_field(&mut self.assigned_user, &tag.assigned_user);
        tag_field(&mut self.external_user_id, &tag.external_user_id);
        tag_labels(&mut self.labels, &tag.labels);
        self.name = full_name(self.first_name.as_deref(), self.last_name.as_deref());
    }
}

/// "First Last", or whichever is given.
pub(crate) fn full_name(first: Option<&str>, last: Option<&str>) -> Option<String> {
    let name = [first, last].into_iter().flatten().collect::<Vec<_>>().join(" ");
    Some(name).filter(|n| !n.is_empty())
}

/// The snake_case name serde gives a unit enum variant.
pub(crate) fn variant<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(e) => e.to_string(),
    }
}

impl Projector for InboxProjector {
    fn name(&self) -> &'static str {
        "inbox"
    }

    fn event_types(&self) -> Vec<String> {
        types_of(ConversationEvent::EVENT_TYPES)
            .chain(types_of(VisitorEvent::EVENT_TYPES))
            .collect()
    }

    fn tables(&self) -> &'static [&'static str] {
        &["conversations", "messages", "visitors"]
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
        Some(Box::new(InboxReplay(Inbox::default())))
    }
}

enum Decoded {
    Conversation(Uuid, ConversationEvent),
    Visitor(Uuid, VisitorEvent),
}

impl Decoded {
    fn new(event: &RecordedEvent) -> Result<Self, ProjectionError> {
        let id = stream_id(event)?;
        match event.stream.category() {
            "conversation" => Ok(Self::Conversation(id, decode(event)?)),
            "visitor" => Ok(Self::Visitor(id, decode(event)?)),
            other => Err(ProjectionError::Invalid {
                position: event.position,
                reason: format!("the inbox reads no {other} events"),
            }),
        }
    }
}

/// The rows a batch folds: loaded ones for a live batch, all of them for a
/// replay.
#[derive(Debug, Default)]
struct Inbox {
    conversations: Folded<ConversationRow>,
    visitors: Folded<VisitorRow>,
    /// Transcript rows added.
    messages: Vec<MessageRow>,
    /// Visitors tagged, whose name goes onto their conversations.
    renamed: BTreeSet<Uuid>,
}

impl Inbox {
    fn fold(&mut self, event: &RecordedEvent, decoded: Decoded, changes: &mut Changes) -> Result<(), ProjectionError> {
        match decoded {
            Decoded::Conversation(id, e) => {
                fold_conversation(
                    &mut self.conversations,
                    &mut self.visitors,
                    &mut self.messages,
                    event,
                    id,
                    e,
                )?;
                changes.conversations.insert(id);
            }
            Decoded::Visitor(id, e) => {
                if matches!(e, VisitorEvent::Tagged(_)) {
                    self.renamed.insert(id);
                }
                fold_visitor(&mut self.visitors, event, id, &e);
            }
        }
        if let Some(site) = event.metadata.site_id {
            changes.sites.insert(site);
        }
        Ok(())
    }

    /// Puts each visitor's current name and email on their conversations:
    /// what a live batch does in SQL after its fold ([`rename_visitor`]),
    /// done in memory by a replay once at the end.
    fn show_visitor_names(&mut self) {
        for row in self.conversations.values_mut() {
            if let Some(visitor) = self.visitors.get(row.visitor_id) {
                row.visitor_name.clone_from(&visitor.name);
                row.visitor_email.clone_from(&visitor.email);
            }
        }
    }
}

/// Conversation `id` and its transcript (oldest first) as the inbox holds
/// them after `events`, folded from an empty inbox exactly as a rebuild
/// folds the whole log ([`InboxReplay`]). `events` are in position order
/// and of the inbox's types; `None` when they never open `id`.
///
/// # Errors
///
/// [`ProjectionError`] naming an event that cannot be decoded or applied.
pub(crate) fn replay_conversation(
    id: Uuid,
    events: &[RecordedEvent],
) -> Result<Option<(ConversationRow, Vec<MessageRow>)>, ProjectionError> {
    let mut inbox = Inbox::default();
    let mut changes = Changes::default();
    for event in events {
        inbox.fold(event, Decoded::new(event)?, &mut changes)?;
    }
    inbox.show_visitor_names();
    let Some(row) = inbox.conversations.get(id).cloned() else {
        return Ok(None);
    };
    let messages = inbox.messages.into_iter().filter(|m| m.conversation_id == id).collect();
    Ok(Some((row, messages)))
}

async fn apply(tx: &mut PgConnection, events: &[RecordedEvent], changes: &mut Changes) -> Result<(), ProjectionError> {
    let mut decoded = Vec::with_capacity(events.len());
    let (mut conversation_ids, mut visitor_ids) = (BTreeSet::new(), BTreeSet::new());
    for event in events {
        let d = Decoded::new(event)?;
        match &d {
            Decoded::Conversation(id, e) => {
                if let ConversationEvent::Opened(opened) = e {
                    visitor_ids.insert(opened.visitor_id.0);
                }
                conversation_ids.insert(*id);
            }
            Decoded::Visitor(id, _) => _ = visitor_ids.insert(*id),
        }
        decoded.push((event, d));
    }
    let mut reads = Reads::default();
    let (conversations, visitors) = (
        reads.rows(&CONVERSATIONS, conversation_ids),
        reads.rows(&VISITORS, visitor_ids),
    );
    let mut fetched = reads.fetch(tx).await?;
    let conversations: Vec<ConversationRow> = fetched.take(conversations)?;
    let visitors: Vec<VisitorRow> = fetched.take(visitors)?;
    let mut inbox = Inbox {
        conversations: Folded::loaded(conversations.into_iter().map(|r| (r.conversation_id, r))),
        visitors: Folded::loaded(visitors.into_iter().map(|r| (r.visitor_id, r))),
        ..Inbox::default()
    };
    for (event, d) in decoded {
        inbox.fold(event, d, changes)?;
    }
    // The rows as they will be committed, unless SQL changes them after
    // the fold (a visitor's new name onto their other conversations).
    let carried: Option<Vec<ConversationRow>> = inbox.renamed.is_empty().then(|| {
        changes
            .conversations
            .iter()
            .filter_map(|id| inbox.conversations.get(*id))
            .map(|row| stored_conversation(row.clone()))
            .collect()
    });
    let mut writes = Writes::default();
    let (rows, _) = inbox.visitors.into_writes();
    changes.sites.extend(rows.iter().map(|r| r.site_id));
    writes.upsert(&VISITORS, &rows)?;
    let (rows, _) = inbox.conversations.into_writes();
    changes.sites.extend(rows.iter().map(|r| r.site_id));
    writes.upsert(&CONVERSATIONS, &rows)?;
    writes.insert(&MESSAGES, &inbox.messages)?;
    writes.execute(tx).await?;
    if !inbox.renamed.is_empty() {
        rename_visitor(tx, &inbox.renamed.into_iter().collect::<Vec<_>>(), changes).await?;
    }
    if let Some(conversations) = carried {
        changes.rows = Some(Rows::Inbox {
            conversations,
            messages: inbox.messages.into_iter().map(stored_message).collect(),
        });
    }
    Ok(())
}

/// The inbox of the whole history in memory. Transcript rows are written
/// page by page; a conversation carries its visitor's current name and
/// email, as [`rename_visitor`] keeps it live.
struct InboxReplay(Inbox);

impl Replay for InboxReplay {
    fn apply(&mut self, events: &[&RecordedEvent]) -> Result<Vec<CopyRows>, ProjectionError> {
        let mut changes = Changes::default();
        for event in events {
            self.0.fold(event, Decoded::new(event)?, &mut changes)?;
        }
        self.0.renamed.clear();
        let messages = std::mem::take(&mut self.0.messages);
        Ok(vec![MESSAGES.encode(&messages)?])
    }

    fn finish(mut self: Box<Self>) -> Result<Vec<CopyRows>, ProjectionError> {
        self.0.show_visitor_names();
        let Inbox {
            conversations,
            visitors,
            ..
        } = self.0;
        Ok(vec![
            VISITORS.encode(visitors.values())?,
            CONVERSATIONS.encode(conversations.values())?,
        ])
    }
}

/// Copies the current name and email of `visitors` onto their
/// conversations.
async fn rename_visitor(tx: &mut PgConnection, visitors: &[Uuid], changes: &mut Changes) -> Result<(), sqlx::Error> {
    let renamed: Vec<(Uuid, Uuid)> = sqlx::query_as(
        "UPDATE conversations c SET visitor_name = v.name, visitor_email = v.email \
           FROM visitors v \
          WHERE v.visitor_id = ANY($1) AND c.visitor_id = v.visitor_id \
            AND (c.visitor_name IS DISTINCT FROM v.name OR c.visitor_email IS DISTINCT FROM v.email) \
         RETURNING c.conversation_id, c.site_id",
    )
    .bind(visitors)
    .fetch_all(tx)
    .await?;
    for (conversation, site) in renamed {
        changes.conversations.insert(conversation);
        changes.sites.insert(site);
    }
    Ok(())
}

fn fold_visitor(visitors: &mut Folded<VisitorRow>, event: &RecordedEvent, id: Uuid, e: &VisitorEvent) {
    let at = match e {
        VisitorEvent::FirstSeen(x) => x.at,
        VisitorEvent::Tagged(x) => x.at,
        VisitorEvent::AdditionalInfoSet(x) => x.at,
        VisitorEvent::Reset(x) => x.at,
    };
    if visitors.get(id).is_none() {
        let site = match e {
            VisitorEvent::FirstSeen(x) => x.site_id.0,
            _ => event.metadata.site_id.unwrap_or_default(),
        };
        visitors.put(id, VisitorRow::new(id, site, at));
    }
    let Some(row) = visitors.get_mut(id) else { return };
    match e {
        VisitorEvent::FirstSeen(x) => {
            row.site_id = x.site_id.0;
            row.first_seen_at = Some(x.at);
        }
        VisitorEvent::Tagged(x) => row.tag(&x.tag),
        VisitorEvent::AdditionalInfoSet(x) => {
            for (key, value) in &x.values {
                match value.as_ref().map(serde_json::to_value) {
                    Some(Ok(value)) => _ = row.additional_info.insert(key.clone(), value),
                    Some(Err(_)) | None => _ = row.additional_info.remove(key),
                }
            }
        }
        VisitorEvent::Reset(x) => row.reset_at = Some(x.at),
    }
    row.updated_at = row.updated_at.max(at);
    row.position = event.position as i64;
}

fn fold_conversation(
    conversations: &mut Folded<ConversationRow>,
    visitors: &mut Folded<VisitorRow>,
    messages: &mut Vec<MessageRow>,
    event: &RecordedEvent,
    id: Uuid,
    e: ConversationEvent,
) -> Result<(), ProjectionError> {
    let position = event.position as i64;
    let at = e.at();
    if let ConversationEvent::Opened(o) = &e {
        let visitor = o.visitor_id.0;
        if visitors.get(visitor).is_none() {
            visitors.put(visitor, VisitorRow::new(visitor, o.site_id.0, o.at));
        }
        let (visitor_name, visitor_email) = match visitors.get_mut(visitor) {
            Some(v) => {
                v.conversation_count += 1;
                v.last_conversation_id = Some(id);
                v.updated_at = v.updated_at.max(o.at);
                v.position = position;
                (v.name.clone(), v.email.clone())
            }
            None => (None, None),
        };
        conversations.put(
            id,
            ConversationRow {
                conversation_id: id,
                site_id: o.site_id.0,
                visitor_id: visitor,
                session_id: o.session_id.map(|s| s.0),
                provider: variant(&o.provider),
                status: "unread".into(),
                visitor_name,
                visitor_email,
                assignee_type: None,
                assignee_id: None,
                assignee_name: None,
                taken_over_by_id: None,
                taken_over_by_name: None,
                human_requested: false,
                last_message_preview: None,
                last_message_at: None,
                last_message_author: None,
                message_count: 0,
                note_count: 0,
                unread_count: 0,
                sla: BTreeMap::new(),
                sla_due_at: None,
                sla_breached: false,
                created_at: o.at,
                updated_at: o.at,
                position,
                first_response_at: None,
                done_at: None,
            },
        );
        return Ok(());
    }
    let Some(row) = conversations.get_mut(id) else {
        return Err(ProjectionError::Invalid {
            position: event.position,
            reason: format!("conversation {id} was never opened"),
        });
    };
    row.position = position;
    let mut touches = true;
    match e {
        ConversationEvent::Opened(_) => {}
        ConversationEvent::MessagePosted(m) => {
            let (author_type, author_id, author_name) = match &m.author {
                Author::Visitor { visitor_id } => ("visitor", Some(visitor_id.0), None),
                Author::Agent { agent } => ("agent", Some(agent.id.0), Some(agent.display_name.clone())),
                Author::Bot { name } => ("bot", None, Some(name.clone())),
                Author::System => ("system", None, None),
            };
            row.message_count += 1;
            match author_type {
                "visitor" => row.unread_count += 1,
                "agent" => {
                    row.unread_count = 0;
                    row.first_response_at = row.first_response_at.or(Some(m.at));
                }
                _ => {}
            }
            row.last_message_preview = Some(preview(&m.body));
            row.last_message_at = Some(m.at);
            row.last_message_author = Some(author_type.into());
            messages.push(MessageRow {
                message_id: m.message_id.0,
                conversation_id: id,
                site_id: row.site_id,
                internal: false,
                author_type: author_type.into(),
                author_id,
                author_name,
                body: m.body,
                attachments: serde_json::to_value(&m.attachments).unwrap_or_default(),
                client_message_id: m.client_message_id,
                at: m.at,
                position,
            });
        }
        ConversationEvent::NotePosted(n) => {
            row.note_count += 1;
            messages.push(MessageRow {
                message_id: n.note_id.0,
                conversation_id: id,
                site_id: row.site_id,
                internal: true,
                author_type: "agent".into(),
                author_id: Some(n.author.id.0),
                author_name: Some(n.author.display_name),
                body: n.body,
                attachments: serde_json::Value::Array(Vec::new()),
                client_message_id: None,
                at: n.at,
                position,
            });
        }
        ConversationEvent::StatusChanged(s) => {
            row.done_at = (s.to == ConversationStatus::Done).then_some(s.at);
            row.status = variant(&s.to);
        }
        ConversationEvent::Assigned(a) => {
            let (kind, assignee, name) = match a.assignee {
                Assignee::Agent { agent } => ("agent", agent.id.0, agent.display_name),
                Assignee::Team { team } => ("team", team.id.0, team.name),
            };
            row.assignee_type = Some(kind.into());
            row.assignee_id = Some(assignee);
            row.assignee_name = Some(name);
        }
        ConversationEvent::Unassigned(_) => {
            row.assignee_type = None;
            row.assignee_id = None;
            row.assignee_name = None;
        }
        ConversationEvent::TakenOver(t) => {
            row.taken_over_by_id = Some(t.agent.id.0);
            row.taken_over_by_name = Some(t.agent.display_name);
            row.human_requested = false;
        }
        ConversationEvent::Released(_) => {
            row.taken_over_by_id = None;
            row.taken_over_by_name = None;
        }
        ConversationEvent::HumanRequested(_) => row.human_requested = true,
        ConversationEvent::SlaApplied(s) => {
            for due in s.targets {
                let clock = SlaClockRow {
                    policy_id: s.policy_id.0,
                    due_at: due.due_at,
                    outcome: "pending".into(),
                };
                row.sla.insert(variant(&due.target), clock);
            }
            sla_summary(row);
        }
        ConversationEvent::SlaFulfilled(s) => settle(row, s.target, "fulfilled"),
        ConversationEvent::SlaBreached(s) => settle(row, s.target, "breached"),
        ConversationEvent::Watched(_)
        | ConversationEvent::SpecialRequestSent(_)
        | ConversationEvent::SpecialRequestAnswered(_)
        | ConversationEvent::TranscriptExported(_) => touches = false,
    }
    if touches {
        row.updated_at = row.updated_at.max(at);
    }
    Ok(())
}

fn settle(row: &mut ConversationRow, target: SlaTarget, outcome: &str) {
    if let Some(clock) = row.sla.get_mut(&variant(&target)) {
        clock.outcome = outcome.into();
    }
    sla_summary(row);
}

fn sla_summary(row: &mut ConversationRow) {
    row.sla_due_at = row
        .sla
        .values()
        .filter(|c| c.outcome == "pending")
        .map(|c| c.due_at)
        .min();
    row.sla_breached = row.sla.values().any(|c| c.outcome == "breached");
}
