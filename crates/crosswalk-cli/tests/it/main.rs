//! The CLI's one integration-test binary: each test runs the real `crosswalk` in a temp dir.

mod util;

mod browser;
mod check;
mod concurrency;
mod demo;
mod errors;
mod items;
mod ldap;
mod peers;
mod pipes;
mod plan;
mod postgres;
mod report_query;
mod review;
mod run_and_report;
mod scim;
mod scopes;
mod serve;
mod transforms_and_eval;
mod webhooks;
