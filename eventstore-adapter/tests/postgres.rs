//! The contract suite against PostgreSQL, a fresh database per test.

mod common;
mod contract;

use livedesk_eventstore::{PgEventStore, PgStoreConfig};
use sqlx::PgPool;

contract_tests!(sqlx::test(migrator = "livedesk_eventstore::MIGRATOR"), (pool: PgPool) => PgEventStore::new(pool, PgStoreConfig::default()));
