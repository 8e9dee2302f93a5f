//! The CLI's one integration-test binary: each test runs the real `crosswalk` in a temp dir.

mod util;

mod browser;
mod concurrency;
mod demo;
mod errors;
mod pipes;
mod postgres;
mod run_and_report;
mod scopes;
mod serve;
mod transforms_and_eval;
mod check;
mod items;
mod plan;
mod review;
mod webhooks;
mod peers;
mod report_query;
mod scim;
