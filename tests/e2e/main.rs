//! End-to-end tests: a real server on a loopback port over a fresh
//! PostgreSQL database per test, driven by real HTTP and WebSocket
//! clients.

mod as_of;
mod authorization;
mod bad_input;
mod browser;
mod console;
mod console_auth;
mod console_browser;
mod csv_exports;
mod export;
mod fixtures;
mod graphql_http;
mod handling;
mod health;
mod helpers;
mod history;
mod integrator_feed;
mod report;
mod routing;
mod sla;
mod subscriptions;
mod typing;
mod widget;
