//! The application layer's one integration-test binary: the use cases on the real SQLite
//! scope store and real files.

mod events;
mod use_cases;
