//! The envelope every stored event travels in.
//!
//! Stream names are `{category}-{id}` (`conversation-0193...`); the category
//! names the aggregate. Metadata says on whose behalf and why an event was
//! written; the store indexes `site_id` and `command_id` from it.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use uuid::Uuid;

use crate::aggregate::{DecodeError, EventCodec};

/// Longest stream name accepted, in bytes.
pub const MAX_STREAM_NAME_LEN: usize = 200;

/// A validated stream name: `{category}-{id}`.
///
/// The category is 1-32 characters of `a-z`, `0-9` and `_`, starting with a
/// letter; the id is 1 or more characters of `A-Za-z0-9_.:-`; the whole name
/// is at most [`MAX_STREAM_NAME_LEN`] bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct StreamName(String);

/// The categories of Livedesk's streams: one per aggregate. API tokens name
/// them to limit which part of the log they may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamCategory {
    /// `site-{id}`: settings, teams, tokens, text blocks.
    Site,
    /// `agent-{id}`: an agent's profile, presence and roles.
    Agent,
    /// `visitor-{id}`: a visitor's identity across sessions.
    Visitor,
    /// `session-{id}`: one browsing session.
    Session,
    /// `conversation-{id}`: one chat.
    Conversation,
}

impl StreamCategory {
    /// Every category.
    pub const ALL: [Self; 5] = [
        Self::Site,
        Self::Agent,
        Self::Visitor,
        Self::Session,
        Self::Conversation,
    ];

    /// The category as stream names spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Site => "site",
            Self::Agent => "agent",
            Self::Visitor => "visitor",
            Self::Session => "session",
            Self::Conversation => "conversation",
        }
    }

    /// The category of a stream name's spelling, if it is one of ours.
    pub fn parse(category: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == category)
    }
}

/// Why a string is not a legal stream name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StreamNameError {
    /// No `-` separates category and id, or one of them is empty.
    #[error("stream name {0:?} is not of the form {{category}}-{{id}}")]
    Shape(String),
    /// The category has characters outside `a-z0-9_` or is too long.
    #[error("stream category {0:?} must be 1-32 characters of a-z, 0-9 and _, starting with a letter")]
    Category(String),
    /// The id has characters outside `A-Za-z0-9_.:-`.
    #[error("stream id {0:?} may only contain A-Z, a-z, 0-9 and _ . : -")]
    Id(String),
    /// Over [`MAX_STREAM_NAME_LEN`] bytes.
    #[error("stream name is {0} bytes, the limit is {MAX_STREAM_NAME_LEN}")]
    TooLong(usize),
}

impl StreamName {
    /// Parses and validates a stream name.
    ///
    /// # Errors
    ///
    /// [`StreamNameError`] naming the rule the string breaks.
    pub fn parse(name: &str) -> Result<Self, StreamNameError> {
        if name.len() > MAX_STREAM_NAME_LEN {
            return Err(StreamNameError::TooLong(name.len()));
        }
        let (category, id) = name
            .split_once('-')
            .filter(|(c, i)| !c.is_empty() && !i.is_empty())
            .ok_or_else(|| StreamNameError::Shape(name.to_owned()))?;
        if !is_category(category) {
            return Err(StreamNameError::Category(category.to_owned()));
        }
        if !id.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.:-".contains(&b)) {
            return Err(StreamNameError::Id(id.to_owned()));
        }
        Ok(Self(name.to_owned()))
    }

    /// The stream of one aggregate instance: `{category}-{id}`.
    ///
    /// # Errors
    ///
    /// [`StreamNameError::Category`] when `category` is not a legal category.
    pub fn for_id(category: &str, id: Uuid) -> Result<Self, StreamNameError> {
        Self::parse(&format!("{category}-{id}"))
    }

    /// The category: everything before the first `-`.
    pub fn category(&self) -> &str {
        self.0.split_once('-').map_or("", |(category, _)| category)
    }

    /// The id: everything after the first `-`.
    pub fn id(&self) -> &str {
        self.0.split_once('-').map_or("", |(_, id)| id)
    }

    /// The whole name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether `s` is a legal stream category.
pub fn is_category(s: &str) -> bool {
    let mut bytes = s.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z'))
        && s.len() <= 32
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl fmt::Display for StreamName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for StreamName {
    type Err = StreamNameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for StreamName {
    type Error = StreamNameError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<StreamName> for String {
    fn from(name: StreamName) -> Self {
        name.0
    }
}

/// On whose behalf an event was written.
///
/// Written as `visitor:{id}`, `agent:{id}`, `bot:{name}`, `integrator:{id}`
/// or `system`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Actor {
    /// A visitor of a customer's website.
    Visitor(Uuid),
    /// A human agent (also supervisors, admins, analysts).
    Agent(Uuid),
    /// An AI assistant, by name (`builtin`, or an integration's name).
    Bot(String),
    /// An integration acting through an API token.
    Integrator(Uuid),
    /// Livedesk itself: timers, sweeps, migrations.
    System,
}

/// A string that is not an [`Actor`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("actor {0:?} is not one of visitor:<uuid>, agent:<uuid>, bot:<name>, integrator:<uuid>, system")]
pub struct ActorParseError(String);

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Visitor(id) => write!(f, "visitor:{id}"),
            Self::Agent(id) => write!(f, "agent:{id}"),
            Self::Bot(name) => write!(f, "bot:{name}"),
            Self::Integrator(id) => write!(f, "integrator:{id}"),
            Self::System => f.write_str("system"),
        }
    }
}

impl FromStr for Actor {
    type Err = ActorParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ActorParseError(s.to_owned());
        if s == "system" {
            return Ok(Self::System);
        }
        let (kind, rest) = s.split_once(':').ok_or_else(err)?;
        let uuid = || Uuid::parse_str(rest).map_err(|_| err());
        match kind {
            "visitor" => Ok(Self::Visitor(uuid()?)),
            "agent" => Ok(Self::Agent(uuid()?)),
            "integrator" => Ok(Self::Integrator(uuid()?)),
            "bot" if !rest.is_empty() && rest.len() <= 64 => Ok(Self::Bot(rest.to_owned())),
            _ => Err(err()),
        }
    }
}

impl TryFrom<String> for Actor {
    type Error = ActorParseError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Actor> for String {
    fn from(actor: Actor) -> Self {
        actor.to_string()
    }
}

/// Why and for whom an event was written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    /// The site the event belongs to; `None` only for events above sites.
    pub site_id: Option<Uuid>,
    /// Who caused it.
    pub actor: Option<Actor>,
    /// Groups everything one user action caused.
    pub correlation_id: Option<Uuid>,
    /// The event or command that directly caused this one.
    pub causation_id: Option<Uuid>,
    /// The command that wrote it. A retried command with the same id appends
    /// nothing and gets the first result.
    pub command_id: Option<Uuid>,
}

/// An event ready to be appended.
#[derive(Debug, Clone, Serialize)]
pub struct NewEvent {
    /// Unique id (UUID v7). Appending an already stored id is a no-op.
    pub event_id: Uuid,
    /// The stored type name.
    pub event_type: String,
    /// The payload schema version.
    pub schema_version: u32,
    /// The payload as JSON.
    pub payload: Box<RawValue>,
    /// Why and for whom.
    pub metadata: Metadata,
}

impl NewEvent {
    /// Encodes a domain event into an envelope.
    ///
    /// # Errors
    ///
    /// Fails only if the event's payload cannot be represented as JSON.
    pub fn encode<E: EventCodec>(event_id: Uuid, event: &E, metadata: Metadata) -> Result<Self, serde_json::Error> {
        Ok(Self {
            event_id,
            event_type: event.event_type().to_owned(),
            schema_version: event.schema_version(),
            payload: event.encode()?,
            metadata,
        })
    }
}

/// An event as stored: the envelope plus where it sits in its stream and in
/// the global log.
#[derive(Debug, Clone, Serialize)]
pub struct RecordedEvent {
    /// Global position: strictly increasing in read order across all streams.
    pub position: u64,
    /// The stream it belongs to.
    pub stream: StreamName,
    /// 0-based, gap-free version within the stream.
    pub stream_version: u64,
    /// Unique id.
    pub event_id: Uuid,
    /// The stored type name.
    pub event_type: String,
    /// The payload schema version it was written with.
    pub schema_version: u32,
    /// The payload as stored.
    pub payload: Box<RawValue>,
    /// Why and for whom.
    pub metadata: Metadata,
    /// When the store committed it.
    pub recorded_at: DateTime<Utc>,
}

impl RecordedEvent {
    /// Decodes the payload into a domain event, upcasting older versions.
    ///
    /// # Errors
    ///
    /// [`DecodeError`] when the payload does not belong to `E`.
    pub fn decode<E: EventCodec>(&self) -> Result<E, DecodeError> {
        E::decode(&self.event_type, self.schema_version, &self.payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Aggregate;

    #[test]
    fn the_stream_categories_are_the_aggregates_categories() {
        let spelled: Vec<&str> = StreamCategory::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(
            spelled,
            [
                crate::site::Site::CATEGORY,
                crate::agent::Agent::CATEGORY,
                crate::visitor::Visitor::CATEGORY,
                crate::session::Session::CATEGORY,
                crate::conversation::Conversation::CATEGORY,
            ]
        );
        for category in StreamCategory::ALL {
            assert_eq!(StreamCategory::parse(category.as_str()), Some(category));
            let json = serde_json::to_string(&category).expect("json");
            assert_eq!(json, format!("\"{}\"", category.as_str()));
        }
        assert_eq!(StreamCategory::parse("nope"), None);
    }

    #[test]
    fn a_stream_name_splits_into_category_and_id() {
        let name = StreamName::parse("conversation-0193a1b2-c3d4").expect("legal name");
        assert_eq!(name.category(), "conversation");
        assert_eq!(name.id(), "0193a1b2-c3d4");
    }

    #[test]
    fn illegal_stream_names_are_rejected_with_the_rule_they_break() {
        assert!(matches!(StreamName::parse("nodash"), Err(StreamNameError::Shape(_))));
        assert!(matches!(StreamName::parse("-id"), Err(StreamNameError::Shape(_))));
        assert!(matches!(StreamName::parse("site-"), Err(StreamNameError::Shape(_))));
        assert!(matches!(StreamName::parse("Site-1"), Err(StreamNameError::Category(_))));
        assert!(matches!(StreamName::parse("site-a b"), Err(StreamNameError::Id(_))));
        let long = format!("site-{}", "x".repeat(MAX_STREAM_NAME_LEN));
        assert!(matches!(StreamName::parse(&long), Err(StreamNameError::TooLong(_))));
    }

    #[test]
    fn actors_round_trip_through_their_string_form() {
        let id = Uuid::now_v7();
        for actor in [
            Actor::Visitor(id),
            Actor::Agent(id),
            Actor::Bot("builtin".into()),
            Actor::Integrator(id),
            Actor::System,
        ] {
            assert_eq!(actor.to_string().parse::<Actor>(), Ok(actor));
        }
        assert!("agent:not-a-uuid".parse::<Actor>().is_err());
        assert!("robot:1".parse::<Actor>().is_err());
    }
}
