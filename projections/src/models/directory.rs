//! The `directory` projector: `sites`, `teams` and `api_tokens`, what the
//! APIs need of site streams (token authentication, settings, custom
//! fields, teams).

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use livedesk_domain::site::{CustomFieldDefinition, SiteEvent, SiteSettings};
use livedesk_domain::{RecordedEvent, StreamCategory};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use sqlx::types::Json;
use uuid::Uuid;

use super::{decode, stream_id};
use crate::{Changes, ProjectionError, Projector};

/// The projector's name (checkpoint key, `wait_for`).
pub const DIRECTORY: &str = "directory";

/// The `directory` projector.
#[derive(Debug, Clone, Copy, Default)]
pub struct DirectoryProjector;

/// A row of `sites`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteRow {
    /// The site.
    pub site_id: Uuid,
    /// Its name.
    pub name: String,
    /// Origins the widget may run on.
    pub allowed_origins: Vec<String>,
    /// Settings.
    pub settings: SiteSettings,
    /// "Additional information" fields.
    pub custom_fields: Vec<CustomFieldDefinition>,
}

/// A row of `teams`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamRow {
    /// The team.
    pub team_id: Uuid,
    /// Its site.
    pub site_id: Uuid,
    /// Its name.
    pub name: String,
    /// Member agent ids.
    pub members: Vec<Uuid>,
    /// When created.
    pub created_at: DateTime<Utc>,
}

/// A row of `api_tokens` (the hash left out).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenRow {
    /// The token.
    pub token_id: Uuid,
    /// Its site.
    pub site_id: Uuid,
    /// What it is for.
    pub name: String,
    /// Its role.
    pub role: String,
    /// The agent it acts as.
    pub agent_id: Option<Uuid>,
    /// When issued.
    pub issued_at: DateTime<Utc>,
    /// When revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// The stream categories its history reads are limited to; empty for
    /// all.
    #[serde(default)]
    pub event_categories: Vec<StreamCategory>,
}

impl Projector for DirectoryProjector {
    fn name(&self) -> &'static str {
        DIRECTORY
    }

    fn event_types(&self) -> Vec<String> {
        [
            "SiteCreated",
            "SiteProfileChanged",
            "SiteSettingsChanged",
            "CustomFieldsDefined",
            "TeamCreated",
            "AgentJoinedTeam",
            "AgentLeftTeam",
            "ApiTokenIssued",
            "ApiTokenRevoked",
        ]
        .map(String::from)
        .to_vec()
    }

    fn tables(&self) -> &'static [&'static str] {
        &["sites", "teams", "api_tokens"]
    }

    fn apply<'a>(
        &'a self,
        tx: &'a mut PgConnection,
        events: &'a [RecordedEvent],
        changes: &'a mut Changes,
    ) -> BoxFuture<'a, Result<(), ProjectionError>> {
        Box::pin(async move {
            for event in events {
                let site = stream_id(event)?;
                apply_one(tx, site, event.position as i64, decode(event)?).await?;
                changes.sites.insert(site);
            }
            Ok(())
        })
    }
}

async fn apply_one(tx: &mut PgConnection, site: Uuid, position: i64, event: SiteEvent) -> Result<(), sqlx::Error> {
    match event {
        SiteEvent::Created(e) => {
            sqlx::query(
                "INSERT INTO sites (site_id, name, allowed_origins, settings, custom_fields, created_at, updated_at, position) \
                 VALUES ($1, $2, $3, $4, '[]', $5, $5, $6) ON CONFLICT (site_id) DO NOTHING",
            )
            .bind(site)
            .bind(&e.name)
            .bind(Json(&e.allowed_origins))
            .bind(Json(SiteSettings::default()))
            .bind(e.at)
            .bind(position)
            .execute(tx)
            .await?;
        }
        SiteEvent::ProfileChanged(e) => {
            sqlx::query(
                "UPDATE sites SET name = $2, allowed_origins = $3, updated_at = $4, position = $5 WHERE site_id = $1",
            )
            .bind(site)
            .bind(&e.name)
            .bind(Json(&e.allowed_origins))
            .bind(e.at)
            .bind(position)
            .execute(tx)
            .await?;
        }
        SiteEvent::SettingsChanged(e) => {
            sqlx::query("UPDATE sites SET settings = $2, updated_at = $3, position = $4 WHERE site_id = $1")
                .bind(site)
                .bind(Json(&e.settings))
                .bind(e.at)
                .bind(position)
                .execute(tx)
                .await?;
        }
        SiteEvent::CustomFieldsDefined(e) => {
            sqlx::query("UPDATE sites SET custom_fields = $2, updated_at = $3, position = $4 WHERE site_id = $1")
                .bind(site)
                .bind(Json(&e.fields))
                .bind(e.at)
                .bind(position)
                .execute(tx)
                .await?;
        }
        SiteEvent::TeamCreated(e) => {
            sqlx::query(
                "INSERT INTO teams (team_id, site_id, name, members, created_at, position) \
                 VALUES ($1, $2, $3, '[]', $4, $5) ON CONFLICT (team_id) DO NOTHING",
            )
            .bind(e.team_id.0)
            .bind(site)
            .bind(&e.name)
            .bind(e.at)
            .bind(position)
            .execute(tx)
            .await?;
        }
        SiteEvent::AgentJoinedTeam(e) => {
            sqlx::query(
                "UPDATE teams SET members = members || to_jsonb($2::text), position = $3 \
                  WHERE team_id = $1 AND NOT members ? $2::text",
            )
            .bind(e.team_id.0)
            .bind(e.agent_id.0.to_string())
            .bind(position)
            .execute(tx)
            .await?;
        }
        SiteEvent::AgentLeftTeam(e) => {
            sqlx::query("UPDATE teams SET members = members - $2::text, position = $3 WHERE team_id = $1")
                .bind(e.team_id.0)
                .bind(e.agent_id.0.to_string())
                .bind(position)
                .execute(tx)
                .await?;
        }
        SiteEvent::ApiTokenIssued(e) => {
            sqlx::query(
                "INSERT INTO api_tokens \
                   (token_id, site_id, name, token_hash, role, agent_id, issued_at, position, event_categories) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (token_id) DO NOTHING",
            )
            .bind(e.token_id.0)
            .bind(site)
            .bind(&e.name)
            .bind(&e.token_hash)
            .bind(e.role.to_string())
            .bind(e.agent_id.map(|a| a.0))
            .bind(e.at)
            .bind(position)
            .bind(e.event_categories.iter().map(|c| c.as_str()).collect::<Vec<_>>())
            .execute(tx)
            .await?;
        }
        SiteEvent::ApiTokenRevoked(e) => {
            sqlx::query("UPDATE api_tokens SET revoked_at = $2, position = $3 WHERE token_id = $1")
                .bind(e.token_id.0)
                .bind(e.at)
                .bind(position)
                .execute(tx)
                .await?;
        }
        // The widget API keeps its own view of these (livedesk-widget).
        SiteEvent::TextBlockAdded(_)
        | SiteEvent::TextBlockChanged(_)
        | SiteEvent::TextBlockRemoved(_)
        | SiteEvent::WidgetDisabled(_)
        | SiteEvent::WidgetEnabled(_)
        | SiteEvent::IdentityVerificationConfigured(_) => {}
        // SLA and routing configuration is read by folding the site stream
        // (SiteProfile::sla_and_routing); not subscribed to here.
        SiteEvent::SlaPoliciesDefined(_)
        | SiteEvent::BusinessHoursSet(_)
        | SiteEvent::RoutingRulesDefined(_)
        | SiteEvent::AutoAssignmentConfigured(_) => {}
    }
    Ok(())
}
