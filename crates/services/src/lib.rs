//! Use cases of Gongshu: each checks the actor's permission, validates input into
//! domain types, and commits its writes with its audit record in one transaction.
pub mod audit;
pub mod audit_writer;
pub mod catalog;
pub mod catalog_search;
pub mod catalog_sheet;
pub mod context;
pub mod dataset_input;
pub mod datasets;
pub mod demands;
pub mod demo;
pub mod demo_catalog;
pub mod demo_data;
pub mod demo_open;
pub mod demo_sharing;
pub mod egress;
pub mod error;
pub mod governance;
pub mod identity;
pub mod it_projects;
pub mod jobs;
pub mod open;
pub mod open_access;
pub mod open_feedback;
pub mod orgs;
pub mod scenarios;
pub mod settings;
pub mod sharing;
pub mod sources;

pub use context::{App, Ctx};
pub use error::{ServiceError, ServiceResult};
pub use gongshu_connectors::SecretKey;
pub use settings::Settings;
