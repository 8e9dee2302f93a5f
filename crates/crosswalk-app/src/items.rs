//! The affected items: importing the item references of a scope's content, a mapping's
//! affected items and counts, the re-attribution list (which items a changed destination
//! must reach), and the change feed with each identity change's affected-item count.
//!
//! Re-attribution is derived, not stored: the identity revisions after a cursor whose
//! destination differs from the one before, each joined with the item references of its
//! mapping as they are now (`docs/store.md`).

use std::collections::HashMap;

use crosswalk_core::IdentityKind;
pub use crosswalk_formats::ItemsFormat;
use crosswalk_plan::Reference;
use crosswalk_store::scope::{
    AffectedItem, Cursor, ItemCounts, ItemFilter, ItemReferenceRow, ItemReferencesState, MAX_BATCH,
    MappingValue, Namespace, Reason, RevisionRow, SideRow,
};
use serde::Serialize;
use time::OffsetDateTime;

use crate::App;
use crate::access::Caller;
use crate::error::{AppError, AppResult};
use crate::read::scope_error;

/// Reads item references from text in either format (an upload), naming `source_name`.
pub fn parse_items(
    source_name: &str,
    content: &[u8],
    format: ItemsFormat,
) -> AppResult<Vec<Reference>> {
    crosswalk_formats::read_items(source_name, content, format).map_err(AppError::input)
}

/// Reads an item references file, CSV or JSON Lines by its extension.
pub fn read_items_file(path: &std::path::Path) -> AppResult<Vec<Reference>> {
    crosswalk_formats::read_items_file(path).map_err(AppError::input)
}

/// A mapping's affected items: its counts, one page, and, when there is nothing to show
/// because an input is missing, why and what to do.
#[derive(Debug, Clone, Serialize)]
pub struct AffectedItems {
    pub namespace: Namespace,
    /// The mapping's source key (the key asked for may have been an alternate one).
    pub source_key: Option<String>,
    /// References per role and the permission count, over every page and filter.
    pub counts: ItemCounts,
    pub items: Vec<AffectedItem>,
    /// Pass back as `after` for the next page; none on the last page.
    pub next: Option<String>,
    pub last_page: bool,
    /// Set when a job has not run or no item references were imported: what to do.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// One item a changed mapping must be re-attributed on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReattributionEntry {
    /// The revision that changed the destination.
    pub revision: Cursor,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub reason: Reason,
    pub namespace: Namespace,
    pub source_key: String,
    #[serde(flatten)]
    pub item: AffectedItem,
    pub old_destination_id: String,
    pub old_destination_name: String,
    pub new_destination_id: String,
    pub new_destination_name: String,
}

/// The columns of the re-attribution CSV, in order ([`ReattributionEntry::cells`]).
pub const REATTRIBUTION_COLUMNS: [&str; 15] = [
    "revision",
    "namespace",
    "source_key",
    "container",
    "container_type",
    "item",
    "item_type",
    "title",
    "role",
    "permissions",
    "old_destination_id",
    "old_destination_name",
    "new_destination_id",
    "new_destination_name",
    "reason",
];

impl ReattributionEntry {
    pub fn cells(&self) -> [String; 15] {
        [
            self.revision.to_string(),
            self.namespace.to_string(),
            self.source_key.clone(),
            self.item.container.clone(),
            self.item.container_type.clone(),
            self.item.item.clone(),
            self.item.item_type.clone(),
            self.item.title.clone(),
            self.item.role.clone(),
            self.item.permissions.to_string(),
            self.old_destination_id.clone(),
            self.old_destination_name.clone(),
            self.new_destination_id.clone(),
            self.new_destination_name.clone(),
            self.reason.as_str().to_string(),
        ]
    }
}

/// The columns of the affected-items CSV, in order ([`affected_item_cells`]).
pub const AFFECTED_ITEM_COLUMNS: [&str; 8] = [
    "container",
    "container_type",
    "item",
    "item_type",
    "title",
    "role",
    "identity",
    "permissions",
];

pub fn affected_item_cells(item: &AffectedItem) -> [String; 8] {
    [
        item.container.clone(),
        item.container_type.clone(),
        item.item.clone(),
        item.item_type.clone(),
        item.title.clone(),
        item.role.clone(),
        item.identity.clone(),
        item.permissions.to_string(),
    ]
}

/// The re-attributions found in the revisions after a cursor.
#[derive(Debug, Clone, Serialize)]
pub struct Reattribution {
    pub entries: Vec<ReattributionEntry>,
    /// Pass back as `since` to continue.
    pub cursor: Cursor,
    pub last_page: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// A change feed entry: the revision, and for an identity mapping the number of item
/// references naming it (when the scope has item references).
#[derive(Debug, Clone, Serialize)]
pub struct ChangeEntry {
    #[serde(flatten)]
    pub revision: RevisionRow,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub affected_items: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChangeFeed {
    pub revisions: Vec<ChangeEntry>,
    pub cursor: Cursor,
    pub last_page: bool,
}

fn destination(value: Option<&MappingValue>) -> Option<&SideRow> {
    value
        .and_then(MappingValue::as_identity)
        .map(|v| &v.destination)
}

fn store_row(reference: &Reference) -> ItemReferenceRow {
    ItemReferenceRow {
        container: reference.container.to_string(),
        container_type: reference.details.container_type.to_string(),
        item: reference.item.as_deref().unwrap_or_default().to_string(),
        item_type: reference.details.item_type.to_string(),
        title: reference.details.title.to_string(),
        role: reference.role.as_str().to_string(),
        kind: reference.kind,
        identity: reference.identity.to_string(),
        permissions: reference.permissions,
    }
}

impl App {
    /// Replaces the scope's item references with `references` (read and checked already),
    /// in one transaction.
    pub async fn import_items(
        &self,
        caller: &Caller,
        scope: &str,
        references: &[Reference],
    ) -> AppResult<ItemReferencesState> {
        caller.check_write(scope)?;
        self.store
            .scope(scope)
            .await
            .map_err(|e| scope_error(scope, e))?;
        let rows: Vec<ItemReferenceRow> = references.iter().map(store_row).collect();
        let context = caller.context(self.clock.now());
        Ok(self
            .store
            .replace_item_references(scope, &rows, &context)
            .await?)
    }

    /// How many item references the scope holds.
    pub async fn item_references(
        &self,
        caller: &Caller,
        scope: &str,
    ) -> AppResult<ItemReferencesState> {
        caller.check_read(scope)?;
        self.store
            .item_references(scope)
            .await
            .map_err(|e| scope_error(scope, e))
    }

    /// Why a scope cannot show affected items yet, in plain words with what to do; `None`
    /// when it has run and holds item references.
    pub async fn items_missing(&self, scope: &str) -> AppResult<Option<String>> {
        let runs = self
            .store
            .runs(scope, None)
            .await
            .map_err(|e| scope_error(scope, e))?;
        if runs.is_empty() {
            return Ok(Some(format!(
                "No job of scope {scope:?} has run yet, so there are no mappings and no affected items. Run a job first: \
                 `crosswalk run --scope {scope} --job NAME -s SOURCE -d DESTINATION` (or POST /api/v1/scopes/{scope}/jobs/NAME/runs), \
                 then import the item references."
            )));
        }
        if self.store.item_references(scope).await?.references == 0 {
            return Ok(Some(format!(
                "No item references have been imported into scope {scope:?}, so Crosswalk cannot tell which items, owners and \
                 permissions a mapping affects (owner and permission preservation need them). Import them: \
                 `crosswalk items import --scope {scope} FILE` (CSV or JSON Lines, see docs/formats.md) or POST /api/v1/scopes/{scope}/items."
            )));
        }
        Ok(None)
    }

    /// One mapping's affected items (a page, with filters) and its counts. `key` is its
    /// source key or, in `identity:user`, any alternate key.
    #[allow(clippy::too_many_arguments)]
    pub async fn affected_items(
        &self,
        caller: &Caller,
        scope: &str,
        namespace: &Namespace,
        key: &str,
        filter: &ItemFilter,
        after: Option<&str>,
        limit: usize,
    ) -> AppResult<AffectedItems> {
        caller.check_read(scope)?;
        if !namespace.is_identity() {
            return Err(AppError::invalid(format!(
                "item references name identities; use identity:user or identity:group, not {namespace}"
            )));
        }
        if limit == 0 || limit > MAX_BATCH {
            return Err(AppError::invalid(format!(
                "a page holds 1 to {MAX_BATCH} items, not {limit}"
            )));
        }
        let message = self.items_missing(scope).await?;
        let mut answer = AffectedItems {
            namespace: namespace.clone(),
            source_key: None,
            counts: ItemCounts::default(),
            items: Vec::new(),
            next: None,
            last_page: true,
            message,
        };
        if answer.message.is_some() && self.store.runs(scope, None).await?.is_empty() {
            return Ok(answer);
        }
        let source_key = self
            .history(caller, scope, namespace, key)
            .await?
            .mapping
            .source_key;
        answer.source_key = Some(source_key.clone());
        if answer.message.is_some() {
            return Ok(answer);
        }
        let page = self
            .store
            .affected_items(scope, namespace, &source_key, filter, after, limit)
            .await?;
        answer.counts = self
            .store
            .item_counts(scope, namespace, std::slice::from_ref(&source_key))
            .await?
            .pop()
            .unwrap_or_default();
        answer.items = page.items;
        answer.next = page.next;
        answer.last_page = page.last_page;
        Ok(answer)
    }

    /// Per source key of `kind` (any number), how many permissions its item references
    /// hold; all zero when the scope has none.
    pub async fn permission_counts(
        &self,
        caller: &Caller,
        scope: &str,
        kind: IdentityKind,
        keys: &[String],
    ) -> AppResult<Vec<u64>> {
        caller.check_read(scope)?;
        if self
            .store
            .item_references(scope)
            .await
            .map_err(|e| scope_error(scope, e))?
            .references
            == 0
        {
            return Ok(vec![0; keys.len()]);
        }
        let namespace = Namespace::identity(kind);
        let mut counts = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(MAX_BATCH) {
            counts.extend(
                self.store
                    .item_counts(scope, &namespace, chunk)
                    .await?
                    .into_iter()
                    .map(|c| c.permissions),
            );
        }
        Ok(counts)
    }

    /// The items to re-attribute for the identity revisions after `since` (none: from the
    /// start) among the next `limit` revisions: each item of a mapping whose destination
    /// changed, with the old and the new destination.
    pub async fn reattribution(
        &self,
        caller: &Caller,
        scope: &str,
        since: Option<&str>,
        limit: usize,
    ) -> AppResult<Reattribution> {
        let after = since
            .map(Cursor::parse)
            .transpose()?
            .unwrap_or(Cursor::START);
        caller.check_read(scope)?;
        if limit == 0 || limit > MAX_BATCH {
            return Err(AppError::invalid(format!(
                "a page holds 1 to {MAX_BATCH} changes, not {limit}"
            )));
        }
        if let Some(message) = self.items_missing(scope).await? {
            return Ok(Reattribution {
                entries: Vec::new(),
                cursor: after,
                last_page: true,
                message: Some(message),
            });
        }
        let page = self.store.changes(scope, after, limit).await?;
        let mut entries = Vec::new();
        for revision in &page.revisions {
            if !revision.namespace.is_identity() {
                continue;
            }
            let (Some(old), Some(new)) = (
                destination(revision.old_value.as_ref()),
                destination(revision.new_value.as_ref()),
            ) else {
                continue;
            };
            if old.id == new.id {
                continue;
            }
            let mut after_item: Option<String> = None;
            loop {
                let items = self
                    .store
                    .affected_items(
                        scope,
                        &revision.namespace,
                        &revision.source_key,
                        &ItemFilter::default(),
                        after_item.as_deref(),
                        MAX_BATCH,
                    )
                    .await;
                let items = match items {
                    Ok(items) => items,
                    // Purged since: nothing to re-attribute through it any more.
                    Err(error) if error.kind() == crosswalk_store::scope::ErrorKind::NotFound => {
                        break;
                    }
                    Err(error) => return Err(error.into()),
                };
                for item in items.items {
                    entries.push(ReattributionEntry {
                        revision: revision.cursor,
                        at: revision.at,
                        reason: revision.reason,
                        namespace: revision.namespace.clone(),
                        source_key: revision.source_key.clone(),
                        item,
                        old_destination_id: old.id.clone(),
                        old_destination_name: old.name.clone(),
                        new_destination_id: new.id.clone(),
                        new_destination_name: new.name.clone(),
                    });
                }
                match items.next {
                    Some(next) if !items.last_page => after_item = Some(next),
                    _ => break,
                }
            }
        }
        Ok(Reattribution {
            entries,
            cursor: page.cursor,
            last_page: page.last_page,
            message: None,
        })
    }

    /// [`App::changes`], each identity revision with its mapping's affected-item count when
    /// the scope holds item references.
    pub async fn changes_with_items(
        &self,
        caller: &Caller,
        scope: &str,
        since: Option<&str>,
        limit: usize,
    ) -> AppResult<ChangeFeed> {
        let page = self.changes(caller, scope, since, limit).await?;
        let with_items = self.store.item_references(scope).await?.references > 0;
        let mut counts: HashMap<(String, String), u64> = HashMap::new();
        if with_items {
            for kind in [IdentityKind::Account, IdentityKind::Group] {
                let namespace = Namespace::identity(kind);
                let mut keys: Vec<String> = page
                    .revisions
                    .iter()
                    .filter(|r| r.namespace == namespace)
                    .map(|r| r.source_key.clone())
                    .collect();
                keys.sort();
                keys.dedup();
                for chunk in keys.chunks(MAX_BATCH) {
                    let found = self.store.item_counts(scope, &namespace, chunk).await?;
                    for (key, count) in chunk.iter().zip(found) {
                        counts.insert((namespace.to_string(), key.clone()), count.references);
                    }
                }
            }
        }
        let revisions = page
            .revisions
            .into_iter()
            .map(|revision| {
                let affected_items = counts
                    .get(&(revision.namespace.to_string(), revision.source_key.clone()))
                    .copied();
                ChangeEntry {
                    revision,
                    affected_items,
                }
            })
            .collect();
        Ok(ChangeFeed {
            revisions,
            cursor: page.cursor,
            last_page: page.last_page,
        })
    }
}

/// A role as files and queries may spell it (`last modifier`, `permission_holder`...), in
/// the form the store keeps; `None` when it is no role.
pub fn role_name(text: &str) -> Option<String> {
    crosswalk_plan::Role::parse(text).map(|role| role.as_str().to_string())
}

/// The re-attribution list as a spreadsheet-safe CSV ([`REATTRIBUTION_COLUMNS`]): what the
/// web UI's download and `crosswalk reattribution --format csv` give.
pub fn write_reattribution_csv(
    entries: &[ReattributionEntry],
    output: impl std::io::Write,
) -> std::io::Result<()> {
    crosswalk_formats::write_safe_csv(
        &REATTRIBUTION_COLUMNS,
        entries.iter().map(ReattributionEntry::cells),
        output,
    )
}
