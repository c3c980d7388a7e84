//! Livedesk's rules as pure code.
//!
//! Every fact Livedesk knows is a domain event appended to a stream. This
//! crate holds the aggregates that decide which events a command produces
//! ([`Aggregate::decide`]) and how events fold into state
//! ([`Aggregate::evolve`]), plus the envelope every stored event travels in.
//!
//! | aggregate | stream | module |
//! | --- | --- | --- |
//! | a customer's website | `site-{id}` | [`site`] |
//! | a person in the console | `agent-{id}` | [`agent`] |
//! | a visitor's identity across sessions | `visitor-{id}` | [`visitor`] |
//! | one browsing session (a Live View row) | `session-{id}` | [`session`] |
//! | one chat | `conversation-{id}` | [`conversation`] |
//!
//! Beside them, pure functions the process managers and timers use: SLA
//! clocks in business time ([`sla`]) and routing with auto-assignment
//! ([`routing`]).
//!
//! The crate does no IO and nothing async: time, ids and random values arrive
//! on commands. A test (`tests/dependencies.rs`) keeps sqlx, tokio, axum and
//! async-graphql out of its dependency tree. The event catalogue is
//! `docs/events.md`.

#![warn(missing_docs)]

pub mod aggregate;
pub mod envelope;

pub mod agent;
mod codec;
pub mod conversation;
pub mod ids;
pub mod limits;
pub mod matching;
pub mod people;
pub mod routing;
pub mod session;
pub mod site;
pub mod sla;
pub mod visitor;

pub use aggregate::{Aggregate, DecodeError, EventCodec};
pub use envelope::{Actor, Metadata, NewEvent, RecordedEvent, StreamCategory, StreamName, StreamNameError};
pub use ids::{
    AgentId, ApiTokenId, ConversationId, MessageId, RequestId, RoutingRuleId, SessionId, SiteId, SlaPolicyId, TeamId,
    TextBlockId, VisitorId,
};
pub use limits::InputError;
pub use people::{AgentRef, Initiator, Role, Staff, TeamRef};
