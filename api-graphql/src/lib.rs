//! The GraphQL API for agents, analysts and integrators. Empty until the
//! GraphQL issue lands; see DESIGN.md.
