//! Process managers of Livedesk: background work that reacts to the event
//! log by posting commands through the same command services as everyone
//! else.
//!
//! - [`sla`]: the SLA engine, which starts, fulfils and breaches SLA
//!   clocks (`docs/sla-and-routing.md`).
//! - [`routing`]: the router, which applies routing rules and
//!   auto-assignment.
//! - [`clock`]: the injected time ([`SystemClock`], and [`ManualClock`]
//!   for tests that move time instead of sleeping).

pub mod clock;
mod command_id;
mod facts;
pub mod routing;
pub mod sla;

pub use clock::{Clock, ManualClock, SystemClock};
pub use command_id::derived as derived_command_id;
pub use routing::{Router, RouterConfig};
pub use sla::{SlaEngine, SlaEngineConfig};
