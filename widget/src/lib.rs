//! The visitor-facing widget API and script. Empty until the widget issue
//! lands; see DESIGN.md.
