//! The inbox's folder counts.

use async_graphql::{Context, ID, Object, SimpleObject};

use super::query::ConversationFilter;
use super::types::{Provider, parse_id};
use super::{api, principal};
use crate::auth::Permission;
use crate::error::ApiResult;
use crate::reads;

/// How many conversations each inbox folder holds.
#[derive(SimpleObject, Debug, Clone, Copy, PartialEq, Eq)]
pub struct FolderCounts {
    /// Unread: the visitor wrote and nobody has answered or opened it.
    pub unread: i64,
    /// Unresolved: answered, not done.
    pub unresolved: i64,
    /// Done.
    pub done: i64,
    /// Every conversation.
    pub all: i64,
}

/// The counts query.
#[derive(Default, Debug)]
pub struct CountsQuery;

#[Object]
impl CountsQuery {
    /// How many conversations each folder of the inbox holds, with the
    /// inbox's "assigned to me" and provider filters. One grouped count
    /// over the site's conversations: ask again when `conversationsChanged`
    /// pushes (at most about once a second).
    async fn conversation_counts(
        &self,
        ctx: &Context<'_>,
        site_id: ID,
        assigned_to_me: Option<bool>,
        provider: Option<Provider>,
    ) -> ApiResult<FolderCounts> {
        let site = parse_id("siteId", &site_id)?;
        principal(ctx)?.require_on(site, Permission::Read)?;
        let filter = ConversationFilter {
            status: None,
            assigned_to_me,
            provider,
            search: None,
        }
        .read(ctx)?;
        let counted = reads::conversation_counts(&api(ctx).pool, site, &filter).await?;
        let count = |status: &str| counted.get(status).copied().unwrap_or(0);
        Ok(FolderCounts {
            unread: count("unread"),
            unresolved: count("unresolved"),
            done: count("done"),
            all: counted.values().sum(),
        })
    }
}
