//! Item references kept per scope: which content items (pages, issues, files...) refer to
//! which identities, in which role. An import replaces the scope's whole set in one
//! transaction. References name identities as the content does (a source id, a username,
//! an address); they are matched to mappings when read, never rewritten, so references
//! imported before a run find the mappings the run makes.
//!
//! A reference counts for a mapping when its identity (of the same type) equals the
//! mapping's source key exactly, or, for `identity:user`, equals one of its alternate keys
//! (username, an address; case-insensitive) and is no user mapping's source key: an id
//! always wins over a username or address, as in a look-up.

use std::collections::BTreeMap;

use crosswalk_core::IdentityKind;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::error::{ScopeError, ScopeResult};
use super::keys::{self, AltKind};
use super::model::{MAX_KEY_LEN, SourcePlatform, check_key};

/// The longest title or path kept.
pub const MAX_TITLE_LEN: usize = 4096;

/// One identity reference of one item, as imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemReferenceRow {
    /// Space, project or drive key.
    pub container: String,
    /// `space`, `project`, `drive`...; empty when not given.
    pub container_type: String,
    /// The item's id in its container; empty for a permission on the container itself.
    pub item: String,
    /// `page`, `issue`, `file`, `folder`, `attachment`, `comment`...; empty when not given.
    pub item_type: String,
    /// The title or path; empty when not given.
    pub title: String,
    /// `creator`, `modifier`, `owner`, `commenter`, `mentioned`, `assignee`, `reporter`,
    /// `watcher` or `permission`.
    pub role: String,
    #[serde(rename = "type")]
    pub kind: IdentityKind,
    /// The identity as the content names it.
    pub identity: String,
    /// For `permission`: how many permissions; 0 for the other roles.
    pub permissions: u32,
}

impl ItemReferenceRow {
    /// Checks the sizes and characters a stored reference may have.
    pub fn check(&self) -> ScopeResult<()> {
        check_key("container", &self.container, MAX_KEY_LEN)?;
        check_key("identity", &self.identity, MAX_KEY_LEN)?;
        check_key("role", &self.role, 64)?;
        for (what, value, max) in [
            ("item", &self.item, MAX_KEY_LEN),
            ("container type", &self.container_type, 256),
            ("item type", &self.item_type, 256),
            ("title", &self.title, MAX_TITLE_LEN),
        ] {
            if value.chars().count() > max {
                return Err(ScopeError::invalid(format!(
                    "the {what} {:?}… is longer than {max} characters",
                    value.chars().take(40).collect::<String>()
                )));
            }
        }
        Ok(())
    }

    /// The identity as it is matched: a platform prefix (`jira.userkey/…`, `email/…`) taken
    /// off, and its case-insensitive fold for usernames and addresses.
    pub fn matched_forms(&self, platform: SourcePlatform) -> (String, String) {
        let identity = match self.kind {
            // A prefixed form is looked up in what its prefix names only: one plan step.
            IdentityKind::Account => match keys::lookup_plan(platform, &self.identity).as_slice() {
                [(_, key, _)] => key.clone(),
                _ => self.identity.clone(),
            },
            IdentityKind::Group => self.identity.clone(),
        };
        let folded = keys::normalize(AltKind::Email, &identity);
        (identity, folded)
    }
}

/// What a scope holds of item references: how many, and when and by whom they were imported.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemReferencesState {
    pub references: u64,
    /// Distinct (container, item) pairs.
    pub items: u64,
    #[serde(with = "time::serde::rfc3339::option")]
    pub imported_at: Option<OffsetDateTime>,
    pub imported_by: Option<String>,
}

/// Which of a mapping's references, besides the mapping.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemFilter {
    pub role: Option<String>,
    pub container: Option<String>,
    pub item_type: Option<String>,
}

/// One reference to a mapping's identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AffectedItem {
    pub container: String,
    pub container_type: String,
    /// Empty: the container itself.
    pub item: String,
    pub item_type: String,
    pub title: String,
    pub role: String,
    /// The identity as the content names it (the source id, a username or an address).
    pub identity: String,
    pub permissions: u32,
}

/// A page of a mapping's affected items, in (container, item, role, identity) order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemPage {
    pub items: Vec<AffectedItem>,
    /// Pass back as `after` for the next page; `None` on the last page.
    pub next: Option<String>,
    pub last_page: bool,
}

/// How many references a mapping has, per role, and the permissions among them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemCounts {
    pub references: u64,
    /// Distinct (container, item) pairs referring to it.
    pub items: u64,
    /// References per role (only the roles it has).
    pub by_role: BTreeMap<String, u64>,
    /// The sum of its `permission` references' counts: how many items are shared with it.
    pub permissions: u64,
}

/// Keyset position of a reference: its sequence number in the scope's sorted import.
pub(crate) fn item_cursor(seq: i64) -> String {
    format!("i{seq}")
}

pub(crate) fn parse_item_cursor(text: &str) -> ScopeResult<i64> {
    text.strip_prefix('i')
        .filter(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|digits| digits.parse::<i64>().ok())
        .ok_or_else(|| {
            ScopeError::invalid(format!(
                "{text:?} is not an affected-items cursor; pass a page's `next`, or none to start"
            ))
        })
}

/// The references sorted as they are kept (container, item, role, type, identity), exact
/// repeats dropped.
pub(crate) fn sorted(references: &[ItemReferenceRow]) -> Vec<&ItemReferenceRow> {
    let mut rows: Vec<&ItemReferenceRow> = references.iter().collect();
    rows.sort_by(|a, b| {
        (&a.container, &a.item, &a.role, a.kind.as_str(), &a.identity).cmp(&(
            &b.container,
            &b.item,
            &b.role,
            b.kind.as_str(),
            &b.identity,
        ))
    });
    rows.dedup_by(|a, b| {
        a.container == b.container
            && a.item == b.item
            && a.role == b.role
            && a.kind == b.kind
            && a.identity == b.identity
    });
    rows
}

/// Distinct (container, item) pairs of sorted references.
pub(crate) fn distinct_items(rows: &[&ItemReferenceRow]) -> u64 {
    let mut count = 0;
    let mut last: Option<(&str, &str)> = None;
    for row in rows {
        let here = (row.container.as_str(), row.item.as_str());
        if last != Some(here) {
            count += 1;
            last = Some(here);
        }
    }
    count
}

/// The references matching one mapping, as a CTE `hits (seq)`. Parameters: `$1` scope id,
/// `$2` type, `$3` source key, `$4` mapping id, `$5` the `identity:user` namespace. Written
/// with PostgreSQL's `$n`; SQLite reads the same text with `?n` ([`for_sqlite`]). The
/// alternate keys come first (`CROSS JOIN` keeps that order in SQLite) and the references
/// are reached through [`BY_FOLDED`].
pub(crate) const HITS: &str = "WITH hits (seq) AS (\
     SELECT seq FROM scope_item_refs WHERE scope_id = $1 AND kind = $2 AND identity = $3 \
     UNION \
     SELECT r.seq FROM scope_mapping_keys k \
     CROSS JOIN scope_item_refs r /*refs by folded*/ \
     WHERE k.mapping_id = $4 AND r.scope_id = $1 AND r.kind = $2 AND r.identity_folded = k.key \
     AND NOT EXISTS (SELECT 1 FROM scope_mappings m WHERE m.scope_id = $1 AND m.namespace = $5 AND m.source_key = r.identity)) ";

/// A page of hits; `$6` after, `$7` role, `$8` container, `$9` item type, `$10` limit. The
/// few hits drive the read (each reference found by its key), never the scope's references.
pub(crate) const PAGE: &str = "SELECT r.seq, r.container, r.container_type, r.item, r.item_type, r.title, r.role, r.identity, r.permissions \
     FROM hits h CROSS JOIN scope_item_refs r \
     WHERE r.scope_id = $1 AND r.seq = h.seq AND r.seq > $6 AND ($7 IS NULL OR r.role = $7) AND ($8 IS NULL OR r.container = $8) \
     AND ($9 IS NULL OR r.item_type = $9) ORDER BY r.seq LIMIT $10";

/// Hits per role with their permissions.
pub(crate) const COUNTS: &str = "SELECT r.role, COUNT(*), CAST(COALESCE(SUM(r.permissions), 0) AS BIGINT) \
     FROM hits h CROSS JOIN scope_item_refs r WHERE r.scope_id = $1 AND r.seq = h.seq GROUP BY r.role ORDER BY r.role";

/// Distinct items among the hits.
pub(crate) const DISTINCT_ITEMS: &str = "SELECT COUNT(*) FROM (SELECT DISTINCT r.container, r.item FROM hits h CROSS JOIN scope_item_refs r WHERE r.scope_id = $1 AND r.seq = h.seq) d";

/// Marks where a query reads `scope_item_refs` by identity, or by folded identity. SQLite
/// plans without statistics (nothing runs `ANALYZE`) and, left alone, prefers the primary key
/// `(scope_id, seq)`: every reference of the scope read for each identity, minutes on a
/// scope with millions of references. [`sqlite_index_hints`] names the index instead;
/// PostgreSQL, which keeps statistics, reads the marks as comments.
pub(crate) const BY_IDENTITY: &str = "/*refs by identity*/";
pub(crate) const BY_FOLDED: &str = "/*refs by folded*/";

/// The marks of [`BY_IDENTITY`] and [`BY_FOLDED`] as SQLite's `INDEXED BY`.
pub(crate) fn sqlite_index_hints(sql: &str) -> String {
    sql.replace(BY_IDENTITY, "INDEXED BY scope_item_refs_by_identity")
        .replace(BY_FOLDED, "INDEXED BY scope_item_refs_by_folded")
}

/// `$n` placeholders as SQLite's `?n`, and the index hints.
pub(crate) fn for_sqlite(sql: &str) -> String {
    sqlite_index_hints(&sql.replace('$', "?"))
}

/// Counts from the rows of [`COUNTS`] and [`DISTINCT_ITEMS`].
pub(crate) fn counts(by_role: Vec<(String, i64, i64)>, items: i64) -> ItemCounts {
    let mut counts = ItemCounts {
        items: u64::try_from(items).unwrap_or(0),
        ..ItemCounts::default()
    };
    for (role, references, permissions) in by_role {
        let references = u64::try_from(references).unwrap_or(0);
        counts.references += references;
        counts.permissions += u64::try_from(permissions).unwrap_or(0);
        counts.by_role.insert(role, references);
    }
    counts
}
