//! Handler tests: the whole router called in process (tower's `oneshot`), over the real
//! SQLite scope store in memory, with data put there by a real run of the application layer.

mod handlers;
mod review;
mod tokens;
mod webhooks;

mod ui;
mod ui_review;
mod ui_webhooks;
