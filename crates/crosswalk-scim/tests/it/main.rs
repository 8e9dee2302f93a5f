//! Integration tests of the SCIM protocol crate.
