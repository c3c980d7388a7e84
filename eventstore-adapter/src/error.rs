//! What can go wrong in the store.

use std::sync::Arc;

use livedesk_domain::{StreamName, StreamNameError};
use uuid::Uuid;

use crate::ExpectedVersion;

/// An event store failure. Every variant but [`StoreError::Database`] means
/// nothing was written.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The stream was not at the expected version.
    #[error("stream {stream} is at version {actual:?}, the writer expected {expected:?}")]
    Conflict {
        /// The stream.
        stream: StreamName,
        /// What the writer expected.
        expected: ExpectedVersion,
        /// The version of its last event, `None` when it has no events.
        actual: Option<u64>,
    },
    /// Some but not all event ids of the append are already stored: it is
    /// neither new nor a retry.
    #[error("append to {stream} mixes new events with already stored event ids")]
    PartialDuplicate {
        /// The stream.
        stream: StreamName,
    },
    /// An append with no events.
    #[error("append to {stream} has no events")]
    EmptyAppend {
        /// The stream.
        stream: StreamName,
    },
    /// More events in one append than the limit.
    #[error("append has {count} events, the limit is {limit}")]
    TooManyEvents {
        /// Events in the append.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// One event's payload is over the size limit.
    #[error("event {event_id} is {size} bytes, the limit is {limit}")]
    EventTooLarge {
        /// The event.
        event_id: Uuid,
        /// Its payload size in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// An event breaks an envelope rule.
    #[error("event {event_id} is invalid: {reason}")]
    InvalidEvent {
        /// The event.
        event_id: Uuid,
        /// The rule it breaks.
        reason: String,
    },
    /// A stream name is illegal.
    #[error(transparent)]
    StreamName(#[from] StreamNameError),
    /// A stored row could not be read back.
    #[error("stored event at position {position} is unreadable: {reason}")]
    Corrupt {
        /// Where.
        position: u64,
        /// What is wrong.
        reason: String,
    },
    /// The database failed or is unreachable. An append that returns this
    /// may or may not have been written: retry it with the same event ids.
    #[error("event store database error: {0}")]
    Database(#[source] Arc<sqlx::Error>),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        Self::Database(Arc::new(error))
    }
}

impl StoreError {
    /// Whether retrying the same call may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Database(_))
    }
}
