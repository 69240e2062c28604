//! End-to-end suite: the real server on 127.0.0.1:0, a fresh database per test, the
//! same tests on SQLite and (with `GONGSHU_TEST_DATABASE_URL`) on PostgreSQL.
//! Tests that prove a requirement carry its ID in their name.
#[macro_use]
#[path = "../common/mod.rs"]
mod common;

mod access;
mod audit;
mod basics;
mod catalog;
mod ckan;
mod data;
mod data_pages;
mod dcat;
mod https_sources;
mod input;
mod jobs;
mod open_access;
mod open_feedback;
mod open_plans;
mod open_proposals;
mod open_releases;
mod open_usage;
mod orgs;
mod portal;
mod sharing;
mod sharing_pages;
mod social_data;
mod tokens;
mod upstream;
