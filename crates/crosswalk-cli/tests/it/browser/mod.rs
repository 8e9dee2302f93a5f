//! Browser tests: a real headless Chromium (through chromedriver) against the real
//! `crosswalk serve`. `support` is the harness; each area of the web UI gets its own module.

pub(crate) mod support;

mod demo_ui;
mod report_pages;
mod review_pages;
mod scim_pages;
mod webhook_pages;
