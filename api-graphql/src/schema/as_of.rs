//! State as of a moment, for admins, supervisors, analysts and
//! integrators (`Permission::ReadHistory`): a conversation or a Live View
//! session as the read model showed it at `at`, folded from the events
//! recorded up to then with the projectors' own fold
//! (`livedesk_projections::as_of`, `docs/projections.md`).

use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use livedesk_projections::as_of;

use super::types::{ConversationAsOf, LiveSession, parse_id};
use super::{api, principal};
use crate::auth::Permission;
use crate::error::{ApiError, ApiResult};

/// Past states.
#[derive(Debug, Default)]
pub struct AsOfQuery;

#[Object]
impl AsOfQuery {
    /// Conversation `id` as the inbox showed it at `at`: its fields then
    /// and its transcript up to then (events recorded at or before `at`).
    /// `null` for an unknown id and for a conversation not yet opened at
    /// `at`. Not for agents.
    async fn conversation_as_of(
        &self,
        ctx: &Context<'_>,
        id: ID,
        at: DateTime<Utc>,
    ) -> ApiResult<Option<ConversationAsOf>> {
        let id = parse_id("id", &id)?;
        let principal = principal(ctx)?;
        principal.require(Permission::ReadHistory)?;
        let found = as_of::conversation(&api(ctx).store, id, at)
            .await
            .map_err(ApiError::internal)?;
        let Some(found) = found else {
            return Ok(None);
        };
        principal.require_site(found.site_id)?;
        Ok(found.state.map(|state| ConversationAsOf::new(state, at)))
    }

    /// Session `id` as the Live View showed it at `at` (events recorded at
    /// or before `at`). `null` for an unknown id, before the session
    /// started and from the moment it ended, as the Live View then had no
    /// row for it. `timeActiveSeconds` counts up to `at`. Not for agents.
    async fn session_as_of(&self, ctx: &Context<'_>, id: ID, at: DateTime<Utc>) -> ApiResult<Option<LiveSession>> {
        let id = parse_id("id", &id)?;
        let principal = principal(ctx)?;
        principal.require(Permission::ReadHistory)?;
        let found = as_of::session(&api(ctx).store, id, at)
            .await
            .map_err(ApiError::internal)?;
        let Some(found) = found else {
            return Ok(None);
        };
        principal.require_site(found.site_id)?;
        Ok(found.state.map(|row| LiveSession::as_of(row, at)))
    }
}
