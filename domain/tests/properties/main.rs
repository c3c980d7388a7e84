//! Property tests: random command sequences never break an invariant, and
//! `evolve` folds any sequence (and any reordering) of events `decide`
//! produced without panicking.

mod business_hours;
mod conversation;
mod session;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use livedesk_domain::{AgentRef, Role, Staff};
use uuid::Uuid;

pub fn at(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 6, 9, 0, 0)
        .single()
        .expect("a valid date")
        + TimeDelta::minutes(minutes)
}

pub fn id<T: From<Uuid>>(n: u128) -> T {
    T::from(Uuid::from_u128(n))
}

/// Ana and Bo are agents, Sue a supervisor, Al an analyst.
pub fn staff(who: u8) -> Staff {
    let (n, name, role) = match who % 4 {
        0 => (101, "Ana", Role::Agent),
        1 => (102, "Bo", Role::Agent),
        2 => (103, "Sue", Role::Supervisor),
        _ => (104, "Al", Role::Analyst),
    };
    Staff::new(AgentRef::new(id(n), name), role)
}

pub fn is_supervisor(agent: &AgentRef) -> bool {
    agent.id == staff(2).agent.id
}
