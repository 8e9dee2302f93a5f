//! Integration tests of the SCIM protocol crate.

mod filter;
mod patch;
mod properties;
mod providers;
