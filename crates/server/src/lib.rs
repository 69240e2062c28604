//! The HTTP edge of Gongshu: JSON API under /api/v1 with its OpenAPI document, the
//! server-rendered console, health probes, and start-up (config, store, workers).
pub mod api;
pub mod ckan;
pub mod config;
pub mod dcat;
pub mod error;
pub mod extract;
pub mod launch;
pub mod openapi;
pub mod spool;
pub mod state;
pub mod web;

pub use config::Config;
pub use launch::{open_app, router, serve};
pub use state::AppState;
