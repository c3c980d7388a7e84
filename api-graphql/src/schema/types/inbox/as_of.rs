//! A conversation as the inbox showed it at a past moment
//! (`conversationAsOf`).

use async_graphql::connection::{Connection, EmptyFields};
use async_graphql::{Context, Object};
use chrono::{DateTime, Utc};
use livedesk_projections::as_of::ConversationAsOf as Folded;
use livedesk_projections::models::inbox::{ConversationRow, MessageRow};

use super::{ConversationFields, Message};
use crate::auth::Permission;
use crate::error::ApiResult;
use crate::schema::principal;
use crate::schema::types::{Cursor, Page};

/// A conversation as the inbox showed it at a past moment: the fields of
/// `Conversation` with their values then, and the transcript up to then.
/// Nothing here reads today's read model: no `visitor` (ask `visitor(id)`
/// for the visitor now), and `messages` are those posted by the moment.
#[derive(Debug, Clone)]
pub struct ConversationAsOf {
    row: ConversationRow,
    messages: Vec<MessageRow>,
    at: DateTime<Utc>,
}

impl ConversationAsOf {
    /// The conversation folded as of `at`.
    pub fn new(folded: Folded, at: DateTime<Utc>) -> Self {
        Self {
            row: folded.row,
            messages: folded.messages,
            at,
        }
    }
}

#[Object]
impl ConversationAsOf {
    /// The inbox row's own fields, as they were then.
    #[graphql(flatten)]
    async fn fields(&self) -> ConversationFields {
        ConversationFields(self.row.clone())
    }
    /// The moment shown.
    async fn at(&self) -> DateTime<Utc> {
        self.at
    }
    /// The position in the event log of the last event the state includes.
    async fn position(&self) -> String {
        self.row.position.to_string()
    }
    /// The transcript up to the moment, oldest first, paged as
    /// `Conversation.messages`: messages and (for every role but
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
        // As the read model's query: after the cursor's message (note or
        // not), from the start for a message not in this transcript.
        let start = page
            .after
            .as_ref()
            .and_then(|c| self.messages.iter().position(|m| m.message_id == c.id))
            .map_or(0, |i| i + 1);
        let rows = self.messages[start..]
            .iter()
            .filter(|m| notes || !m.internal)
            .take(usize::try_from(page.limit()).unwrap_or(usize::MAX))
            .cloned()
            .collect();
        Ok(page.connect(
            rows,
            EmptyFields,
            |m| Cursor {
                at: Some(m.at),
                id: m.message_id,
            },
            Message,
        ))
    }
}
