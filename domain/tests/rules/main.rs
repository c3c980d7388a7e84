//! The domain's rules, one test per rule, in the given/when/then style.

mod given;

mod agent;
mod business_hours;
mod codec;
mod conversation;
mod routing;
mod session;
mod site;
mod site_routing;
mod site_sla;
mod sla_policy;
mod visitor;
