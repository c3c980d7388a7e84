//! The port: what every event store adapter offers.

use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, Utc};
use futures::Stream;
use livedesk_domain::{NewEvent, RecordedEvent, StreamName};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::StoreError;

/// The version a writer expects a stream to be at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExpectedVersion {
    /// No check.
    Any,
    /// The stream must not exist yet.
    NoStream,
    /// The stream's last event must have this version.
    Exact(u64),
}

impl ExpectedVersion {
    /// What a writer that saw `version` (the last version, or `None` for no
    /// stream) expects.
    pub fn after(version: Option<u64>) -> Self {
        version.map_or(Self::NoStream, Self::Exact)
    }

    /// Whether a stream whose last version is `actual` satisfies this.
    pub fn accepts(self, actual: Option<u64>) -> bool {
        match self {
            Self::Any => true,
            Self::NoStream => actual.is_none(),
            Self::Exact(v) => actual == Some(v),
        }
    }
}

/// What an append wrote, or, for a retried append, what the first one wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AppendResult {
    /// Global position of the first event.
    pub first_position: u64,
    /// Global position of the last event.
    pub last_position: u64,
    /// Stream version of the last event.
    pub stream_version: u64,
    /// `true` when these events (or this command) were already stored and
    /// nothing was written this time.
    pub duplicate: bool,
}

/// Which way [`EventStore::read_stream`] walks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Oldest first, from `from_version` up.
    Forward,
    /// Newest first, from `from_version` down.
    Backward,
}

/// Which events of the global log a reader wants. Empty fields match all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only these event types.
    pub event_types: Vec<String>,
    /// Never these event types (what a reader may not see, such as
    /// internal notes for an integrator).
    pub excluded_types: Vec<String>,
    /// Only streams of these categories (`conversation`, `session`, ...).
    pub categories: Vec<String>,
    /// Only events of this site.
    pub site_id: Option<Uuid>,
    /// Only streams whose name starts with this (`conversation-0193…`; a
    /// whole name picks one stream).
    pub stream_prefix: Option<String>,
    /// Only events caused by this actor (`agent:{id}`, `system`, ...).
    pub actor: Option<String>,
    /// Only events recorded at or after this.
    pub recorded_from: Option<DateTime<Utc>>,
    /// Only events recorded before this.
    pub recorded_to: Option<DateTime<Utc>>,
}

impl Filter {
    /// Everything.
    pub fn all() -> Self {
        Self::default()
    }

    /// Whether this filter lets every event through.
    pub fn is_all(&self) -> bool {
        *self == Self::default()
    }

    /// Whether this filter uses only what the log's `COPY` reads can
    /// inline: types, excluded types, categories and site.
    pub fn is_simple(&self) -> bool {
        self.stream_prefix.is_none()
            && self.actor.is_none()
            && self.recorded_from.is_none()
            && self.recorded_to.is_none()
    }

    /// Whether `event` passes.
    pub fn matches(&self, event: &RecordedEvent) -> bool {
        (self.event_types.is_empty() || self.event_types.contains(&event.event_type))
            && !self.excluded_types.contains(&event.event_type)
            && (self.categories.is_empty() || self.categories.iter().any(|c| c == event.stream.category()))
            && (self.site_id.is_none() || self.site_id == event.metadata.site_id)
            && self
                .stream_prefix
                .as_ref()
                .is_none_or(|prefix| event.stream.as_str().starts_with(prefix.as_str()))
            && self
                .actor
                .as_ref()
                .is_none_or(|actor| event.metadata.actor.as_ref().is_some_and(|a| a.to_string() == *actor))
            && self.recorded_from.is_none_or(|from| event.recorded_at >= from)
            && self.recorded_to.is_none_or(|to| event.recorded_at < to)
    }
}

/// Size limits an adapter enforces before it writes anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest payload of one event, in bytes (1 MiB by default).
    pub max_event_bytes: usize,
    /// Most events in one append (10,000 by default).
    pub max_events_per_append: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_event_bytes: 1024 * 1024,
            max_events_per_append: 10_000,
        }
    }
}

impl Limits {
    /// Checks one append against these limits and the envelope rules.
    ///
    /// # Errors
    ///
    /// [`StoreError::EmptyAppend`], [`StoreError::TooManyEvents`],
    /// [`StoreError::EventTooLarge`] or [`StoreError::InvalidEvent`].
    pub fn check(&self, stream: &StreamName, events: &[NewEvent]) -> Result<(), StoreError> {
        if events.is_empty() {
            return Err(StoreError::EmptyAppend { stream: stream.clone() });
        }
        if events.len() > self.max_events_per_append {
            return Err(StoreError::TooManyEvents {
                count: events.len(),
                limit: self.max_events_per_append,
            });
        }
        for (i, event) in events.iter().enumerate() {
            let size = event.payload.get().len();
            if size > self.max_event_bytes {
                return Err(StoreError::EventTooLarge {
                    event_id: event.event_id,
                    size,
                    limit: self.max_event_bytes,
                });
            }
            if event.event_type.is_empty() || event.event_type.len() > 100 {
                return Err(StoreError::InvalidEvent {
                    event_id: event.event_id,
                    reason: "event type must be 1-100 characters".into(),
                });
            }
            if event.schema_version == 0 || event.schema_version > i32::MAX as u32 {
                return Err(StoreError::InvalidEvent {
                    event_id: event.event_id,
                    reason: "schema version must be positive".into(),
                });
            }
            // PostgreSQL's json type stores text, which cannot hold NUL.
            if event.payload.get().contains("\\u0000") {
                return Err(StoreError::InvalidEvent {
                    event_id: event.event_id,
                    reason: "payload contains a NUL character (\\u0000)".into(),
                });
            }
            if events[..i].iter().any(|e| e.event_id == event.event_id) {
                return Err(StoreError::InvalidEvent {
                    event_id: event.event_id,
                    reason: "event id appears twice in one append".into(),
                });
            }
        }
        Ok(())
    }
}

/// A live feed of the global log: catches up, then follows new events.
pub type EventStream = Pin<Box<dyn Stream<Item = Result<RecordedEvent, StoreError>> + Send>>;

/// The event store port.
///
/// Guarantees every adapter keeps (see DESIGN.md):
/// 1. an append of N events to one stream is atomic and checks the expected
///    version;
/// 2. appending already stored event ids, or a command id already stored,
///    writes nothing and returns the first result;
/// 3. `read_all` and `subscribe_all` from a position see every committed
///    event exactly once, in strictly increasing position order;
/// 4. a live subscriber is woken without polling delay and has no gap
///    between catch-up and live;
/// 5. nothing acknowledged is lost.
pub trait EventStore: Clone + Send + Sync + 'static {
    /// Appends `events` to `stream` atomically.
    ///
    /// # Errors
    ///
    /// [`StoreError::Conflict`] when the stream is not at `expected` (nothing
    /// is written); [`StoreError::PartialDuplicate`] when some but not all
    /// event ids are already stored; a limit or envelope error for bad
    /// input; [`StoreError::Database`] when the store is unreachable.
    fn append(
        &self,
        stream: &StreamName,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> impl Future<Output = Result<AppendResult, StoreError>> + Send;

    /// Reads up to `limit` events of one stream starting at `from_version`
    /// (inclusive), oldest first or newest first. Use `u64::MAX` to read
    /// backward from the end.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`] when the store is unreachable.
    fn read_stream(
        &self,
        stream: &StreamName,
        from_version: u64,
        direction: Direction,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<RecordedEvent>, StoreError>> + Send;

    /// Reads up to `limit` events of the global log with a position above
    /// `after` (0 reads from the start), in position order.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`] when the store is unreachable.
    fn read_all(
        &self,
        after: u64,
        limit: usize,
        filter: &Filter,
    ) -> impl Future<Output = Result<Vec<RecordedEvent>, StoreError>> + Send;

    /// What the append of `command_id` wrote, if it was appended.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`] when the store is unreachable.
    fn find_command(
        &self,
        command_id: uuid::Uuid,
    ) -> impl Future<Output = Result<Option<AppendResult>, StoreError>> + Send;

    /// The position of the newest event, 0 for an empty store.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`] when the store is unreachable.
    fn head(&self) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Every event after `after` that passes `filter`: first those stored,
    /// then new ones as they commit. Ends only when dropped.
    fn subscribe_all(&self, after: u64, filter: Filter) -> EventStream;
}
