//! The Live View: one active visitor session.

use async_graphql::{ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use livedesk_projections::models::live_view::LiveSessionRow;

use super::{DeviceClass, SessionStatus, stored};
use crate::error::ApiResult;

/// A visitor's browsing session, live on the site now (or, from
/// `sessionAsOf`, live at a past moment).
#[derive(Debug, Clone)]
pub struct LiveSession {
    /// Its `live_sessions` row.
    pub row: LiveSessionRow,
    /// The moment the row shows: `None` for now (the read model), the
    /// moment asked for by `sessionAsOf`.
    pub at: Option<DateTime<Utc>>,
}

impl LiveSession {
    /// A row of the live read model: the session now.
    pub fn live(row: LiveSessionRow) -> Self {
        Self { row, at: None }
    }

    /// The session as it was at `at`.
    pub fn as_of(row: LiveSessionRow, at: DateTime<Utc>) -> Self {
        Self { row, at: Some(at) }
    }
}

/// The number of sessions live on a site.
#[derive(Debug, Clone, SimpleObject)]
pub struct OnlineCount {
    /// Sessions live now ("N online").
    pub online_count: i64,
}

/// An agent as a session remembers them.
#[derive(Debug, Clone, SimpleObject)]
pub struct SessionAgent {
    /// The agent.
    pub id: ID,
    /// The name the visitor sees.
    pub display_name: String,
}

fn session_agent(value: Option<&serde_json::Value>) -> Option<SessionAgent> {
    let value = value?;
    Some(SessionAgent {
        id: ID(value.get("id")?.as_str()?.to_owned()),
        display_name: value.get("display_name")?.as_str()?.to_owned(),
    })
}

#[Object]
impl LiveSession {
    /// The session.
    async fn id(&self) -> ID {
        ID(self.row.session_id.to_string())
    }
    /// Its site.
    async fn site_id(&self) -> ID {
        ID(self.row.site_id.to_string())
    }
    /// Its visitor.
    async fn visitor_id(&self) -> ID {
        ID(self.row.visitor_id.to_string())
    }
    /// The code the visitor reads out for "connect by code" (only once
    /// they chose to share it).
    async fn code(&self) -> Option<&str> {
        self.row.code_shared.then_some(self.row.code.as_str())
    }
    /// Active or idle.
    async fn status(&self) -> ApiResult<SessionStatus> {
        stored(&self.row.status)
    }
    /// The page the visitor is on.
    async fn current_path(&self) -> &str {
        &self.row.current_path
    }
    /// Its title.
    async fn current_title(&self) -> Option<&str> {
        self.row.current_title.as_deref()
    }
    /// Where the visitor came from.
    async fn referrer(&self) -> Option<&str> {
        self.row.referrer.as_deref()
    }
    /// Browser and version.
    async fn browser(&self) -> &str {
        &self.row.browser
    }
    /// Device class.
    async fn device(&self) -> ApiResult<DeviceClass> {
        stored(&self.row.device)
    }
    /// Operating system.
    async fn os(&self) -> &str {
        &self.row.os
    }
    /// ISO 3166-1 alpha-2 country.
    async fn country(&self) -> Option<&str> {
        self.row.country.as_deref()
    }
    /// The visitor's tagged name.
    async fn visitor_name(&self) -> Option<&str> {
        self.row.visitor_name.as_deref()
    }
    /// The visitor's tagged email.
    async fn visitor_email(&self) -> Option<&str> {
        self.row.visitor_email.as_deref()
    }
    /// The visitor's labels.
    async fn tags(&self) -> &[String] {
        &self.row.labels
    }
    /// Tabs open in the session.
    async fn tabs(&self) -> i32 {
        self.row.tabs
    }
    /// Pages viewed.
    async fn page_views(&self) -> i32 {
        self.row.page_views
    }
    /// The agent connected to the session.
    async fn connected_agent(&self) -> Option<SessionAgent> {
        session_agent(self.row.connected_agent.as_ref())
    }
    /// The agent co-browsing.
    async fn co_browsing_agent(&self) -> Option<SessionAgent> {
        session_agent(self.row.co_browsing_agent.as_ref())
    }
    /// The session's newest conversation.
    async fn conversation_id(&self) -> Option<ID> {
        self.row.conversation_id.map(|id| ID(id.to_string()))
    }
    /// Messages in the session's conversations.
    async fn message_count(&self) -> i32 {
        self.row.message_count
    }
    /// The start of the last message.
    async fn last_message_preview(&self) -> Option<&str> {
        self.row.last_message_preview.as_deref()
    }
    /// When it was posted.
    async fn last_message_at(&self) -> Option<DateTime<Utc>> {
        self.row.last_message_at
    }
    /// When the session started.
    async fn started_at(&self) -> DateTime<Utc> {
        self.row.started_at
    }
    /// The visitor's last activity.
    async fn last_activity_at(&self) -> DateTime<Utc> {
        self.row.last_activity_at
    }
    /// When the session ends at the latest.
    async fn expires_at(&self) -> DateTime<Utc> {
        self.row.expires_at
    }
    /// Seconds since the session started ("time active"); as of a past
    /// moment, the seconds from its start to that moment.
    async fn time_active_seconds(&self) -> i64 {
        (self.at.unwrap_or_else(Utc::now) - self.row.started_at)
            .num_seconds()
            .max(0)
    }
}
