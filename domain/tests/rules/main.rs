//! The domain's rules, one test per rule, in the given/when/then style.

mod given;

mod agent;
mod codec;
mod conversation;
mod session;
mod site;
mod visitor;
