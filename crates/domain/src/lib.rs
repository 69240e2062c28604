//! Pure rules of Gongshu: identifiers, calendar, deadlines, permissions, audit chain — no I/O.
pub mod audit;
pub mod calendar;
pub mod catalog;
pub mod credentials;
pub mod dataset;
pub mod deadlines;
pub mod ids;
pub mod masking;
pub mod open;
pub mod open_plan;
pub mod org;
pub mod permissions;
pub mod release;
pub mod secrecy;
pub mod sharing;
pub mod showcase;
pub mod social_data;
