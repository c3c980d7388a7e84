//! A customer's website: its settings, "additional information" fields,
//! text blocks, teams and API tokens. Stream `site-{id}`.
//!
//! Rules kept here: allowed origins are origins; settings stay in their
//! ranges (message limit 1 to 100,000 characters, 10,000 by default;
//! sessions 1 second to 1 day, 1 hour by default); custom field keys are
//! unique; text block shortcuts are unique among live blocks; team names are
//! unique; API tokens are recorded by hash only; the widget key works until
//! the widget is disabled; an identity secret is 32-256 printable characters; nothing is deleted (a
//! removed text block or a revoked token stays in history). SLA policies
//! and routing rules are ordered lists with unique ids, bounded conditions
//! and teams of the site; business hours are in an IANA zone with
//! non-overlapping intervals (see [`SlaAndRouting`]).

mod command;
mod config;
mod decide;
mod error;
mod event;
mod state;
mod types;

pub use command::SiteCommand;
pub use config::SlaAndRouting;
pub use decide::{IDENTITY_SECRET_CHARS, MAX_ALLOWED_ORIGINS, MAX_SHORTCUT_CHARS, is_origin};
pub use error::SiteError;
pub use event::{
    AgentJoinedTeam, AgentLeftTeam, ApiTokenIssued, ApiTokenRevoked, AutoAssignmentConfigured, BusinessHoursSet,
    CustomFieldsDefined, IdentityVerificationConfigured, RoutingRulesDefined, SiteCreated, SiteEvent,
    SiteProfileChanged, SiteSettingsChanged, SlaPoliciesDefined, TeamCreated, TextBlockAdded, TextBlockChanged,
    TextBlockRemoved, WidgetDisabled, WidgetEnabled,
};
pub use state::{ApiToken, SiteProfile, SiteState, Team, TextBlock};
pub use types::{CustomFieldDefinition, FieldKind, FieldValue, MAX_CUSTOM_FIELDS, SiteSettings, VisitorIdMode};

use crate::aggregate::Aggregate;

/// The site aggregate. See the [module docs](self) for its rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct Site;

impl Aggregate for Site {
    const CATEGORY: &'static str = "site";
    type State = SiteState;
    type Command = SiteCommand;
    type Event = SiteEvent;
    type Error = SiteError;

    /// # Errors
    ///
    /// [`SiteError`] naming the broken rule.
    fn decide(state: &SiteState, command: SiteCommand) -> Result<Vec<SiteEvent>, SiteError> {
        decide::decide(state, command)
    }

    fn evolve(state: SiteState, event: &SiteEvent) -> SiteState {
        state::evolve(state, event)
    }
}
