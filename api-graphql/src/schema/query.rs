//! Queries: the Live View, the inbox, people and configuration. Each is
//! scoped to the token's site.

use async_graphql::connection::Connection;
use async_graphql::{Context, ID, InputObject, Object};
use livedesk_domain::session::SessionCode;

use super::types::{
    Agent, ApiToken, Conversation, ConversationOrder, Cursor, DeviceClass, LiveSession, Me, OnlineCount, Page,
    Provider, SessionStatus, Site, StatusFilter, Team, TextBlock, Visitor, parse_id,
};
use super::{api, principal};
use crate::auth::Permission;
use crate::error::{ApiError, ApiResult};
use crate::reads::{self, InboxFilter, LiveFilter};

/// Longest free-text filter.
const MAX_FILTER_CHARS: usize = 256;

/// Checks a free-text argument's length.
///
/// # Errors
///
/// [`ApiError::BadInput`] naming the argument.
pub(crate) fn short_text(argument: &str, value: Option<String>) -> ApiResult<Option<String>> {
    match value {
        Some(v) if v.chars().count() > MAX_FILTER_CHARS => Err(ApiError::BadInput(format!(
            "{argument} is longer than {MAX_FILTER_CHARS} characters"
        ))),
        Some(v) if v.trim().is_empty() => Ok(None),
        other => Ok(other),
    }
}

fn snake<T: serde::Serialize>(value: T) -> Option<String> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => Some(s),
        _ => None,
    }
}

/// Which sessions the Live View lists.
#[derive(Debug, Clone, Default, InputObject)]
pub struct LiveSessionFilter {
    /// Active or idle.
    pub status: Option<SessionStatus>,
    /// Text the current path contains.
    pub path: Option<String>,
    /// Text the browser contains.
    pub browser: Option<String>,
    /// The device class.
    pub device: Option<DeviceClass>,
    /// Text the operating system contains.
    pub os: Option<String>,
    /// ISO country code.
    pub country: Option<String>,
    /// A label the visitor has.
    pub tag: Option<String>,
}

impl LiveSessionFilter {
    pub(crate) fn read(self) -> ApiResult<LiveFilter> {
        Ok(LiveFilter {
            status: self.status.and_then(snake),
            path: short_text("filter.path", self.path)?,
            browser: short_text("filter.browser", self.browser)?,
            device: self.device.and_then(snake),
            os: short_text("filter.os", self.os)?,
            country: short_text("filter.country", self.country)?,
            tag: short_text("filter.tag", self.tag)?,
        })
    }
}

/// Which conversations an inbox list holds.
#[derive(Debug, Clone, Default, InputObject)]
pub struct ConversationFilter {
    /// The folder; Unread when left out.
    pub status: Option<StatusFilter>,
    /// Only those assigned to the token's agent.
    pub assigned_to_me: Option<bool>,
    /// Only from this provider.
    pub provider: Option<Provider>,
    /// Text the visitor's name or email contains.
    pub search: Option<String>,
}

impl ConversationFilter {
    pub(crate) fn read(self, ctx: &Context<'_>) -> ApiResult<InboxFilter> {
        let status = match self.status.unwrap_or(StatusFilter::Unread) {
            StatusFilter::All => None,
            other => snake(other),
        };
        let assigned_to = match self.assigned_to_me {
            Some(true) => Some(principal(ctx)?.agent_ref()?.id.0),
            _ => None,
        };
        Ok(InboxFilter {
            status,
            assigned_to,
            provider: self.provider.and_then(snake),
            search: short_text("search", self.search)?.map(|s| s.to_lowercase()),
        })
    }
}

/// The Live View.
#[derive(Debug, Default)]
pub struct LiveQuery;

#[Object]
impl LiveQuery {
    /// The caller: token, role, site and agent.
    async fn me(&self, ctx: &Context<'_>) -> ApiResult<Me> {
        Ok(Me(principal(ctx)?.clone()))
    }

    /// Sessions live on a site now, newest first, with the online count.
    async fn live_sessions(
        &self,
        ctx: &Context<'_>,
        site_id: ID,
        filter: Option<LiveSessionFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<Cursor, LiveSession, OnlineCount>> {
        let site = parse_id("siteId", &site_id)?;
        principal(ctx)?.require_on(site, Permission::Read)?;
        let filter = filter.unwrap_or_default().read()?;
        let page = Page::new(first, after, 50)?;
        let pool = &api(ctx).pool;
        let rows = reads::live_sessions(pool, site, &filter, &page.keyset()).await?;
        let online_count = reads::online_count(pool, site).await?;
        Ok(page.connect(
            rows,
            OnlineCount { online_count },
            |s| Cursor {
                at: Some(s.started_at),
                id: s.session_id,
            },
            LiveSession::live,
        ))
    }

    /// A live session by id; `null` once it ended (the Live View keeps
    /// live sessions only) and for an unknown id.
    async fn live_session(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<LiveSession>> {
        let id = parse_id("id", &id)?;
        let principal = principal(ctx)?;
        let Some(row) = reads::live_sessions_by_id(&api(ctx).pool, &[id]).await?.pop() else {
            return Ok(None);
        };
        principal.require_on(row.site_id, Permission::Read)?;
        Ok(Some(LiveSession::live(row)))
    }

    /// The live session whose visitor shared `code` ("connect by code").
    async fn session_by_code(&self, ctx: &Context<'_>, site_id: ID, code: String) -> ApiResult<Option<LiveSession>> {
        let site = parse_id("siteId", &site_id)?;
        principal(ctx)?.require_on(site, Permission::Read)?;
        let code = SessionCode::parse(&code).map_err(|e| ApiError::BadInput(e.to_string()))?;
        Ok(reads::session_by_code(&api(ctx).pool, site, code.as_str())
            .await?
            .map(LiveSession::live))
    }
}

/// The inbox.
#[derive(Debug, Default)]
pub struct InboxQuery;

#[Object]
impl InboxQuery {
    /// A site's conversations: Unread by default, newest first.
    #[expect(clippy::too_many_arguments, reason = "one GraphQL argument each")]
    async fn conversations(
        &self,
        ctx: &Context<'_>,
        site_id: ID,
        status: Option<StatusFilter>,
        assigned_to_me: Option<bool>,
        provider: Option<Provider>,
        search: Option<String>,
        #[graphql(default_with = "ConversationOrder::Newest")] order_by: ConversationOrder,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<Cursor, Conversation>> {
        let site = parse_id("siteId", &site_id)?;
        principal(ctx)?.require_on(site, Permission::Read)?;
        let filter = ConversationFilter {
            status,
            assigned_to_me,
            provider,
            search,
        }
        .read(ctx)?;
        let page = Page::new(first, after, 25)?;
        let rows = reads::conversations(&api(ctx).pool, site, &filter, order_by.into(), &page.keyset()).await?;
        Ok(page.connect(
            rows,
            async_graphql::connection::EmptyFields,
            |c| match order_by {
                ConversationOrder::Newest => Cursor {
                    at: Some(c.updated_at),
                    id: c.conversation_id,
                },
                ConversationOrder::Sla => Cursor {
                    at: c.sla_due_at,
                    id: c.conversation_id,
                },
            },
            Conversation,
        ))
    }

    /// One conversation with its transcript, visitor, assignee, take-over
    /// state and SLA.
    async fn conversation(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<Conversation>> {
        let id = parse_id("id", &id)?;
        let principal = principal(ctx)?;
        let Some(row) = reads::conversation(&api(ctx).pool, id).await? else {
            return Ok(None);
        };
        principal.require_on(row.site_id, Permission::Read)?;
        Ok(Some(Conversation(row)))
    }

    /// A visitor with additional information and past conversations.
    async fn visitor(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<Visitor>> {
        let id = parse_id("id", &id)?;
        let principal = principal(ctx)?;
        let Some(row) = reads::visitor(&api(ctx).pool, id).await? else {
            return Ok(None);
        };
        principal.require_on(row.site_id, Permission::Read)?;
        Ok(Some(Visitor(row)))
    }

    /// Text blocks for the `#` search: shortcut or title containing
    /// `search`, up to 50.
    async fn text_blocks(&self, ctx: &Context<'_>, site_id: ID, search: Option<String>) -> ApiResult<Vec<TextBlock>> {
        let site = parse_id("siteId", &site_id)?;
        principal(ctx)?.require_on(site, Permission::Read)?;
        let search = short_text("search", search)?;
        let rows = reads::text_blocks(&api(ctx).pool, site, search.as_deref()).await?;
        Ok(rows.into_iter().map(TextBlock).collect())
    }
}

/// People and configuration.
#[derive(Debug, Default)]
pub struct PeopleQuery;

#[Object]
impl PeopleQuery {
    /// Agents with a role on the site, by display name.
    async fn agents(&self, ctx: &Context<'_>, site_id: ID) -> ApiResult<Vec<Agent>> {
        let site = parse_id("siteId", &site_id)?;
        principal(ctx)?.require_on(site, Permission::Read)?;
        let rows = reads::agents_of_site(&api(ctx).pool, site).await?;
        Ok(rows.into_iter().map(|row| Agent { row, site_id: site }).collect())
    }

    /// The site's teams.
    async fn teams(&self, ctx: &Context<'_>, site_id: ID) -> ApiResult<Vec<Team>> {
        let site = parse_id("siteId", &site_id)?;
        principal(ctx)?.require_on(site, Permission::Read)?;
        Ok(reads::teams(&api(ctx).pool, site)
            .await?
            .into_iter()
            .map(Team)
            .collect())
    }

    /// The site: name, origins, settings, custom fields.
    async fn site(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<Site>> {
        let site = parse_id("id", &id)?;
        principal(ctx)?.require_on(site, Permission::Read)?;
        Ok(reads::site(&api(ctx).pool, site).await?.map(Site))
    }

    /// The site's API tokens (admins only; never their secrets).
    async fn api_tokens(&self, ctx: &Context<'_>, site_id: ID) -> ApiResult<Vec<ApiToken>> {
        let site = parse_id("siteId", &site_id)?;
        principal(ctx)?.require_on(site, Permission::ManageSite)?;
        Ok(reads::tokens(&api(ctx).pool, site)
            .await?
            .into_iter()
            .map(ApiToken)
            .collect())
    }
}
