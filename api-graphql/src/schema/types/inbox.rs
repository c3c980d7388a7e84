//! The inbox: conversations, their messages and notes, visitors; and a
//! conversation as of a past moment ([`ConversationAsOf`]).

mod as_of;

pub use as_of::ConversationAsOf;

use async_graphql::connection::Connection;
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use livedesk_projections::models::inbox::{ConversationRow, MessageRow, VisitorRow};

use super::{
    AssigneeKind, AttachmentKind, AuthorType, ConversationStatus, Cursor, Page, Provider, SlaOutcome, SlaTarget, stored,
};
use crate::auth::Permission;
use crate::error::ApiResult;
use crate::reads;
use crate::schema::{api, principal};

/// A chat between a visitor and the site: the inbox row, with its
/// transcript, visitor, assignee, take-over state and SLA.
#[derive(Debug, Clone)]
pub struct Conversation(pub ConversationRow);

/// The fields of a conversation that come from its inbox row alone,
/// flattened into `Conversation` and `ConversationAsOf` (not a type of
/// the schema by itself).
#[derive(Debug, Clone)]
pub struct ConversationFields(pub ConversationRow);

/// Who a conversation is assigned to.
#[derive(Debug, Clone, SimpleObject)]
pub struct Assignee {
    /// Agent or team.
    pub kind: AssigneeKind,
    /// The agent's or team's id.
    pub id: ID,
    /// Its name.
    pub name: String,
}

/// The human who took a conversation over from the AI.
#[derive(Debug, Clone, SimpleObject)]
pub struct TakeOver {
    /// The agent's id.
    pub agent_id: ID,
    /// The display name the visitor sees on the "Live agent" badge.
    pub display_name: String,
}

/// One SLA clock of a conversation.
#[derive(Debug, Clone, SimpleObject)]
pub struct SlaClock {
    /// `first_response`, `next_response` or `resolution`.
    pub target: String,
    /// The policy that set it.
    pub policy_id: ID,
    /// When it falls due.
    pub due_at: DateTime<Utc>,
    /// Pending, fulfilled or breached.
    pub outcome: SlaOutcome,
}

#[Object]
impl Conversation {
    /// The inbox row's own fields (shared with `ConversationAsOf`).
    #[graphql(flatten)]
    async fn fields(&self) -> ConversationFields {
        ConversationFields(self.0.clone())
    }
    /// The visitor, with additional information and past conversations.
    async fn visitor(&self, ctx: &Context<'_>) -> ApiResult<Option<Visitor>> {
        Ok(reads::visitor(&api(ctx).pool, self.0.visitor_id).await?.map(Visitor))
    }
    /// The transcript, oldest first: messages and (for every role but
    /// integrator) internal notes, flagged `internal`.
    async fn messages(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        #[graphql(default = true)] include_notes: bool,
    ) -> ApiResult<Connection<Cursor, Message>> {
        let page = Page::new(first, after, 50)?;
        let notes = include_notes && principal(ctx)?.require(Permission::ReadNotes).is_ok();
        let rows = reads::messages(&api(ctx).pool, self.0.conversation_id, notes, &page.keyset()).await?;
        Ok(page.connect(
            rows,
            async_graphql::connection::EmptyFields,
            |m| Cursor {
                at: Some(m.at),
                id: m.message_id,
            },
            Message,
        ))
    }
}

#[Object]
impl ConversationFields {
    /// The conversation.
    async fn id(&self) -> ID {
        ID(self.0.conversation_id.to_string())
    }
    /// Its site.
    async fn site_id(&self) -> ID {
        ID(self.0.site_id.to_string())
    }
    /// Inbox status.
    async fn status(&self) -> ApiResult<ConversationStatus> {
        stored(&self.0.status)
    }
    /// Where it came from.
    async fn provider(&self) -> ApiResult<Provider> {
        stored(&self.0.provider)
    }
    /// The browsing session it began in (web chat).
    async fn session_id(&self) -> Option<ID> {
        self.0.session_id.map(|id| ID(id.to_string()))
    }
    /// The visitor's id.
    async fn visitor_id(&self) -> ID {
        ID(self.0.visitor_id.to_string())
    }
    /// The visitor's name, from their tags.
    async fn visitor_name(&self) -> Option<&str> {
        self.0.visitor_name.as_deref()
    }
    /// The visitor's email, from their tags.
    async fn visitor_email(&self) -> Option<&str> {
        self.0.visitor_email.as_deref()
    }
    /// The agent or team it is assigned to.
    async fn assignee(&self) -> ApiResult<Option<Assignee>> {
        let (Some(kind), Some(id)) = (&self.0.assignee_type, self.0.assignee_id) else {
            return Ok(None);
        };
        Ok(Some(Assignee {
            kind: stored(kind)?,
            id: ID(id.to_string()),
            name: self.0.assignee_name.clone().unwrap_or_default(),
        }))
    }
    /// The human holding it; `null` while the AI handles it.
    async fn taken_over_by(&self) -> Option<TakeOver> {
        Some(TakeOver {
            agent_id: ID(self.0.taken_over_by_id?.to_string()),
            display_name: self.0.taken_over_by_name.clone().unwrap_or_default(),
        })
    }
    /// Whether the AI may reply now (nobody has taken over).
    async fn ai_active(&self) -> bool {
        self.0.taken_over_by_id.is_none()
    }
    /// Someone asked for a human and none has taken over since.
    async fn human_requested(&self) -> bool {
        self.0.human_requested
    }
    /// The start of the last message (notes excluded).
    async fn last_message_preview(&self) -> Option<&str> {
        self.0.last_message_preview.as_deref()
    }
    /// When it was posted.
    async fn last_message_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_message_at
    }
    /// Who wrote it.
    async fn last_message_author(&self) -> ApiResult<Option<AuthorType>> {
        self.0.last_message_author.as_deref().map(stored).transpose()
    }
    /// Messages (notes excluded).
    async fn message_count(&self) -> i32 {
        self.0.message_count
    }
    /// Internal notes.
    async fn note_count(&self) -> i32 {
        self.0.note_count
    }
    /// Visitor messages since the last agent message.
    async fn unread_count(&self) -> i32 {
        self.0.unread_count
    }
    /// The earliest pending SLA due time.
    async fn sla_due_at(&self) -> Option<DateTime<Utc>> {
        self.0.sla_due_at
    }
    /// Which target falls due at `slaDueAt` (the pending clock due
    /// soonest), if any.
    async fn sla_due_target(&self) -> ApiResult<Option<SlaTarget>> {
        self.0
            .sla
            .iter()
            .filter(|(_, clock)| clock.outcome == "pending")
            .min_by_key(|(_, clock)| clock.due_at)
            .map(|(target, _)| stored(target))
            .transpose()
    }
    /// Whether an SLA clock was missed.
    async fn sla_breached(&self) -> bool {
        self.0.sla_breached
    }
    /// Every SLA clock.
    async fn sla(&self) -> ApiResult<Vec<SlaClock>> {
        self.0
            .sla
            .iter()
            .map(|(target, clock)| {
                Ok(SlaClock {
                    target: target.clone(),
                    policy_id: ID(clock.policy_id.to_string()),
                    due_at: clock.due_at,
                    outcome: stored(&clock.outcome)?,
                })
            })
            .collect()
    }
    /// When it opened.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// The last change to the row.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// A message or internal note.
#[derive(Debug, Clone)]
pub struct Message(pub MessageRow);

/// Who wrote a message.
#[derive(Debug, Clone, SimpleObject)]
pub struct Author {
    /// Visitor, agent, bot or system.
    #[graphql(name = "type")]
    pub kind: AuthorType,
    /// The visitor's or agent's id.
    pub id: Option<ID>,
    /// The agent's display name or the bot's name.
    pub name: Option<String>,
}

/// Something sent with a message.
#[derive(Debug, Clone, SimpleObject, serde::Deserialize)]
pub struct Attachment {
    /// What it is.
    pub kind: AttachmentKind,
    /// Where it is: a URL or an upload, article or flow id.
    pub reference: String,
}

/// An attachment to send.
#[derive(Debug, Clone, InputObject)]
pub struct AttachmentInput {
    /// What it is.
    pub kind: AttachmentKind,
    /// Where it is (up to 2,048 characters).
    pub reference: String,
}

#[Object]
impl Message {
    /// The message.
    async fn id(&self) -> ID {
        ID(self.0.message_id.to_string())
    }
    /// Its conversation.
    async fn conversation_id(&self) -> ID {
        ID(self.0.conversation_id.to_string())
    }
    /// An internal note: never shown to the visitor.
    async fn internal(&self) -> bool {
        self.0.internal
    }
    /// Who wrote it.
    async fn author(&self) -> ApiResult<Author> {
        Ok(Author {
            kind: stored(&self.0.author_type)?,
            id: self.0.author_id.map(|id| ID(id.to_string())),
            name: self.0.author_name.clone(),
        })
    }
    /// The text.
    async fn body(&self) -> &str {
        &self.0.body
    }
    /// Attachments.
    async fn attachments(&self) -> ApiResult<Vec<Attachment>> {
        serde_json::from_value(self.0.attachments.clone())
            .map_err(|e| crate::error::ApiError::internal(format!("attachments of {}: {e}", self.0.message_id)))
    }
    /// The sender's own id for the message.
    async fn client_message_id(&self) -> Option<&str> {
        self.0.client_message_id.as_deref()
    }
    /// When it was posted.
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
    /// Its position in the event log (transcripts are ordered by it).
    async fn position(&self) -> String {
        self.0.position.to_string()
    }
}

/// A visitor identity: tags, additional information, past conversations.
#[derive(Debug, Clone)]
pub struct Visitor(pub VisitorRow);

/// One "additional information" value.
#[derive(Debug, Clone, SimpleObject)]
pub struct AdditionalInfo {
    /// The field's key.
    pub key: String,
    /// The value: `{"type": "text" | "number" | ..., "value": ...}`.
    pub value: async_graphql::Json<serde_json::Value>,
}

#[Object]
impl Visitor {
    /// The visitor.
    async fn id(&self) -> ID {
        ID(self.0.visitor_id.to_string())
    }
    /// Their site.
    async fn site_id(&self) -> ID {
        ID(self.0.site_id.to_string())
    }
    /// First and last name.
    async fn name(&self) -> Option<&str> {
        self.0.name.as_deref()
    }
    /// Email.
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }
    /// Labels.
    async fn labels(&self) -> &[String] {
        &self.0.labels
    }
    /// The site's id of the logged-in user.
    async fn external_user_id(&self) -> Option<&str> {
        self.0.external_user_id.as_deref()
    }
    /// The agent (email) the site routes them to.
    async fn assigned_user(&self) -> Option<&str> {
        self.0.assigned_user.as_deref()
    }
    /// Additional information by field key.
    async fn additional_info(&self) -> Vec<AdditionalInfo> {
        self.0
            .additional_info
            .iter()
            .map(|(key, value)| AdditionalInfo {
                key: key.clone(),
                value: async_graphql::Json(value.clone()),
            })
            .collect()
    }
    /// When first seen.
    async fn first_seen_at(&self) -> Option<DateTime<Utc>> {
        self.0.first_seen_at
    }
    /// When the identity was retired by a logout.
    async fn reset_at(&self) -> Option<DateTime<Utc>> {
        self.0.reset_at
    }
    /// Conversations opened.
    async fn conversation_count(&self) -> i32 {
        self.0.conversation_count
    }
    /// Their conversations, newest first.
    async fn conversations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<Cursor, Conversation>> {
        let page = Page::new(first, after, 20)?;
        let rows = reads::visitor_conversations(&api(ctx).pool, self.0.visitor_id, &page.keyset()).await?;
        Ok(page.connect(
            rows,
            async_graphql::connection::EmptyFields,
            |c| Cursor {
                at: Some(c.created_at),
                id: c.conversation_id,
            },
            Conversation,
        ))
    }
}
