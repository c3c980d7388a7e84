//! Projector runtime and PostgreSQL read models (Live View, inbox, SLA
//! queue). Empty until the projections issue lands; see DESIGN.md.
