//! One integration-test binary for the core crate (one binary links once; see ARCHITECTURE.md).

mod evidence;
mod fixtures;
mod properties;
mod resolutions;
mod transforms;
