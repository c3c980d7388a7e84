//! The `EventStore` port and its adapters.
//!
//! Every part of Livedesk writes to and reads from one event log through the
//! [`EventStore`] trait. Two adapters implement it and pass one contract
//! suite (`tests/contract.rs`): [`PgEventStore`] (PostgreSQL, the default)
//! and [`MemoryEventStore`] (domain-level tests only). The
//! [`CommandService`] runs aggregates of the domain crate against any store.

mod command;
mod error;
mod memory;
mod metrics;
mod port;
pub mod postgres;

pub use command::{CommandContext, CommandError, CommandService, Executed};
pub use error::StoreError;
pub use memory::MemoryEventStore;
pub use metrics::StoreMetrics;
pub use port::{AppendResult, Direction, EventStore, EventStream, ExpectedVersion, Filter, Limits};
pub use postgres::typing::{TypingNotice, TypingRelay, Typist};
pub use postgres::{PgEventStore, PgStoreConfig};

/// The schema of the event store and the read models (the top-level
/// `migrations/` folder), embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");
