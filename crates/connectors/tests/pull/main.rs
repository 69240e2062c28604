//! COL-1: end-to-end pulls against a test HTTP server (plain and TLS) and, when their URLs are
//! set, real PostgreSQL (`GONGSHU_TEST_DATABASE_URL`) and MySQL/MariaDB
//! (`GONGSHU_TEST_MYSQL_URL`) servers.

mod common;
mod db_tls;
mod http;
mod mysql;
mod pki;
mod postgres;
mod upstream;
