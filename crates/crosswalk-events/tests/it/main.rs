//! One integration-test binary for the events crate (one binary links once; see
//! ARCHITECTURE.md).

mod delivery;
mod events;
mod order;
mod retry;
mod signing;
mod target;

use std::path::PathBuf;

/// `docs/webhooks.md`, whose examples the tests check against the code.
fn docs_webhooks() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/webhooks.md");
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}
