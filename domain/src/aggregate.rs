//! The two traits every aggregate of Livedesk implements.

use serde_json::value::RawValue;

/// An aggregate: the consistency boundary of one stream.
///
/// An aggregate is two pure functions. [`decide`](Aggregate::decide) turns a
/// command into events given the current state, or rejects it with a domain
/// error; [`evolve`](Aggregate::evolve) folds one event into the state.
/// Command handling (load, fold, decide, append with the expected version,
/// retry on conflict) lives beside the event store, not here.
pub trait Aggregate {
    /// The stream category, the part of the stream name before the first
    /// `-` (`conversation` for `conversation-{id}`). Never renamed once
    /// events exist.
    const CATEGORY: &'static str;
    /// The folded state. `Default` is the state of a stream with no events.
    type State: Default + Clone + Send + Sync + 'static;
    /// What a caller asks for. Cloned when a conflict forces a retry.
    type Command: Clone + Send + Sync;
    /// What happened.
    type Event: EventCodec + Send + Sync;
    /// Why a command was rejected; names the broken rule.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Decides which events `command` produces in `state`.
    ///
    /// # Errors
    ///
    /// Returns the domain rule the command breaks. A rejection appends
    /// nothing.
    fn decide(state: &Self::State, command: Self::Command) -> Result<Vec<Self::Event>, Self::Error>;

    /// Folds one event into the state. Never panics: any sequence of events
    /// `decide` produced folds.
    fn evolve(state: Self::State, event: &Self::Event) -> Self::State;
}

/// How a domain event is stored: a stable type name, a payload schema
/// version, and a JSON payload.
///
/// Older payloads are upcast in [`decode`](EventCodec::decode), never
/// rewritten in the store.
pub trait EventCodec: Sized {
    /// The stored event type, e.g. `ConversationAssigned`. Never renamed
    /// once events exist.
    fn event_type(&self) -> &'static str;

    /// The schema version of the payload [`encode`](EventCodec::encode)
    /// writes.
    fn schema_version(&self) -> u32;

    /// The payload as JSON.
    ///
    /// # Errors
    ///
    /// Fails only if a payload type cannot be represented as JSON.
    fn encode(&self) -> Result<Box<RawValue>, serde_json::Error>;

    /// Reads a stored event back, upcasting older schema versions.
    ///
    /// # Errors
    ///
    /// [`DecodeError`] when the type is unknown to this aggregate, the
    /// version is newer than this code knows, or the payload does not match.
    fn decode(event_type: &str, schema_version: u32, payload: &RawValue) -> Result<Self, DecodeError>;
}

/// A stored event this code cannot read.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The event type is not one of this aggregate's events.
    #[error("unknown event type {0:?}")]
    UnknownType(String),
    /// The payload was written by a newer schema than this code knows.
    #[error("event type {event_type:?} has schema version {found}, this build reads up to {known}")]
    UnsupportedVersion {
        /// The stored type.
        event_type: String,
        /// The stored schema version.
        found: u32,
        /// The newest version this build reads.
        known: u32,
    },
    /// The payload does not have the shape of its type and version.
    #[error("payload of {event_type:?} v{schema_version} is malformed: {source}")]
    Malformed {
        /// The stored type.
        event_type: String,
        /// The stored schema version.
        schema_version: u32,
        /// What serde found wrong.
        source: serde_json::Error,
    },
}
