//! Webhook subscriptions, the outbox and deliveries on SQLite (`migrations/sqlite/0006_webhooks.sql`).
//! The queries are shared with PostgreSQL ([`crate::scope::webhooks`]); a write's `BEGIN
//! IMMEDIATE` is its scope's lock, and one process delivers, so a claim needs no row locks.

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use uuid::Uuid;

use super::*;
use crate::scope::webhooks::*;

fn with_index_hints(sql: &str) -> String {
    crate::scope::items::sqlite_index_hints(sql)
}

webhook_store!(SqliteScopeStore, sqlx::sqlite::SqliteRow, sql: with_index_hints, lock: scope_id, skip: "", strpos: "instr");
