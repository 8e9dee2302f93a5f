//! Readers and writers for Crosswalk's file formats: SCIM 2.0 JSON, directory CSV, policy TOML, exceptions CSV and the report.
