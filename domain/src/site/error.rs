//! Why a site command was rejected.

use chrono::Weekday;

use crate::ids::{ApiTokenId, RoutingRuleId, SlaPolicyId, TeamId, TextBlockId};
use crate::limits::InputError;

/// The rule a site command breaks. A rejected command appends nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SiteError {
    /// The site does not exist yet.
    #[error("the site has not been created")]
    NotCreated,
    /// `Create` on a site that exists.
    #[error("the site already exists")]
    AlreadyCreated,
    /// Input breaks a size or shape rule.
    #[error(transparent)]
    Invalid(#[from] InputError),
    /// Not an origin (`https://host[:port]`).
    #[error("{0:?} is not an origin such as https://shop.example")]
    InvalidOrigin(String),
    /// Two custom fields with one key.
    #[error("custom field key {0:?} is defined twice")]
    DuplicateFieldKey(String),
    /// A text block id used twice.
    #[error("text block {0} already exists")]
    DuplicateTextBlock(TextBlockId),
    /// No such (live) text block.
    #[error("no text block {0} on this site")]
    UnknownTextBlock(TextBlockId),
    /// Another text block has the shortcut.
    #[error("the shortcut #{0} is already used by another text block")]
    ShortcutTaken(String),
    /// A team id used twice.
    #[error("team {0} already exists")]
    DuplicateTeam(TeamId),
    /// Another team has the name.
    #[error("a team named {0:?} already exists")]
    TeamNameTaken(String),
    /// No such team.
    #[error("no team {0} on this site")]
    UnknownTeam(TeamId),
    /// A token id used twice.
    #[error("API token {0} already exists")]
    DuplicateApiToken(ApiTokenId),
    /// No such token.
    #[error("no API token {0} on this site")]
    UnknownApiToken(ApiTokenId),
    /// An SLA policy id listed twice.
    #[error("SLA policy {0} is listed twice")]
    DuplicateSlaPolicy(SlaPolicyId),
    /// An SLA policy with no target at all.
    #[error("SLA policy {0} sets no target (first response, next response or resolution)")]
    NoSlaTarget(SlaPolicyId),
    /// A routing rule id listed twice.
    #[error("routing rule {0} is listed twice")]
    DuplicateRoutingRule(RoutingRuleId),
    /// Not a page path prefix.
    #[error("{0:?} is not a page path prefix such as /pricing")]
    InvalidPathPrefix(String),
    /// Not a language range.
    #[error("{0:?} is not a language such as de or de-AT")]
    InvalidLanguage(String),
    /// Not an IANA time zone.
    #[error("{0:?} is not an IANA time zone such as Europe/Berlin")]
    UnknownTimeZone(String),
    /// Two business-hours intervals of one weekday overlap.
    #[error("business hours overlap on {0}")]
    OverlappingHours(Weekday),
}
