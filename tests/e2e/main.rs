//! End-to-end tests: a real server on a loopback port over a fresh
//! PostgreSQL database per test, driven by real HTTP clients.

mod health;
mod helpers;
