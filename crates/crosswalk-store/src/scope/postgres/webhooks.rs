//! Webhook subscriptions, the outbox and deliveries on PostgreSQL
//! (`migrations/postgres/0006_webhooks.sql`). The queries are shared with SQLite
//! ([`crate::scope::webhooks`]); every write locks its scope's row first, and a claim skips the
//! deliveries other servers hold (`FOR UPDATE SKIP LOCKED`), so several servers on one
//! database deliver each event once between them.

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use uuid::Uuid;

use super::*;
use crate::scope::webhooks::*;

webhook_store!(PostgresScopeStore, sqlx::postgres::PgRow, sql: numbered, lock: lock_scope, skip: " FOR UPDATE OF d SKIP LOCKED", strpos: "strpos");
