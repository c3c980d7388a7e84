//! The GraphQL schema: roots, limits, and what resolvers share.

pub mod types;

mod admin;
mod as_of;
mod conversation;
mod counts;
pub(crate) mod history;
mod invite;
mod profile;
mod query;
pub(crate) mod report;
mod routing;
mod session;
mod site_admin;
mod sla;
mod subscription;
mod typing;

use async_graphql::{Context, MergedObject, MergedSubscription, Schema, SchemaBuilder};

use crate::Api;
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};

/// Every query.
#[derive(MergedObject, Default, Debug)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    query::LiveQuery,
    query::InboxQuery,
    counts::CountsQuery,
    query::PeopleQuery,
    sla::SlaQuery,
    routing::RoutingQuery,
    report::ReportQuery,
    history::HistoryQuery,
    as_of::AsOfQuery,
);

/// Every mutation.
#[derive(MergedObject, Default, Debug)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    conversation::ConversationMutation,
    conversation::HandlingMutation,
    session::SessionMutation,
    profile::ProfileMutation,
    admin::AdminMutation,
    admin::TeamMutation,
    invite::InviteMutation,
    site_admin::SiteAdminMutation,
    sla::SlaMutation,
    routing::RoutingMutation,
    typing::TypingMutation,
);

/// Every subscription.
#[derive(MergedSubscription, Default, Debug)]
#[graphql(name = "Subscription")]
pub struct SubscriptionRoot(
    subscription::ChangesSubscription,
    history::HistorySubscription,
    typing::TypingSubscription,
);

/// The Livedesk schema.
pub type ApiSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// Deepest selection accepted.
pub const MAX_DEPTH: usize = 12;
/// Highest complexity (fields selected, lists counted once) accepted.
pub const MAX_COMPLEXITY: usize = 500;

/// The schema without data: what the SDL is printed from.
pub fn builder() -> SchemaBuilder<QueryRoot, MutationRoot, SubscriptionRoot> {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot::default(),
    )
    .limit_depth(MAX_DEPTH)
    .limit_complexity(MAX_COMPLEXITY)
    .limit_recursive_depth(32)
    .limit_directives(20)
}

/// The SDL of the schema, as kept in `api-graphql/schema.graphql`.
pub fn sdl() -> String {
    builder().finish().sdl()
}

/// What every resolver shares.
pub(crate) fn api<'a>(ctx: &Context<'a>) -> &'a Api {
    ctx.data_unchecked::<std::sync::Arc<Api>>()
}

/// The caller.
///
/// # Errors
///
/// [`ApiError::Unauthenticated`] when the request carried no valid token.
pub(crate) fn principal<'a>(ctx: &Context<'a>) -> ApiResult<&'a Principal> {
    ctx.data_opt::<Principal>()
        .ok_or_else(|| ApiError::Unauthenticated("missing API token".into()))
}

/// Agent `id`, if they have a role on `site`.
///
/// # Errors
///
/// [`ApiError::NotFound`] for an unknown agent or one of another site.
pub(crate) async fn agent_on_site(
    ctx: &Context<'_>,
    id: uuid::Uuid,
    site: uuid::Uuid,
) -> ApiResult<livedesk_projections::read::AgentRow> {
    crate::reads::agent(&api(ctx).pool, id)
        .await?
        .filter(|a| a.roles.contains_key(&site))
        .ok_or_else(|| ApiError::NotFound("no such agent on this site".into()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_sdl_file_matches_the_code() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
        let kept = std::fs::read_to_string(path).unwrap_or_default();
        let printed = super::sdl();
        if std::env::var_os("UPDATE_SCHEMA").is_some() {
            std::fs::write(path, &printed).expect("write schema.graphql");
            return;
        }
        assert!(
            kept == printed,
            "api-graphql/schema.graphql is out of date with the code; run \
             `UPDATE_SCHEMA=1 cargo test -p livedesk-api the_sdl_file_matches_the_code` and commit it"
        );
    }
}
