//! Benchmarks of the event store and the command path (`livedesk-bench`).
