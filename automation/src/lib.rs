//! Process managers of Livedesk: background work that reacts to the event
//! log by posting commands through the same command services as everyone
//! else.
//!
//! - [`sla`]: the SLA engine, which starts, fulfils and breaches SLA
//!   clocks (`docs/sla-and-routing.md`).
//! - [`clock`]: the injected time ([`SystemClock`], and [`ManualClock`]
//!   for tests that move time instead of sleeping).
//!
//! Routing and auto-assignment will live here too.

pub mod clock;
mod command_id;
pub mod sla;

pub use clock::{Clock, ManualClock, SystemClock};
pub use command_id::derived as derived_command_id;
pub use sla::{SlaEngine, SlaEngineConfig};
