//! SLA clocks as pure functions: business hours, and the policies that set
//! a conversation's due times.
//!
//! A site lists its policies in order; the first whose conditions match a
//! conversation applies ([`matching_policy`]). Its targets are seconds of
//! business time, turned into due times by [`BusinessHours::add`]; a site
//! without business hours counts all time ([`BusinessHours::always_open`]).
//! The rules are written out in `docs/sla-and-routing.md`.

mod calendar;
mod hours;
mod policy;

pub use hours::{BusinessHours, ClockError, HORIZON_DAYS, MINUTES_PER_DAY, WeeklyInterval};
pub use policy::{SlaConditions, SlaFacts, SlaPolicy, matching_policy};
