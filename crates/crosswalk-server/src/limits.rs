//! The sizes a request may have. Each refusal names the limit it hit.

use std::time::Duration;

/// The largest request body: 10,000 keys of a few hundred bytes each fit comfortably.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
/// The most mappings a page holds, and the most keys one look-up or write takes (the
/// store's own batch limit).
pub const MAX_PAGE_SIZE: usize = crosswalk_store::scope::MAX_BATCH;
/// The page size when a request names none: the compatible API's old default (5,000), far
/// above the 1,200 its original now allows.
pub const DEFAULT_PAGE_SIZE: usize = 5_000;
/// A request still running after this is answered 408 and its work dropped.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
