//! `given(events).when(command).then(events)`: the shape of every rule
//! test. `then` also checks that the produced events fold and survive a trip
//! through the codec, so every scenario tests storage too.

use std::fmt::Debug;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use livedesk_domain::{Aggregate, EventCodec};
use uuid::Uuid;

pub struct Scenario<A: Aggregate> {
    state: A::State,
}

pub struct Outcome<A: Aggregate> {
    state: A::State,
    result: Result<Vec<A::Event>, A::Error>,
}

/// Which aggregate an event belongs to, so `given([...])` needs no turbofish.
pub trait EventOf {
    type Aggregate: Aggregate<Event = Self>;
}

impl EventOf for livedesk_domain::site::SiteEvent {
    type Aggregate = livedesk_domain::site::Site;
}
impl EventOf for livedesk_domain::agent::AgentEvent {
    type Aggregate = livedesk_domain::agent::Agent;
}
impl EventOf for livedesk_domain::visitor::VisitorEvent {
    type Aggregate = livedesk_domain::visitor::Visitor;
}
impl EventOf for livedesk_domain::session::SessionEvent {
    type Aggregate = livedesk_domain::session::Session;
}
impl EventOf for livedesk_domain::conversation::ConversationEvent {
    type Aggregate = livedesk_domain::conversation::Conversation;
}

/// The state after `events`.
pub fn given<E: EventOf>(events: impl IntoIterator<Item = E>) -> Scenario<E::Aggregate> {
    let state = events
        .into_iter()
        .fold(Default::default(), |state, event| E::Aggregate::evolve(state, &event));
    Scenario { state }
}

/// A stream with no events yet.
pub fn given_no_events<A: Aggregate>() -> Scenario<A> {
    Scenario {
        state: A::State::default(),
    }
}

impl<A: Aggregate> Scenario<A> {
    pub fn when(self, command: A::Command) -> Outcome<A> {
        let result = A::decide(&self.state, command);
        Outcome {
            state: self.state,
            result,
        }
    }
}

impl<A> Outcome<A>
where
    A: Aggregate,
    A::Event: PartialEq + Debug,
    A::Error: PartialEq + Debug,
{
    /// Asserts the command produced exactly `expected`, and returns the state
    /// after them.
    #[track_caller]
    pub fn then(self, expected: impl IntoIterator<Item = A::Event>) -> A::State {
        let expected: Vec<_> = expected.into_iter().collect();
        match self.result {
            Ok(events) => {
                assert_eq!(events, expected, "the command produced other events");
                for event in &events {
                    let payload = event.encode().expect("payload encodes");
                    let decoded = A::Event::decode(event.event_type(), event.schema_version(), &payload)
                        .expect("payload decodes");
                    assert_eq!(&decoded, event, "the event changed through the codec");
                }
                events.iter().fold(self.state, |state, event| A::evolve(state, event))
            }
            Err(error) => panic!("expected {expected:?}, the command was rejected: {error:?}"),
        }
    }

    /// Asserts the command produced nothing (its outcome already holds).
    #[track_caller]
    pub fn then_nothing(self) {
        self.then([]);
    }

    /// Asserts the command was rejected with `expected`.
    #[track_caller]
    pub fn then_error(self, expected: A::Error) {
        match self.result {
            Ok(events) => panic!("expected {expected:?}, the command produced {events:?}"),
            Err(error) => assert_eq!(error, expected),
        }
    }

    /// The rejection, asserting the command was rejected.
    #[track_caller]
    pub fn error(self) -> A::Error {
        match self.result {
            Ok(events) => panic!("expected a rejection, the command produced {events:?}"),
            Err(error) => error,
        }
    }

    /// The events produced, asserting the command was accepted.
    #[track_caller]
    pub fn events(self) -> Vec<A::Event> {
        match self.result {
            Ok(events) => events,
            Err(error) => panic!("the command was rejected: {error:?}"),
        }
    }
}

/// A fixed moment, `minutes` after 2025-01-06 09:00 UTC.
pub fn at(minutes: i64) -> DateTime<Utc> {
    let start = Utc
        .with_ymd_and_hms(2025, 1, 6, 9, 0, 0)
        .single()
        .expect("a valid date");
    start + TimeDelta::minutes(minutes)
}

/// A fixed id.
pub fn id<T: From<Uuid>>(n: u128) -> T {
    T::from(Uuid::from_u128(n))
}
