//! What admins ask of a site.

use chrono::{DateTime, Utc};

use super::types::{CustomFieldDefinition, SiteSettings};
use crate::envelope::StreamCategory;
use crate::ids::{AgentId, ApiTokenId, SiteId, TeamId, TextBlockId};
use crate::people::Role;
use crate::routing::RoutingRule;
use crate::sla::{BusinessHours, SlaPolicy};

/// A request to change a site. Who may issue it (admins) is checked by the
/// API; the rules here are about the site itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SiteCommand {
    /// Set up a site with default settings.
    Create {
        /// The new site.
        site_id: SiteId,
        /// Its name.
        name: String,
        /// Origins the widget may run on.
        allowed_origins: Vec<String>,
        /// The widget's public key (8-128 characters of `A-Za-z0-9_-`).
        widget_key: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// Rename the site or change its allowed origins.
    ChangeProfile {
        /// The name.
        name: String,
        /// The allowed origins.
        allowed_origins: Vec<String>,
        /// When.
        at: DateTime<Utc>,
    },
    /// Replace the settings.
    ChangeSettings {
        /// All settings.
        settings: SiteSettings,
        /// When.
        at: DateTime<Utc>,
    },
    /// Replace the "additional information" field definitions.
    DefineCustomFields {
        /// All fields, keys unique.
        fields: Vec<CustomFieldDefinition>,
        /// When.
        at: DateTime<Utc>,
    },
    /// Add a text block.
    AddTextBlock {
        /// The new block.
        text_block_id: TextBlockId,
        /// Unique among the site's blocks.
        shortcut: String,
        /// Its title.
        title: String,
        /// The text.
        body: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// Change a text block.
    ChangeTextBlock {
        /// The block.
        text_block_id: TextBlockId,
        /// The shortcut.
        shortcut: String,
        /// The title.
        title: String,
        /// The text.
        body: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// Remove a text block.
    RemoveTextBlock {
        /// The block.
        text_block_id: TextBlockId,
        /// When.
        at: DateTime<Utc>,
    },
    /// Create a team.
    CreateTeam {
        /// The new team.
        team_id: TeamId,
        /// Its name, unique within the site.
        name: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// Put an agent in a team.
    AddAgentToTeam {
        /// The team.
        team_id: TeamId,
        /// The agent.
        agent_id: AgentId,
        /// When.
        at: DateTime<Utc>,
    },
    /// Take an agent out of a team.
    RemoveAgentFromTeam {
        /// The team.
        team_id: TeamId,
        /// The agent.
        agent_id: AgentId,
        /// When.
        at: DateTime<Utc>,
    },
    /// Record a new API token by its hash.
    IssueApiToken {
        /// The new token.
        token_id: ApiTokenId,
        /// What it is for.
        name: String,
        /// The hash of the secret (never the secret).
        token_hash: String,
        /// What it may do.
        role: Role,
        /// The agent it acts as, if any.
        agent_id: Option<AgentId>,
        /// The stream categories its history reads are limited to; empty
        /// for all of them.
        event_categories: Vec<StreamCategory>,
        /// When.
        at: DateTime<Utc>,
    },
    /// Revoke an API token.
    RevokeApiToken {
        /// The token.
        token_id: ApiTokenId,
        /// When.
        at: DateTime<Utc>,
    },
    /// Switch the widget off: its key stops working.
    DisableWidget {
        /// When.
        at: DateTime<Utc>,
    },
    /// Switch the widget on again.
    EnableWidget {
        /// When.
        at: DateTime<Utc>,
    },
    /// Set (or rotate) the identity-verification secret and say whether
    /// signatures are required.
    ConfigureIdentityVerification {
        /// 32-256 printable ASCII characters, no spaces.
        secret: String,
        /// Whether unsigned identities are refused.
        required: bool,
        /// When.
        at: DateTime<Utc>,
    },
    /// Replace the ordered list of SLA policies (the first match applies).
    DefineSlaPolicies {
        /// All policies, in order; ids unique.
        policies: Vec<SlaPolicy>,
        /// When.
        at: DateTime<Utc>,
    },
    /// Set the business hours SLA clocks run in, or clear them (`None`:
    /// clocks always run).
    SetBusinessHours {
        /// The hours, or `None` for 24/7.
        hours: Option<BusinessHours>,
        /// When.
        at: DateTime<Utc>,
    },
    /// Replace the ordered list of routing rules (the first match routes).
    DefineRoutingRules {
        /// All rules, in order; ids unique.
        rules: Vec<RoutingRule>,
        /// When.
        at: DateTime<Utc>,
    },
    /// Switch auto-assignment and reassignment on or off.
    ConfigureAutoAssignment {
        /// Routed conversations go to an agent of the team automatically.
        enabled: bool,
        /// Reassign a conversation unanswered this long (30 to 86,400
        /// seconds); `None` never does.
        reassign_after_secs: Option<u32>,
        /// Reassign an agent's conversations when the agent goes offline.
        reassign_when_offline: bool,
        /// When.
        at: DateTime<Utc>,
    },
}
