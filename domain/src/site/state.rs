//! A site folded from its events.

use std::collections::{BTreeMap, BTreeSet};

use super::config::SlaAndRouting;
use super::event::SiteEvent;
use super::types::{CustomFieldDefinition, SiteSettings};
use crate::ids::{AgentId, ApiTokenId, SiteId, TeamId, TextBlockId};
use crate::people::Role;

/// The lifecycle of a site.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum SiteState {
    /// No events yet.
    #[default]
    NotCreated,
    /// Set up; see [`SiteProfile`].
    Active(Box<SiteProfile>),
}

impl SiteState {
    /// The site, if created.
    pub fn active(&self) -> Option<&SiteProfile> {
        match self {
            Self::NotCreated => None,
            Self::Active(site) => Some(site),
        }
    }
}

/// A site's configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteProfile {
    /// This site.
    pub id: SiteId,
    /// Its name.
    pub name: String,
    /// Origins the widget may run on.
    pub allowed_origins: Vec<String>,
    /// The widget's public key.
    pub widget_key: String,
    /// Settings.
    pub settings: SiteSettings,
    /// "Additional information" fields.
    pub custom_fields: Vec<CustomFieldDefinition>,
    /// Text blocks, removed ones included.
    pub text_blocks: BTreeMap<TextBlockId, TextBlock>,
    /// Teams.
    pub teams: BTreeMap<TeamId, Team>,
    /// API tokens, revoked ones included.
    pub api_tokens: BTreeMap<ApiTokenId, ApiToken>,
    /// Whether the widget key works (on until disabled).
    pub widget_enabled: bool,
    /// The identity-verification secret, once configured.
    pub identity_secret: Option<String>,
    /// Whether identities must be signed with the secret.
    pub require_signed_identity: bool,
    /// SLA policies, business hours, routing rules and auto-assignment.
    pub sla_and_routing: SlaAndRouting,
}

/// A canned answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextBlock {
    /// What agents type after `#`.
    pub shortcut: String,
    /// Its title.
    pub title: String,
    /// The text.
    pub body: String,
    /// Removed (kept for history).
    pub removed: bool,
}

/// A team of agents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Team {
    /// Its name.
    pub name: String,
    /// Its members.
    pub members: BTreeSet<AgentId>,
}

/// An API token, known by its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    /// What it is for.
    pub name: String,
    /// The hash of the secret.
    pub token_hash: String,
    /// What it may do.
    pub role: Role,
    /// The agent it acts as.
    pub agent_id: Option<AgentId>,
    /// Revoked.
    pub revoked: bool,
}

/// Folds one event. Events that do not fit the state leave it unchanged.
pub(super) fn evolve(state: SiteState, event: &SiteEvent) -> SiteState {
    match (state, event) {
        (SiteState::NotCreated, SiteEvent::Created(e)) => SiteState::Active(Box::new(SiteProfile {
            id: e.site_id,
            name: e.name.clone(),
            allowed_origins: e.allowed_origins.clone(),
            widget_key: e.widget_key.clone(),
            settings: SiteSettings::default(),
            custom_fields: Vec::new(),
            text_blocks: BTreeMap::new(),
            teams: BTreeMap::new(),
            api_tokens: BTreeMap::new(),
            widget_enabled: true,
            identity_secret: None,
            require_signed_identity: false,
            sla_and_routing: SlaAndRouting::default(),
        })),
        (SiteState::Active(mut site), event) => {
            site.apply(event);
            SiteState::Active(site)
        }
        (state, _) => state,
    }
}

impl SiteProfile {
    fn apply(&mut self, event: &SiteEvent) {
        match event {
            SiteEvent::Created(_) => {}
            SiteEvent::ProfileChanged(e) => {
                self.name.clone_from(&e.name);
                self.allowed_origins.clone_from(&e.allowed_origins);
            }
            SiteEvent::SettingsChanged(e) => self.settings = e.settings.clone(),
            SiteEvent::CustomFieldsDefined(e) => self.custom_fields.clone_from(&e.fields),
            SiteEvent::TextBlockAdded(e) => {
                let block = TextBlock {
                    shortcut: e.shortcut.clone(),
                    title: e.title.clone(),
                    body: e.body.clone(),
                    removed: false,
                };
                self.text_blocks.insert(e.text_block_id, block);
            }
            SiteEvent::TextBlockChanged(e) => {
                if let Some(block) = self.text_blocks.get_mut(&e.text_block_id) {
                    block.shortcut.clone_from(&e.shortcut);
                    block.title.clone_from(&e.title);
                    block.body.clone_from(&e.body);
                }
            }
            SiteEvent::TextBlockRemoved(e) => {
                if let Some(block) = self.text_blocks.get_mut(&e.text_block_id) {
                    block.removed = true;
                }
            }
            SiteEvent::TeamCreated(e) => {
                self.teams.insert(
                    e.team_id,
                    Team {
                        name: e.name.clone(),
                        members: BTreeSet::new(),
                    },
                );
            }
            SiteEvent::AgentJoinedTeam(e) => {
                if let Some(team) = self.teams.get_mut(&e.team_id) {
                    team.members.insert(e.agent_id);
                }
            }
            SiteEvent::AgentLeftTeam(e) => {
                if let Some(team) = self.teams.get_mut(&e.team_id) {
                    team.members.remove(&e.agent_id);
                }
            }
            SiteEvent::ApiTokenIssued(e) => {
                let token = ApiToken {
                    name: e.name.clone(),
                    token_hash: e.token_hash.clone(),
                    role: e.role,
                    agent_id: e.agent_id,
                    revoked: false,
                };
                self.api_tokens.insert(e.token_id, token);
            }
            SiteEvent::ApiTokenRevoked(e) => {
                if let Some(token) = self.api_tokens.get_mut(&e.token_id) {
                    token.revoked = true;
                }
            }
            SiteEvent::WidgetDisabled(_) => self.widget_enabled = false,
            SiteEvent::WidgetEnabled(_) => self.widget_enabled = true,
            SiteEvent::IdentityVerificationConfigured(e) => {
                self.identity_secret = Some(e.secret.clone());
                self.require_signed_identity = e.required;
            }
            SiteEvent::SlaPoliciesDefined(e) => self.sla_and_routing.sla_policies.clone_from(&e.policies),
            SiteEvent::BusinessHoursSet(e) => self.sla_and_routing.business_hours.clone_from(&e.hours),
            SiteEvent::RoutingRulesDefined(e) => self.sla_and_routing.routing_rules.clone_from(&e.rules),
            SiteEvent::AutoAssignmentConfigured(e) => self.sla_and_routing.auto_assignment = e.auto_assignment(),
        }
    }

    /// The live (not removed) text block with `shortcut`, other than
    /// `except`.
    pub fn text_block_by_shortcut(&self, shortcut: &str, except: Option<TextBlockId>) -> Option<TextBlockId> {
        self.text_blocks
            .iter()
            .find(|(id, block)| !block.removed && Some(**id) != except && block.shortcut.eq_ignore_ascii_case(shortcut))
            .map(|(id, _)| *id)
    }
}
