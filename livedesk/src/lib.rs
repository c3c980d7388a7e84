//! The composition root: configuration, database start-up and the HTTP
//! server. `main.rs` only parses the command line and calls in here.

pub mod config;
pub mod console;
pub mod database;
pub mod demo;
pub mod export;
pub mod http;
pub mod people;
pub mod reports;
pub mod startup;
pub mod tokens;
