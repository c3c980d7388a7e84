//! Projector runtime and PostgreSQL read models.
//!
//! Projectors turn the event log into the tables the Live View, the inbox
//! and the transcripts are read from (`docs/projections.md`).
//!
//! - [`Projector`]: a name, the event types it reads, the tables it owns,
//!   and an `apply` that writes one batch of events inside a transaction.
//! - [`ProjectionRuntime`]: runs projectors from their checkpoints, one
//!   active instance per projector across processes (an advisory lock on a
//!   dedicated connection), publishes what changed after each commit
//!   ([`Changed`]), lets callers wait for a position
//!   ([`ProjectionRuntime::wait_for`]), reports status and metrics, and
//!   stops a projector on a failing event instead of skipping it.
//! - [`rebuild`]: replays a projector from position 0 into shadow tables and
//!   swaps them in atomically.
//! - [`models`]: the read models; [`read`]: the queries the APIs read them
//!   with; [`liveness`]: the widget's signs of life (process state, not
//!   events); [`automation`]: the checkpoints and queries of the SLA
//!   engine (`livedesk-automation`); [`as_of`]: a conversation or session
//!   as the read model showed it at a past moment, folded from the log;
//!   [`accounts`]: console sign-in state (password hashes, sessions,
//!   invitations; secrets, not events).

pub mod accounts;
pub mod as_of;
pub mod automation;
mod error;
pub mod liveness;
pub mod lock;
pub mod models;
mod projector;
pub mod read;
mod rebuild;
mod runtime;
mod table;

pub use error::{Failure, ProjectionError};
pub use projector::{Changes, Projector, Replay, Rows};
pub use rebuild::{Phases, RebuildError, RebuildReport, rebuild, rebuild_all};
pub use runtime::{Changed, ProjectionRuntime, ProjectorStatus, RuntimeConfig, State, WaitError, application_name};
pub use table::CopyRows;

/// Every projector of Livedesk, in the order they are started.
pub fn all_projectors() -> Vec<std::sync::Arc<dyn Projector>> {
    models::all()
}
