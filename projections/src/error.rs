//! What can go wrong while projecting.

use livedesk_domain::DecodeError;

/// Why a batch could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    /// A stored event could not be decoded.
    #[error("cannot decode event at position {position}: {source}")]
    Decode {
        /// Where.
        position: u64,
        /// What is wrong with it.
        #[source]
        source: DecodeError,
    },
    /// A stored event is valid but breaks what the projector relies on.
    #[error("event at position {position} cannot be applied: {reason}")]
    Invalid {
        /// Where.
        position: u64,
        /// What is wrong.
        reason: String,
    },
    /// The database refused a statement or is unreachable.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A row could not be encoded for writing.
    #[error("cannot encode a row of {table}: {source}")]
    Encode {
        /// The table.
        table: &'static str,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// A row read back does not fit its type (a migration and the code
    /// disagree).
    #[error("cannot read a row back: {0}")]
    Load(#[source] serde_json::Error),
}

impl ProjectionError {
    /// Whether retrying the same batch may succeed: the connection or the
    /// server failed, not the data.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Database(error) => is_transient(error),
            Self::Decode { .. } | Self::Invalid { .. } | Self::Encode { .. } | Self::Load(_) => false,
        }
    }
}

/// Whether a database error is about the connection or the server's state
/// (lost connection, shutdown, serialization failure, deadlock, out of
/// resources) rather than the statement or the data.
pub(crate) fn is_transient(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            // 08: connection exception, 40: transaction rollback,
            // 53: insufficient resources, 57: operator intervention
            // (pg_terminate_backend, shutdown), 58: system error.
            ["08", "40", "53", "57", "58"]
                .iter()
                .any(|class| code.starts_with(class))
        }),
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        _ => false,
    }
}

/// The event that stopped a projector.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Failure {
    /// Its global position.
    pub position: u64,
    /// Its type.
    pub event_type: String,
    /// Why it failed.
    pub cause: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "event {} at position {} failed: {}",
            self.event_type, self.position, self.cause
        )
    }
}
