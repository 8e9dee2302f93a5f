//! crosswalk-formats integration tests: one binary, one module per format, plus the
//! round-trip properties and the no-panic smoke test over random input.

mod directory_csv;
mod exceptions;
mod exports;
mod fuzz_smoke;
mod items;
mod ldif;
mod limits;
mod peer_maps;
mod planning;
mod policy;
mod report;
mod roundtrip;
mod scim;
