//! The site's profile, its widget switch and identity verification: the
//! settings the `Site` aggregate keeps but the `sites` read model does not
//! (they are read from the aggregate itself, an admin's occasional read).

use crate::commands::ReadModel;
use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::Utc;
use livedesk_domain::site::{SiteCommand, SiteProfile};
use uuid::Uuid;

use super::admin::{change_site, site_after};
use super::types::{Site, parse_id};
use super::{api, principal};
use crate::auth::{NewToken, Permission, TOKEN_PREFIX};
use crate::error::{ApiError, ApiResult};

/// Whether visitors' identities must be signed.
#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
pub struct IdentityVerification {
    /// Visitors' `externalUserId` must carry a valid signature (an
    /// HMAC-SHA256 of it with the secret, hex).
    pub required: bool,
    /// A secret is set.
    pub configured: bool,
    /// The new secret, in the answer that made it and nowhere else the API
    /// shows; `null` otherwise.
    pub secret: Option<String>,
}

/// The site as its aggregate has it, after what the log holds.
pub(crate) async fn profile(ctx: &Context<'_>, site: Uuid) -> ApiResult<SiteProfile> {
    let state = api(ctx).commands.sites.load(site).await.map_err(ApiError::from)?;
    state
        .active()
        .cloned()
        .ok_or_else(|| ApiError::NotFound("no such site".into()))
}

/// The mutations.
#[derive(Default, Debug)]
pub struct SiteAdminMutation;

#[Object]
impl SiteAdminMutation {
    /// Renames the site and sets the origins its widget may run on
    /// (admins).
    async fn update_site_profile(
        &self,
        ctx: &Context<'_>,
        site_id: ID,
        name: String,
        allowed_origins: Vec<String>,
    ) -> ApiResult<Site> {
        let site = parse_id("siteId", &site_id)?;
        let principal = principal(ctx)?;
        principal.require_on(site, Permission::ManageSite)?;
        if allowed_origins.len() > 100 {
            return Err(ApiError::BadInput("at most 100 allowed origins".into()));
        }
        let command = SiteCommand::ChangeProfile {
            name,
            allowed_origins,
            at: Utc::now(),
        };
        change_site(ctx, principal, site, command, ReadModel::Directory).await?;
        site_after(ctx, site).await
    }

    /// Switches the widget on or off (admins). Off, the widget key starts
    /// no session and the widget shows nothing.
    async fn set_widget_enabled(&self, ctx: &Context<'_>, site_id: ID, enabled: bool) -> ApiResult<Site> {
        let site = parse_id("siteId", &site_id)?;
        let principal = principal(ctx)?;
        principal.require_on(site, Permission::ManageSite)?;
        let at = Utc::now();
        let command = if enabled {
            SiteCommand::EnableWidget { at }
        } else {
            SiteCommand::DisableWidget { at }
        };
        change_site(ctx, principal, site, command, ReadModel::Directory).await?;
        site_after(ctx, site).await
    }

    /// Requires (or stops requiring) signed visitor identities (admins).
    /// A secret is made when the site has none or `rotateSecret` is set;
    /// the answer carries it once.
    async fn configure_identity_verification(
        &self,
        ctx: &Context<'_>,
        site_id: ID,
        required: bool,
        #[graphql(default = false)] rotate_secret: bool,
    ) -> ApiResult<IdentityVerification> {
        let site = parse_id("siteId", &site_id)?;
        let principal = principal(ctx)?;
        principal.require_on(site, Permission::ManageSite)?;
        let current = profile(ctx, site).await?.identity_secret;
        let fresh = (current.is_none() || rotate_secret)
            .then(|| NewToken::generate().secret.trim_start_matches(TOKEN_PREFIX).to_owned());
        let Some(secret) = fresh.clone().or(current) else {
            return Err(ApiError::internal("no identity secret"));
        };
        let command = SiteCommand::ConfigureIdentityVerification {
            secret,
            required,
            at: Utc::now(),
        };
        change_site(ctx, principal, site, command, ReadModel::Directory).await?;
        Ok(IdentityVerification {
            required,
            configured: true,
            secret: fresh,
        })
    }
}
