//! Admin mutations: site settings, custom fields, text blocks, teams and
//! API tokens. Settings, fields and tokens are for admins; text blocks and
//! teams for supervisors too.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::Utc;
use livedesk_domain::site::{CustomFieldDefinition, FieldKind, SiteCommand, VisitorIdMode};
use livedesk_domain::{AgentId, Metadata, TeamId, TextBlockId};
use uuid::Uuid;

use super::types::{ApiToken, EventCategory, IssuedToken, Role, Site, SiteSettings, Team, TextBlock, parse_id};
use super::{api, principal};
use crate::auth::{Permission, Principal, parse_role};
use crate::commands::ReadModel;
use crate::error::{ApiError, ApiResult};
use crate::reads;
use crate::tokens::{self, TokenRequest};

pub(super) async fn change_site(
    ctx: &Context<'_>,
    principal: &Principal,
    site: Uuid,
    command: SiteCommand,
    model: ReadModel,
) -> ApiResult<()> {
    let api = api(ctx);
    api.commands
        .run(&api.commands.sites, site, command, principal, site, model)
        .await?;
    Ok(())
}

pub(super) async fn site_after(ctx: &Context<'_>, site: Uuid) -> ApiResult<Site> {
    reads::site(&api(ctx).pool, site)
        .await?
        .map(Site)
        .ok_or_else(|| ApiError::NotFound("no such site".into()))
}

/// Site settings to set (every value).
#[derive(Debug, Clone, InputObject)]
pub struct SiteSettingsInput {
    /// A new tab joins the open session.
    pub keep_session_across_tabs: bool,
    /// Visitor ids survive the browser closing.
    pub persistent_visitor_ids: bool,
    /// Longest session, 60 to 86,400 seconds.
    pub max_session_duration_secs: i32,
    /// Idle after, 10 to 86,400 seconds.
    pub idle_timeout_secs: i32,
    /// Gone after, 5 to 3,600 seconds.
    pub leave_timeout_secs: i32,
    /// Longest message, 1 to 100,000 characters.
    pub max_message_chars: i32,
}

/// An "additional information" field to define.
#[derive(Debug, Clone, InputObject)]
pub struct CustomFieldInput {
    /// Stable key: `a-z`, `0-9`, `_`.
    pub key: String,
    /// What agents see.
    pub label: String,
    /// `text`, `number`, `boolean`, `date` or `select`.
    pub kind: String,
    /// The options of a select field.
    #[graphql(default)]
    pub options: Vec<String>,
}

fn unsigned(argument: &str, value: i32) -> ApiResult<u32> {
    u32::try_from(value).map_err(|_| ApiError::BadInput(format!("{argument} must not be negative")))
}

/// Site settings, custom fields, text blocks, tokens.
#[derive(Debug, Default)]
pub struct AdminMutation;

#[Object]
impl AdminMutation {
    /// Replaces the site's settings.
    async fn update_site_settings(
        &self,
        ctx: &Context<'_>,
        site_id: ID,
        settings: SiteSettingsInput,
    ) -> ApiResult<Site> {
        let site = parse_id("siteId", &site_id)?;
        let principal = principal(ctx)?;
        principal.require_on(site, Permission::ManageSite)?;
        let settings = livedesk_domain::site::SiteSettings {
            keep_session_across_tabs: settings.keep_session_across_tabs,
            visitor_ids: if settings.persistent_visitor_ids {
                VisitorIdMode::Persistent
            } else {
                VisitorIdMode::SessionBased
            },
            max_session_duration_secs: unsigned("maxSessionDurationSecs", settings.max_session_duration_secs)?,
            idle_timeout_secs: unsigned("idleTimeoutSecs", settings.idle_timeout_secs)?,
            leave_timeout_secs: unsigned("leaveTimeoutSecs", settings.leave_timeout_secs)?,
            max_message_chars: unsigned("maxMessageChars", settings.max_message_chars)?,
        };
        let command = SiteCommand::ChangeSettings {
            settings,
            at: Utc::now(),
        };
        change_site(ctx, principal, site, command, ReadModel::Directory).await?;
        site_after(ctx, site).await
    }

    /// Replaces the site's "additional information" fields.
    async fn define_custom_fields(
        &self,
        ctx: &Context<'_>,
        site_id: ID,
        fields: Vec<CustomFieldInput>,
    ) -> ApiResult<Site> {
        let site = parse_id("siteId", &site_id)?;
        let principal = principal(ctx)?;
        principal.require_on(site, Permission::ManageSite)?;
        let fields = fields
            .into_iter()
            .map(|f| {
                let kind = match f.kind.as_str() {
                    "text" => FieldKind::Text,
                    "number" => FieldKind::Number,
                    "boolean" => FieldKind::Boolean,
                    "date" => FieldKind::Date,
                    "select" => FieldKind::Select { options: f.options },
                    other => {
                        return Err(ApiError::BadInput(format!(
                            "field kind {other:?} is not text, number, boolean, date or select"
                        )));
                    }
                };
                Ok(CustomFieldDefinition {
                    key: f.key,
                    label: f.label,
                    kind,
                })
            })
            .collect::<ApiResult<Vec<_>>>()?;
        let command = SiteCommand::DefineCustomFields { fields, at: Utc::now() };
        change_site(ctx, principal, site, command, ReadModel::Directory).await?;
        site_after(ctx, site).await
    }

    /// Adds a text block (`#shortcut`).
    async fn add_text_block(
        &self,
        ctx: &Context<'_>,
        site_id: ID,
        shortcut: String,
        title: String,
        body: String,
    ) -> ApiResult<TextBlock> {
        let site = parse_id("siteId", &site_id)?;
        let principal = principal(ctx)?;
        principal.require_on(site, Permission::ManageContent)?;
        let id = Uuid::now_v7();
        let command = SiteCommand::AddTextBlock {
            text_block_id: TextBlockId(id),
            shortcut,
            title,
            body,
            at: Utc::now(),
        };
        change_site(ctx, principal, site, command, ReadModel::TextBlocks).await?;
        text_block_after(ctx, id).await
    }

    /// Changes a text block.
    async fn change_text_block(
        &self,
        ctx: &Context<'_>,
        site_id: ID,
        id: ID,
        shortcut: String,
        title: String,
        body: String,
    ) -> ApiResult<TextBlock> {
        let site = parse_id("siteId", &site_id)?;
        let id = parse_id("id", &id)?;
        let principal = principal(ctx)?;
        principal.require_on(site, Permission::ManageContent)?;
        let command = SiteCommand::ChangeTextBlock {
            text_block_id: TextBlockId(id),
            shortcut,
            title,
            body,
            at: Utc::now(),
        };
        change_site(ctx, principal, site, command, ReadModel::TextBlocks).await?;
        text_block_after(ctx, id).await
    }

    /// Removes a text block; returns its id.
    async fn remove_text_block(&self, ctx: &Context<'_>, site_id: ID, id: ID) -> ApiResult<ID> {
        let site = parse_id("siteId", &site_id)?;
        let block = parse_id("id", &id)?;
        let principal = principal(ctx)?;
        principal.require_on(site, Permission::ManageContent)?;
        let command = SiteCommand::RemoveTextBlock {
            text_block_id: TextBlockId(block),
            at: Utc::now(),
        };
        change_site(ctx, principal, site, command, ReadModel::TextBlocks).await?;
        Ok(id)
    }

    /// Issues an API token. The secret is in this answer only.
    /// `eventCategories` limits its history reads (`events`, `stream`,
    /// `auditLog`, the `events` subscription) to those stream categories;
    /// all when left out.
    async fn issue_api_token(
        &self,
        ctx: &Context<'_>,
        site_id: ID,
        name: String,
        role: Role,
        agent_id: Option<ID>,
        event_categories: Option<Vec<EventCategory>>,
    ) -> ApiResult<IssuedToken> {
        let site = parse_id("siteId", &site_id)?;
        let principal = principal(ctx)?;
        principal.require_on(site, Permission::ManageSite)?;
        let api = api(ctx);
        let agent = match agent_id {
            None => None,
            Some(id) => {
                let id = parse_id("agentId", &id)?;
                let row = super::agent_on_site(ctx, id, site).await?;
                let role = row
                    .roles
                    .get(&site)
                    .and_then(|r| parse_role(r))
                    .ok_or_else(|| ApiError::NotFound("no such agent on this site".into()))?;
                Some((AgentId(id), role))
            }
        };
        let request = TokenRequest {
            site_id: site,
            name,
            role: role.into(),
            agent,
            event_categories: event_categories
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect(),
        };
        let metadata = Metadata {
            site_id: Some(site),
            actor: Some(principal.actor()),
            correlation_id: Some(Uuid::now_v7()),
            ..Metadata::default()
        };
        let issued = tokens::issue(&api.commands.sites, request, metadata).await?;
        if let Some(position) = issued.position {
            api.commands.settle(ReadModel::Directory, position).await?;
        }
        let token = token_after(ctx, issued.token_id).await?;
        Ok(IssuedToken {
            token,
            secret: issued.secret,
        })
    }

    /// Revokes an API token at once.
    async fn revoke_api_token(&self, ctx: &Context<'_>, site_id: ID, id: ID) -> ApiResult<ApiToken> {
        let site = parse_id("siteId", &site_id)?;
        let token = parse_id("id", &id)?;
        let principal = principal(ctx)?;
        principal.require_on(site, Permission::ManageSite)?;
        let command = SiteCommand::RevokeApiToken {
            token_id: livedesk_domain::ApiTokenId(token),
            at: Utc::now(),
        };
        change_site(ctx, principal, site, command, ReadModel::Directory).await?;
        token_after(ctx, token).await
    }
}

async fn text_block_after(ctx: &Context<'_>, id: Uuid) -> ApiResult<TextBlock> {
    reads::text_block(&api(ctx).pool, id)
        .await?
        .map(TextBlock)
        .ok_or_else(|| ApiError::NotFound("no such text block".into()))
}

async fn token_after(ctx: &Context<'_>, id: Uuid) -> ApiResult<ApiToken> {
    reads::token(&api(ctx).pool, id)
        .await?
        .map(ApiToken)
        .ok_or_else(|| ApiError::NotFound("no such API token".into()))
}

/// Teams.
#[derive(Debug, Default)]
pub struct TeamMutation;

impl TeamMutation {
    async fn team_command(
        ctx: &Context<'_>,
        team_id: &ID,
        agent_id: &ID,
        command: impl FnOnce(TeamId, AgentId) -> SiteCommand,
    ) -> ApiResult<Team> {
        let team = parse_id("teamId", team_id)?;
        let agent = parse_id("agentId", agent_id)?;
        let principal = principal(ctx)?;
        let row = reads::team(&api(ctx).pool, team)
            .await?
            .ok_or_else(|| ApiError::NotFound("no such team".into()))?;
        principal.require_on(row.site_id, Permission::ManageContent)?;
        // Joining takes an agent of the site; a member who left the site
        // can still be taken off the team.
        if !row.members.contains(&agent) {
            super::agent_on_site(ctx, agent, row.site_id).await?;
        }
        let command = command(TeamId(team), AgentId(agent));
        change_site(ctx, principal, row.site_id, command, ReadModel::Directory).await?;
        team_after(ctx, team).await
    }
}

async fn team_after(ctx: &Context<'_>, id: Uuid) -> ApiResult<Team> {
    reads::team(&api(ctx).pool, id)
        .await?
        .map(Team)
        .ok_or_else(|| ApiError::NotFound("no such team".into()))
}

#[Object]
impl TeamMutation {
    /// Creates a team.
    async fn create_team(&self, ctx: &Context<'_>, site_id: ID, name: String) -> ApiResult<Team> {
        let site = parse_id("siteId", &site_id)?;
        let principal = principal(ctx)?;
        principal.require_on(site, Permission::ManageContent)?;
        let id = Uuid::now_v7();
        let command = SiteCommand::CreateTeam {
            team_id: TeamId(id),
            name,
            at: Utc::now(),
        };
        change_site(ctx, principal, site, command, ReadModel::Directory).await?;
        team_after(ctx, id).await
    }

    /// Puts an agent in a team.
    async fn add_team_member(&self, ctx: &Context<'_>, team_id: ID, agent_id: ID) -> ApiResult<Team> {
        Self::team_command(ctx, &team_id, &agent_id, |team_id, agent_id| {
            SiteCommand::AddAgentToTeam {
                team_id,
                agent_id,
                at: Utc::now(),
            }
        })
        .await
    }

    /// Takes an agent out of a team.
    async fn remove_team_member(&self, ctx: &Context<'_>, team_id: ID, agent_id: ID) -> ApiResult<Team> {
        Self::team_command(ctx, &team_id, &agent_id, |team_id, agent_id| {
            SiteCommand::RemoveAgentFromTeam {
                team_id,
                agent_id,
                at: Utc::now(),
            }
        })
        .await
    }
}

impl From<livedesk_domain::site::SiteSettings> for SiteSettings {
    fn from(s: livedesk_domain::site::SiteSettings) -> Self {
        let int = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
        Self {
            keep_session_across_tabs: s.keep_session_across_tabs,
            persistent_visitor_ids: s.visitor_ids == VisitorIdMode::Persistent,
            max_session_duration_secs: int(s.max_session_duration_secs),
            idle_timeout_secs: int(s.idle_timeout_secs),
            leave_timeout_secs: int(s.leave_timeout_secs),
            max_message_chars: int(s.max_message_chars),
        }
    }
}
