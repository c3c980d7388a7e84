//! Mutations on live sessions: connect by code, connection requests.

use async_graphql::{Context, ID, Object};
use chrono::{TimeDelta, Utc};
use livedesk_domain::RequestId;
use livedesk_domain::session::{SessionCode, SessionCommand};
use livedesk_projections::models::live_view::LiveSessionRow;
use uuid::Uuid;

use super::types::{LiveSession, parse_id};
use super::{api, principal};
use crate::auth::{Permission, Principal};
use crate::commands::ReadModel;
use crate::error::{ApiError, ApiResult};
use crate::reads;

async fn run(
    ctx: &Context<'_>,
    principal: &Principal,
    row: &LiveSessionRow,
    command: SessionCommand,
) -> ApiResult<Option<LiveSession>> {
    let api = api(ctx);
    api.commands
        .run(
            &api.commands.sessions,
            row.session_id,
            command,
            principal,
            row.site_id,
            ReadModel::LiveView,
        )
        .await?;
    Ok(reads::live_session(&api.pool, row.session_id)
        .await?
        .map(LiveSession::live))
}

/// Connect by code and connection requests.
#[derive(Debug, Default)]
pub struct SessionMutation;

#[Object]
impl SessionMutation {
    /// Connects the caller's agent to the session whose visitor read out
    /// `code` (after sharing it in the widget).
    async fn connect_by_code(&self, ctx: &Context<'_>, site_id: ID, code: String) -> ApiResult<Option<LiveSession>> {
        let site = parse_id("siteId", &site_id)?;
        let principal = principal(ctx)?;
        principal.require_on(site, Permission::HandleConversations)?;
        let agent = principal.staff(Permission::HandleConversations)?.agent;
        let code = SessionCode::parse(&code).map_err(|e| ApiError::BadInput(e.to_string()))?;
        let row = reads::session_by_code(&api(ctx).pool, site, code.as_str())
            .await?
            .ok_or_else(|| ApiError::NotFound("no live session shares that code".into()))?;
        let command = SessionCommand::ConnectByCode {
            code,
            agent,
            at: Utc::now(),
        };
        run(ctx, principal, &row, command).await
    }

    /// Asks the visitor of a live session to let the caller's agent
    /// connect; the request lapses after `expiresInSeconds` (10 to 600,
    /// 120 by default).
    async fn send_connection_request(
        &self,
        ctx: &Context<'_>,
        session_id: ID,
        #[graphql(default = 120)] expires_in_seconds: i32,
    ) -> ApiResult<Option<LiveSession>> {
        let id = parse_id("sessionId", &session_id)?;
        if !(10..=600).contains(&expires_in_seconds) {
            return Err(ApiError::BadInput("expiresInSeconds must be 10 to 600".into()));
        }
        let principal = principal(ctx)?;
        let row = reads::live_session(&api(ctx).pool, id)
            .await?
            .ok_or_else(|| ApiError::NotFound("no such live session".into()))?;
        principal.require_on(row.site_id, Permission::HandleConversations)?;
        let at = Utc::now();
        let command = SessionCommand::RequestConnection {
            request_id: RequestId(Uuid::now_v7()),
            agent: principal.staff(Permission::HandleConversations)?.agent,
            expires_at: at + TimeDelta::seconds(i64::from(expires_in_seconds)),
            at,
        };
        run(ctx, principal, &row, command).await
    }
}
