//! People and configuration: the caller, agents, teams, text blocks, the
//! site and its API tokens.

use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use livedesk_domain::site::FieldKind;
use livedesk_projections::models::agents::AgentRow;
use livedesk_projections::models::records::TextBlockRow;
use uuid::Uuid;

use super::{NotificationPreference, Presence, Role, stored};
use crate::auth::Principal;
use crate::error::ApiResult;
use crate::reads::{self, SiteRow, TeamRow, TokenRow};
use crate::schema::api;

/// The caller: the token, its site and the agent it acts as.
#[derive(Debug, Clone)]
pub struct Me(pub Principal);

#[Object]
impl Me {
    /// The token's id.
    async fn token_id(&self) -> ID {
        ID(self.0.token_id.to_string())
    }
    /// The token's name.
    async fn token_name(&self) -> &str {
        &self.0.token_name
    }
    /// What the token may do.
    async fn role(&self) -> Role {
        self.0.role.into()
    }
    /// The site the token may see.
    async fn site_id(&self) -> ID {
        ID(self.0.site_id.to_string())
    }
    /// That site.
    async fn site(&self, ctx: &Context<'_>) -> ApiResult<Option<Site>> {
        Ok(reads::site(&api(ctx).pool, self.0.site_id).await?.map(Site))
    }
    /// The agent the token acts as, if any.
    async fn agent(&self, ctx: &Context<'_>) -> ApiResult<Option<Agent>> {
        let Some(agent) = self.0.agent_id() else {
            return Ok(None);
        };
        let row = reads::agent(&api(ctx).pool, agent.0).await?;
        Ok(row.map(|row| Agent {
            row,
            site_id: self.0.site_id,
        }))
    }
}

/// A person in the console, as seen from one site.
#[derive(Debug, Clone)]
pub struct Agent {
    pub(crate) row: AgentRow,
    pub(crate) site_id: Uuid,
}

#[Object]
impl Agent {
    /// The agent.
    async fn id(&self) -> ID {
        ID(self.row.agent_id.to_string())
    }
    /// Their email.
    async fn email(&self) -> &str {
        &self.row.email
    }
    /// Their name.
    async fn name(&self) -> &str {
        &self.row.name
    }
    /// The name visitors see.
    async fn display_name(&self) -> &str {
        &self.row.display_name
    }
    /// Their role on this site.
    async fn role(&self) -> ApiResult<Option<Role>> {
        self.row.roles.get(&self.site_id).map(|r| stored(r)).transpose()
    }
    /// Whether they accepted the invitation.
    async fn activated(&self) -> bool {
        self.row.activated
    }
    /// Online, away or offline.
    async fn presence(&self) -> ApiResult<Presence> {
        stored(&self.row.presence)
    }
    /// When they are notified.
    async fn notification_preference(&self) -> ApiResult<NotificationPreference> {
        stored(&self.row.notification_preference)
    }
    /// Most conversations at once.
    async fn max_concurrent(&self) -> i32 {
        self.row.max_concurrent
    }
    /// Assigned conversations that are not Done.
    async fn open_conversations(&self) -> i32 {
        self.row.open_conversations
    }
}

/// An agent named by a team.
#[derive(Debug, Clone, SimpleObject)]
pub struct AgentSummary {
    /// The agent.
    pub id: ID,
    /// The name visitors see.
    pub display_name: String,
}

/// A team of agents.
#[derive(Debug, Clone)]
pub struct Team(pub TeamRow);

#[Object]
impl Team {
    /// The team.
    async fn id(&self) -> ID {
        ID(self.0.team_id.to_string())
    }
    /// Its name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Its members.
    async fn members(&self, ctx: &Context<'_>) -> ApiResult<Vec<AgentSummary>> {
        let rows = reads::agents_by_id(&api(ctx).pool, &self.0.members).await?;
        Ok(rows
            .into_iter()
            .map(|a| AgentSummary {
                id: ID(a.agent_id.to_string()),
                display_name: a.display_name,
            })
            .collect())
    }
    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A canned answer agents insert with `#shortcut`.
#[derive(Debug, Clone)]
pub struct TextBlock(pub TextBlockRow);

#[Object]
impl TextBlock {
    /// The block.
    async fn id(&self) -> ID {
        ID(self.0.text_block_id.to_string())
    }
    /// What agents type after `#`.
    async fn shortcut(&self) -> &str {
        &self.0.shortcut
    }
    /// Its title.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// The text inserted.
    async fn body(&self) -> &str {
        &self.0.body
    }
    /// When last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// A customer's website.
#[derive(Debug, Clone)]
pub struct Site(pub SiteRow);

/// How a site's widget and sessions behave.
#[derive(Debug, Clone, SimpleObject)]
pub struct SiteSettings {
    /// A new tab joins the open session.
    pub keep_session_across_tabs: bool,
    /// Visitor ids survive the browser closing.
    pub persistent_visitor_ids: bool,
    /// Longest session, in seconds.
    pub max_session_duration_secs: i32,
    /// A hidden tab is idle after this many seconds.
    pub idle_timeout_secs: i32,
    /// A silent widget's session ends after this many seconds.
    pub leave_timeout_secs: i32,
    /// Longest message, in characters.
    pub max_message_chars: i32,
}

/// An "additional information" field.
#[derive(Debug, Clone, SimpleObject)]
pub struct CustomField {
    /// Its key.
    pub key: String,
    /// What agents see.
    pub label: String,
    /// `text`, `number`, `boolean`, `date` or `select`.
    pub kind: String,
    /// The options of a select field.
    pub options: Vec<String>,
}

#[Object]
impl Site {
    /// The site.
    async fn id(&self) -> ID {
        ID(self.0.site_id.to_string())
    }
    /// Its name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Origins the widget may run on.
    async fn allowed_origins(&self) -> &[String] {
        &self.0.allowed_origins
    }
    /// Settings.
    async fn settings(&self) -> SiteSettings {
        self.0.settings.clone().into()
    }
    /// Whether the widget works on the site's pages (`setWidgetEnabled`).
    async fn widget_enabled(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        Ok(crate::schema::site_admin::profile(ctx, self.0.site_id)
            .await?
            .widget_enabled)
    }
    /// Whether visitors' identities must be signed; the secret is never
    /// shown here.
    async fn identity_verification(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<crate::schema::site_admin::IdentityVerification> {
        let profile = crate::schema::site_admin::profile(ctx, self.0.site_id).await?;
        Ok(crate::schema::site_admin::IdentityVerification {
            required: profile.require_signed_identity,
            configured: profile.identity_secret.is_some(),
            secret: None,
        })
    }
    /// "Additional information" fields.
    async fn custom_fields(&self) -> Vec<CustomField> {
        self.0
            .custom_fields
            .iter()
            .map(|f| {
                let (kind, options) = match &f.kind {
                    FieldKind::Text => ("text", Vec::new()),
                    FieldKind::Number => ("number", Vec::new()),
                    FieldKind::Boolean => ("boolean", Vec::new()),
                    FieldKind::Date => ("date", Vec::new()),
                    FieldKind::Select { options } => ("select", options.clone()),
                };
                CustomField {
                    key: f.key.clone(),
                    label: f.label.clone(),
                    kind: kind.into(),
                    options,
                }
            })
            .collect()
    }
}

/// An API token (never its secret).
#[derive(Debug, Clone)]
pub struct ApiToken(pub TokenRow);

#[Object]
impl ApiToken {
    /// The token.
    async fn id(&self) -> ID {
        ID(self.0.token_id.to_string())
    }
    /// What it is for.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// What it may do.
    async fn role(&self) -> ApiResult<Role> {
        stored(&self.0.role)
    }
    /// The agent it acts as.
    async fn agent_id(&self) -> Option<ID> {
        self.0.agent_id.map(|id| ID(id.to_string()))
    }
    /// When it was issued.
    async fn issued_at(&self) -> DateTime<Utc> {
        self.0.issued_at
    }
    /// When it was revoked; `null` while valid.
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }
    /// The stream categories its history reads (`events`, `stream`,
    /// `auditLog`, the `events` subscription) are limited to; empty for all.
    async fn event_categories(&self) -> Vec<super::EventCategory> {
        self.0.event_categories.iter().map(|c| (*c).into()).collect()
    }
}

/// A token just issued: the secret is in this answer and nowhere else.
#[derive(Debug, Clone, SimpleObject)]
pub struct IssuedToken {
    /// The token.
    pub token: ApiToken,
    /// The secret to send as `Authorization: Bearer <secret>`. Shown once.
    pub secret: String,
}
