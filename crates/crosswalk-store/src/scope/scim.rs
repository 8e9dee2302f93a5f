//! The SCIM service's resources (issue 19): each scope's destination directory as identity
//! providers see it over SCIM. The store keeps resources as the application hands them: a
//! kind (`user`, `group`, or `conflict`, a group membership change held for the admin), an
//! id, a JSON body it does not read, a hidden flag (deleted by the provider, kept), a
//! version bumped by every write, and look-up keys the application derives (folded user
//! names, addresses, external ids, group names, member ids, look-alike skeletons). Every
//! write is one transaction that also appends a revision to the scope's change feed, in the
//! namespace `scim:<kind>` under the resource's id.
//!
//! What it enforces, inside the write's transaction so two providers racing cannot both
//! win: the version the caller read (`If-Match`, or "must not exist" for a create), and
//! uniqueness of the key kinds the caller names among the kind's visible resources.

use time::OffsetDateTime;

use super::StoreFuture;
use super::model::ChangeContext;

/// What a SCIM resource is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScimKind {
    User,
    Group,
    /// A provider's membership change to a migrated group, held until the admin decides.
    Conflict,
}

impl ScimKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ScimKind::User => "user",
            ScimKind::Group => "group",
            ScimKind::Conflict => "conflict",
        }
    }

    /// The change feed namespace its revisions go to.
    pub fn namespace(self) -> &'static str {
        match self {
            ScimKind::User => "scim:user",
            ScimKind::Group => "scim:group",
            ScimKind::Conflict => "scim:conflict",
        }
    }
}

/// A look-up key: its kind (`username`, `email`, `external`, `display`, `member`,
/// `skeleton`...; the application's words) and its text, already folded as look-ups want it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ScimKey {
    pub kind: String,
    pub key: String,
}

impl ScimKey {
    pub fn new(kind: &str, key: impl Into<String>) -> ScimKey {
        ScimKey {
            kind: kind.to_string(),
            key: key.into(),
        }
    }
}

/// A resource as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimResource {
    pub kind: ScimKind,
    pub id: String,
    /// The application's JSON.
    pub body: String,
    pub hidden: bool,
    /// 1 when created (or seeded), then one more per write.
    pub version: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// A resource to seed or write: the body, whether hidden, and every key it is found by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewScimResource {
    pub kind: ScimKind,
    pub id: String,
    pub body: String,
    pub hidden: bool,
    pub keys: Vec<ScimKey>,
}

/// What the caller believes about the stored resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// A create: refused (conflict) if the id is taken.
    Absent,
    /// Refused (conflict, "changed since") unless the stored version is this one.
    Version(i64),
}

/// One write: the resource, what the caller read, and the key kinds that must be unique
/// among the kind's visible resources (a clash is a conflict naming the holder).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimWrite {
    pub resource: NewScimResource,
    pub expect: Expect,
    pub unique: Vec<String>,
}

/// Marked on the conflict a uniqueness clash gives, so a caller can tell it from a version
/// clash: `"<key kind> <key> belongs to <id>"` follows it.
pub const UNIQUENESS_CLASH: &str = "uniqueness:";

/// The SCIM resources of a store's scopes. Every method names its scope.
pub trait ScimStore: Send + Sync {
    /// The destination contents (hash) the scope's resources were last seeded from.
    fn scim_seeded<'a>(&'a self, scope: &'a str) -> StoreFuture<'a, Option<String>>;

    /// Adds the resources whose (kind, id) the scope does not hold yet (a resource a
    /// provider changed is never overwritten by a later run's directory), and records
    /// `content` as seeded. No revisions: nothing changed in the destination directory.
    /// Returns how many were added.
    fn scim_seed<'a>(
        &'a self,
        scope: &'a str,
        content: &'a str,
        resources: &'a [NewScimResource],
        at: OffsetDateTime,
    ) -> StoreFuture<'a, u64>;

    /// One resource, hidden or not.
    fn scim_get<'a>(
        &'a self,
        scope: &'a str,
        kind: ScimKind,
        id: &'a str,
    ) -> StoreFuture<'a, Option<ScimResource>>;

    /// The resources of `kind` holding `key` (hidden ones included, marked), by id.
    fn scim_find<'a>(
        &'a self,
        scope: &'a str,
        kind: ScimKind,
        key: &'a ScimKey,
    ) -> StoreFuture<'a, Vec<ScimResource>>;

    /// For each resource of `kind` holding `key` (hidden ones included), by id: its key of
    /// kind `want`, if it has one. Reads no bodies: what a look-up needs of resources it does
    /// not show whole (a user's groups, whose bodies list every member; a million of them).
    fn scim_find_keys<'a>(
        &'a self,
        scope: &'a str,
        kind: ScimKind,
        key: &'a ScimKey,
        want: &'a str,
    ) -> StoreFuture<'a, Vec<(String, Option<String>)>>;

    /// The visible resources of `kind` after id `after`, in id order (bytewise), at most `limit`.
    fn scim_page<'a>(
        &'a self,
        scope: &'a str,
        kind: ScimKind,
        after: Option<&'a str>,
        limit: usize,
    ) -> StoreFuture<'a, Vec<ScimResource>>;

    /// How many visible resources of `kind` the scope holds.
    fn scim_count<'a>(&'a self, scope: &'a str, kind: ScimKind) -> StoreFuture<'a, u64>;

    /// Writes one resource (its keys replaced) and its revision, checking `expect` and the
    /// uniqueness asked for. Returns it as stored.
    fn scim_write<'a>(
        &'a self,
        scope: &'a str,
        write: &'a ScimWrite,
        context: &'a ChangeContext,
    ) -> StoreFuture<'a, ScimResource>;

    /// Removes one resource for good (a provider's group delete, a settled conflict), with
    /// a revision. Not found if it is not there; a conflict if `expect` is a version it is
    /// not at.
    fn scim_remove<'a>(
        &'a self,
        scope: &'a str,
        kind: ScimKind,
        id: &'a str,
        expect: Option<i64>,
        context: &'a ChangeContext,
    ) -> StoreFuture<'a, ()>;
}
