//! What happens to a site's configuration. Stored in `site-{id}`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::types::{CustomFieldDefinition, SiteSettings};
use crate::codec::event_codec;
use crate::envelope::StreamCategory;
use crate::ids::{AgentId, ApiTokenId, SiteId, TeamId, TextBlockId};
use crate::people::Role;
use crate::routing::{AutoAssignment, RoutingRule};
use crate::sla::{BusinessHours, SlaPolicy};

/// Everything that can happen to a site.
#[derive(Debug, Clone, PartialEq)]
pub enum SiteEvent {
    /// See [`SiteCreated`].
    Created(SiteCreated),
    /// See [`SiteProfileChanged`].
    ProfileChanged(SiteProfileChanged),
    /// See [`SiteSettingsChanged`].
    SettingsChanged(SiteSettingsChanged),
    /// See [`CustomFieldsDefined`].
    CustomFieldsDefined(CustomFieldsDefined),
    /// See [`TextBlockAdded`].
    TextBlockAdded(TextBlockAdded),
    /// See [`TextBlockChanged`].
    TextBlockChanged(TextBlockChanged),
    /// See [`TextBlockRemoved`].
    TextBlockRemoved(TextBlockRemoved),
    /// See [`TeamCreated`].
    TeamCreated(TeamCreated),
    /// See [`AgentJoinedTeam`].
    AgentJoinedTeam(AgentJoinedTeam),
    /// See [`AgentLeftTeam`].
    AgentLeftTeam(AgentLeftTeam),
    /// See [`ApiTokenIssued`].
    ApiTokenIssued(ApiTokenIssued),
    /// See [`ApiTokenRevoked`].
    ApiTokenRevoked(ApiTokenRevoked),
    /// See [`WidgetDisabled`].
    WidgetDisabled(WidgetDisabled),
    /// See [`WidgetEnabled`].
    WidgetEnabled(WidgetEnabled),
    /// See [`IdentityVerificationConfigured`].
    IdentityVerificationConfigured(IdentityVerificationConfigured),
    /// See [`SlaPoliciesDefined`].
    SlaPoliciesDefined(SlaPoliciesDefined),
    /// See [`BusinessHoursSet`].
    BusinessHoursSet(BusinessHoursSet),
    /// See [`RoutingRulesDefined`].
    RoutingRulesDefined(RoutingRulesDefined),
    /// See [`AutoAssignmentConfigured`].
    AutoAssignmentConfigured(AutoAssignmentConfigured),
}

event_codec! {
    SiteEvent {
        Created(SiteCreated): "SiteCreated", v = 1;
        ProfileChanged(SiteProfileChanged): "SiteProfileChanged", v = 1;
        SettingsChanged(SiteSettingsChanged): "SiteSettingsChanged", v = 1;
        CustomFieldsDefined(CustomFieldsDefined): "CustomFieldsDefined", v = 1;
        TextBlockAdded(TextBlockAdded): "TextBlockAdded", v = 1;
        TextBlockChanged(TextBlockChanged): "TextBlockChanged", v = 1;
        TextBlockRemoved(TextBlockRemoved): "TextBlockRemoved", v = 1;
        TeamCreated(TeamCreated): "TeamCreated", v = 1;
        AgentJoinedTeam(AgentJoinedTeam): "AgentJoinedTeam", v = 1;
        AgentLeftTeam(AgentLeftTeam): "AgentLeftTeam", v = 1;
        ApiTokenIssued(ApiTokenIssued): "ApiTokenIssued", v = 1;
        ApiTokenRevoked(ApiTokenRevoked): "ApiTokenRevoked", v = 1;
        WidgetDisabled(WidgetDisabled): "WidgetDisabled", v = 1;
        WidgetEnabled(WidgetEnabled): "WidgetEnabled", v = 1;
        IdentityVerificationConfigured(IdentityVerificationConfigured): "IdentityVerificationConfigured", v = 1;
        SlaPoliciesDefined(SlaPoliciesDefined): "SlaPoliciesDefined", v = 1;
        BusinessHoursSet(BusinessHoursSet): "BusinessHoursSet", v = 1;
        RoutingRulesDefined(RoutingRulesDefined): "RoutingRulesDefined", v = 1;
        AutoAssignmentConfigured(AutoAssignmentConfigured): "AutoAssignmentConfigured", v = 1;
    }
}

/// A site was set up, with default settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteCreated {
    /// This site.
    pub site_id: SiteId,
    /// Its name.
    pub name: String,
    /// Origins the widget may run on (`https://shop.example`).
    pub allowed_origins: Vec<String>,
    /// The public key the widget script identifies the site with.
    pub widget_key: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// The site's name or allowed origins changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteProfileChanged {
    /// The name now.
    pub name: String,
    /// The allowed origins now.
    pub allowed_origins: Vec<String>,
    /// When.
    pub at: DateTime<Utc>,
}

/// The site's settings changed; the payload holds all of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteSettingsChanged {
    /// The settings now.
    pub settings: SiteSettings,
    /// When.
    pub at: DateTime<Utc>,
}

/// The "additional information" fields were (re)defined; the payload holds
/// the whole list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomFieldsDefined {
    /// The fields now.
    pub fields: Vec<CustomFieldDefinition>,
    /// When.
    pub at: DateTime<Utc>,
}

/// A text block was added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextBlockAdded {
    /// The block.
    pub text_block_id: TextBlockId,
    /// What agents type after `#`.
    pub shortcut: String,
    /// Its title.
    pub title: String,
    /// The text inserted.
    pub body: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// A text block changed; the payload holds all of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextBlockChanged {
    /// The block.
    pub text_block_id: TextBlockId,
    /// The shortcut now.
    pub shortcut: String,
    /// The title now.
    pub title: String,
    /// The body now.
    pub body: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// A text block was removed (it stays in history).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextBlockRemoved {
    /// The block.
    pub text_block_id: TextBlockId,
    /// When.
    pub at: DateTime<Utc>,
}

/// A team was created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamCreated {
    /// The team.
    pub team_id: TeamId,
    /// Its name, unique within the site.
    pub name: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// An agent joined a team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentJoinedTeam {
    /// The team.
    pub team_id: TeamId,
    /// The agent.
    pub agent_id: AgentId,
    /// When.
    pub at: DateTime<Utc>,
}

/// An agent left a team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentLeftTeam {
    /// The team.
    pub team_id: TeamId,
    /// The agent.
    pub agent_id: AgentId,
    /// When.
    pub at: DateTime<Utc>,
}

/// An API token was issued. Only its hash is recorded; the secret was shown
/// once and is stored nowhere.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiTokenIssued {
    /// The token.
    pub token_id: ApiTokenId,
    /// What it is for ("CRM sync").
    pub name: String,
    /// The hash of the secret.
    pub token_hash: String,
    /// What it may do.
    pub role: Role,
    /// The agent it acts as, if any.
    pub agent_id: Option<AgentId>,
    /// The stream categories its history reads (`events`, `stream`, the
    /// `events` subscription, `auditLog`) are limited to; empty (and absent
    /// from events written before scopes existed) for all of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub event_categories: Vec<StreamCategory>,
    /// When.
    pub at: DateTime<Utc>,
}

/// An API token was revoked; it no longer authenticates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiTokenRevoked {
    /// The token.
    pub token_id: ApiTokenId,
    /// When.
    pub at: DateTime<Utc>,
}

/// The widget was switched off: its key no longer starts or serves
/// sessions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WidgetDisabled {
    /// When.
    pub at: DateTime<Utc>,
}

/// The widget was switched on again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WidgetEnabled {
    /// When.
    pub at: DateTime<Utc>,
}

/// The secret the site's backend signs visitor identities with (HMAC-SHA256
/// of the user id), and whether the widget requires a signature before it
/// links a visitor to a user id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityVerificationConfigured {
    /// The shared secret (kept in the log: the widget API must verify with
    /// it; rotating appends a new one).
    pub secret: String,
    /// Whether an unsigned `tag` may set an external user id.
    pub required: bool,
    /// When.
    pub at: DateTime<Utc>,
}

/// The SLA policies were (re)defined; the payload holds the whole ordered
/// list (the first matching policy applies to a conversation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaPoliciesDefined {
    /// The policies now, in order.
    pub policies: Vec<SlaPolicy>,
    /// When.
    pub at: DateTime<Utc>,
}

/// The business hours SLA clocks run in were set, or cleared (`None`:
/// clocks always run).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusinessHoursSet {
    /// The hours now.
    pub hours: Option<BusinessHours>,
    /// When.
    pub at: DateTime<Utc>,
}

/// The routing rules were (re)defined; the payload holds the whole ordered
/// list (the first matching rule routes a conversation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutingRulesDefined {
    /// The rules now, in order.
    pub rules: Vec<RoutingRule>,
    /// When.
    pub at: DateTime<Utc>,
}

/// Auto-assignment and reassignment were configured; the payload holds all
/// of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoAssignmentConfigured {
    /// Routed conversations go to an agent of the team automatically.
    pub enabled: bool,
    /// Reassign a conversation unanswered this many seconds.
    pub reassign_after_secs: Option<u32>,
    /// Reassign an agent's conversations when the agent goes offline.
    pub reassign_when_offline: bool,
    /// When.
    pub at: DateTime<Utc>,
}

impl AutoAssignmentConfigured {
    /// The configuration it records.
    pub fn auto_assignment(&self) -> AutoAssignment {
        AutoAssignment {
            enabled: self.enabled,
            reassign_after_secs: self.reassign_after_secs,
            reassign_when_offline: self.reassign_when_offline,
        }
    }
}
