//! Verified tokens kept in memory for a moment, so a request does not read its token's row
//! from the store every time (a single-key look-up was three queries: token, scope, key;
//! docs/performance.md, "The mapping API").
//!
//! What it costs: a token revoked by *another* process (another `crosswalk serve` on the same
//! store, or `crosswalk token revoke`) is still accepted here for up to the time to live
//! (1 s by default, `crosswalk serve --token-cache-ms`; 0 turns the cache off). A token
//! revoked through *this* process is refused at once: revoking forgets it, and a read that
//! raced with the revocation is not kept. Only tokens the store found are kept, so a new
//! token works at once everywhere and wrong tokens are always read from the store.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crosswalk_store::scope::{NewToken, StoreFuture, TokenRecord, TokenRow, TokenStore};
use time::OffsetDateTime;

/// How long a token read from the store is used without reading it again.
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(1);

/// Past this many entries, expired ones are dropped when a new one is kept (tokens are few;
/// this only bounds a map that would otherwise keep every token ever seen).
const SWEEP_ABOVE: usize = 1024;

/// A [`TokenStore`] that answers [`TokenStore::token`] from memory for `ttl` after reading
/// it; everything else goes to the store.
pub struct CachedTokens {
    inner: Arc<dyn TokenStore>,
    ttl: Duration,
    entries: Mutex<HashMap<String, (Instant, TokenRecord)>>,
    /// Bumped by every revocation: a read that started before one is not kept, since the
    /// row it brings may predate the revocation.
    revocations: AtomicU64,
}

impl CachedTokens {
    pub fn new(inner: Arc<dyn TokenStore>, ttl: Duration) -> CachedTokens {
        CachedTokens {
            inner,
            ttl,
            entries: Mutex::new(HashMap::new()),
            revocations: AtomicU64::new(0),
        }
    }

    /// The store behind the cache.
    pub fn inner(&self) -> &Arc<dyn TokenStore> {
        &self.inner
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    fn fresh(&self, public_id: &str) -> Option<TokenRecord> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let (read_at, record) = entries.get(public_id)?;
        (read_at.elapsed() < self.ttl).then(|| record.clone())
    }

    fn keep(&self, record: &TokenRecord, read_at: Instant, revocations_before: u64) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        // Checked under the lock revocations forget under: no revocation slips between.
        if self.revocations.load(Ordering::SeqCst) != revocations_before {
            return;
        }
        if entries.len() >= SWEEP_ABOVE {
            entries.retain(|_, (at, _)| at.elapsed() < self.ttl);
        }
        entries.insert(record.token.public_id.clone(), (read_at, record.clone()));
    }

    fn forget(&self, public_id: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        self.revocations.fetch_add(1, Ordering::SeqCst);
        entries.remove(public_id);
    }
}

impl TokenStore for CachedTokens {
    fn create_token<'a>(&'a self, token: &'a NewToken) -> StoreFuture<'a, TokenRow> {
        self.inner.create_token(token)
    }

    fn token<'a>(&'a self, public_id: &'a str) -> StoreFuture<'a, TokenRecord> {
        Box::pin(async move {
            if self.ttl.is_zero() {
                return self.inner.token(public_id).await;
            }
            if let Some(record) = self.fresh(public_id) {
                return Ok(record);
            }
            let revocations_before = self.revocations.load(Ordering::SeqCst);
            // The time of the read's start: the entry is never older than it looks.
            let read_at = Instant::now();
            let record = self.inner.token(public_id).await?;
            // A revoked token is refused by its row; keeping it saves nothing worth the risk.
            if record.token.revoked_at.is_none() {
                self.keep(&record, read_at, revocations_before);
            }
            Ok(record)
        })
    }

    fn tokens<'a>(&'a self, scope: Option<&'a str>) -> StoreFuture<'a, Vec<TokenRow>> {
        self.inner.tokens(scope)
    }

    fn revoke_token<'a>(
        &'a self,
        public_id: &'a str,
        at: OffsetDateTime,
    ) -> StoreFuture<'a, TokenRow> {
        Box::pin(async move {
            // Forgotten before and after the write: a read between the two is not kept
            // (the counter moved), and none after it can see the token unrevoked.
            self.forget(public_id);
            let revoked = self.inner.revoke_token(public_id, at).await;
            self.forget(public_id);
            revoked
        })
    }
}
