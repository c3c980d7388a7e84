//! The contract suite against the in-memory adapter.

mod common;
mod contract;

use livedesk_eventstore::MemoryEventStore;

contract_tests!(tokio::test, () => MemoryEventStore::default());
