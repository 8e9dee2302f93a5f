//! The SCIM service's use cases (issue 19): a scope's destination directory as identity
//! providers see it, so that Okta or Entra link the accounts a migration made instead of
//! making second ones.
//!
//! * The view is **seeded** from the destination directory the scope's latest run stored
//!   (accounts and groups whose ids it does not hold yet), then changed by providers.
//! * **Lookups** are caseless and find an account by any of its addresses: a provider's
//!   `userName eq "…"` (Okta sends the address) or Entra's `emails[type eq "work"].value eq
//!   "…"` finds the migrated account, so the provider links it. Filters that
//!   `filter::pushdown` recognises become keyed look-ups; the rest are scans.
//! * A **create** whose userName or any address is already an account's (its user name or
//!   one of its addresses) is a 409 `uniqueness`, never a second account; one that names an
//!   account a provider deleted brings that account back. A userName or address that only
//!   **looks like** an account's (confusable characters: `core::normalize::skeleton`) is
//!   refused, never linked to the account it imitates.
//! * **Delete** deactivates the account and hides it from SCIM (its data and mappings stay).
//! * **Group conflicts**: a provider's membership change to a migrated group it has not
//!   been confirmed for, which would give the group other members, is held; the admin
//!   accepts (applied) or rejects (the migrated members stay, later pushes change nothing
//!   and are still answered as successes).
//!
//! Every change is a revision in the scope's change feed (namespaces `scim:user`,
//! `scim:group`, `scim:conflict`). Errors are SCIM errors (status and `scimType`), since
//! the only callers speak SCIM; the admin's conflict commands use [`AppError`].

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crosswalk_core::normalize::skeleton;
use crosswalk_core::{Account, CompactString};
use crosswalk_scim::filter::fold_case;
use crosswalk_scim::filter::pushdown::{self, Lookup};
use crosswalk_scim::resource::Meta;
use crosswalk_scim::{
    Group, GroupExtras, ListQuery, Page, PatchRequest, ScimError, ScimType, User, UserExtras,
};
use crosswalk_store::scope::{
    ErrorKind as StoreErrorKind, Expect, NewScimResource, ScimKey, ScimKind, ScimResource,
    ScimStore, ScimWrite, ScopeError,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::{AppError, AppResult};
use crate::{App, Caller};

/// How long a process trusts that a scope's view is seeded from its latest run before it
/// looks again: a run's new accounts reach SCIM within this time.
const SEED_RECHECK: Duration = Duration::from_secs(5);

/// How long a request waits for its scope's SCIM view to be seeded before it answers 503;
/// under the server's request timeout (60 s), so the provider hears "retry" rather than a
/// timeout. The seeding itself goes on.
const SEED_WAIT: Duration = Duration::from_secs(20);

/// Resources read per store page when a filter needs a scan.
const SCAN_PAGE: usize = 5000;

/// Key kinds (the store's look-up keys).
const NAME: &str = "name";
const EMAIL: &str = "email";
const EXTERNAL: &str = "external";
const DISPLAY: &str = "display";
const MEMBER: &str = "member";
const SKELETON: &str = "skeleton";
/// A group's name as it is (not folded): what a user's `groups` show without reading the
/// group, whose body lists every member (a million in a migrated "all users" group).
const LABEL: &str = "label";

/// Where a resource came from, and (for groups) how far the provider is trusted with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Seeded from the migration's destination directory; no provider has written it.
    Migrated,
    /// A provider wrote it (created it, or linked and changed a migrated one).
    Provider,
    /// A migrated group whose held membership change the admin accepted: the provider's.
    Accepted,
    /// A migrated group whose held membership change the admin rejected: its members stay.
    Rejected,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredUser {
    account: Account,
    extras: UserExtras,
    origin: Origin,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredGroup {
    group: crosswalk_core::Group,
    extras: GroupExtras,
    origin: Origin,
    /// What each member is, for the members whose resource the scope held when they were
    /// added (a member's `type`, and so its `$ref`); a member it did not hold has neither.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    member_types: BTreeMap<CompactString, MemberType>,
}

/// What a group's member is (RFC 7643 §4.2 `members.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum MemberType {
    User,
    Group,
}

impl MemberType {
    fn as_str(self) -> &'static str {
        match self {
            MemberType::User => "User",
            MemberType::Group => "Group",
        }
    }
}

/// The types of `members`: `known` ones as they are, the others from the resource the
/// scope holds under the id (a User before a Group; none if it holds neither).
async fn member_types(
    store: &dyn ScimStore,
    scope: &str,
    members: &[CompactString],
    known: &BTreeMap<CompactString, MemberType>,
) -> Result<BTreeMap<CompactString, MemberType>, ScopeError> {
    let mut types = BTreeMap::new();
    for member in members {
        let kind = match known.get(member) {
            Some(kind) => Some(*kind),
            None if store
                .scim_get(scope, ScimKind::User, member)
                .await?
                .is_some() =>
            {
                Some(MemberType::User)
            }
            None if store
                .scim_get(scope, ScimKind::Group, member)
                .await?
                .is_some() =>
            {
                Some(MemberType::Group)
            }
            None => None,
        };
        if let Some(kind) = kind {
            types.insert(member.clone(), kind);
        }
    }
    Ok(types)
}

/// The `type`s a request gave its members, checked against what they are: `User` or
/// `Group` (any case), and the type of the resource the id names when the scope holds it.
fn check_member_types(
    group: &Group,
    types: &BTreeMap<CompactString, MemberType>,
) -> ScimResult<()> {
    for (i, member) in group.members.iter().enumerate() {
        let Some(said) = member.member_type.as_deref() else {
            continue;
        };
        let said_kind = if said.eq_ignore_ascii_case("User") {
            MemberType::User
        } else if said.eq_ignore_ascii_case("Group") {
            MemberType::Group
        } else {
            return Err(ScimError::invalid_value(format!(
                "/members/{i}/type: {said:?} is not a member type; it is \"User\" or \"Group\""
            )));
        };
        if let Some(kind) = types.get(&member.value)
            && *kind != said_kind
        {
            return Err(ScimError::invalid_value(format!(
                "/members/{i}/type: {:?} is a {}, not a {}",
                member.value.as_str(),
                kind.as_str(),
                said_kind.as_str()
            )));
        }
    }
    Ok(())
}

/// A provider's membership change to a migrated group, held for the admin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupConflict {
    /// The migrated group's id (its SCIM id).
    pub group_id: String,
    pub display_name: String,
    /// The members the group has (the migration's).
    pub current: Vec<String>,
    /// The members the provider pushed.
    pub proposed: Vec<String>,
    /// In `proposed`, not in `current`.
    pub added: Vec<String>,
    /// In `current`, not in `proposed`.
    pub removed: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub held_at: OffsetDateTime,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredConflict {
    display_name: String,
    proposed: Vec<String>,
}

/// What the admin decides about a held group conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictDecision {
    Accept,
    Reject,
}

/// A page of a list or search: full resources (with `meta`, without `location`; the
/// server adds it and applies the projection).
#[derive(Debug, Clone)]
pub struct ScimPage {
    pub resources: Vec<Value>,
    pub total: u64,
    /// For an index page.
    pub start_index: Option<u64>,
    /// For a cursor page, when there is a next one.
    pub next_cursor: Option<String>,
}

/// Which resource type a request is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScimResourceType {
    User,
    Group,
}

impl ScimResourceType {
    fn kind(self) -> ScimKind {
        match self {
            ScimResourceType::User => ScimKind::User,
            ScimResourceType::Group => ScimKind::Group,
        }
    }
}

/// Per process: when each scope was last seen seeded from its latest run, and the lock that
/// lets one seeding of a scope run at a time.
#[derive(Debug, Default)]
pub(crate) struct SeedCache {
    seen: Mutex<HashMap<String, Instant>>,
    seeding: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl SeedCache {
    fn fresh(&self, scope: &str) -> bool {
        self.seen.lock().is_ok_and(|seen| {
            seen.get(scope)
                .is_some_and(|at| at.elapsed() < SEED_RECHECK)
        })
    }

    fn saw(&self, scope: &str) {
        if let Ok(mut seen) = self.seen.lock() {
            seen.insert(scope.to_string(), Instant::now());
        }
    }

    fn lock_of(&self, scope: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self
            .seeding
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        locks.entry(scope.to_string()).or_default().clone()
    }
}

type ScimResult<T> = Result<T, ScimError>;

fn from_store(error: ScopeError) -> ScimError {
    match error.kind() {
        StoreErrorKind::NotFound => ScimError::not_found(error.message().to_string()),
        StoreErrorKind::Conflict => {
            let message = error.message();
            match message.strip_prefix(crosswalk_store::scope::scim::UNIQUENESS_CLASH) {
                Some(rest) => ScimError::uniqueness(uniqueness_message(rest)),
                None => {
                    ScimError::precondition_failed(format!("{message}; read it again and retry"))
                }
            }
        }
        StoreErrorKind::Invalid => ScimError::invalid_value(error.message().to_string()),
        _ => ScimError::new(503, None, error.message().to_string()),
    }
}

fn uniqueness_message(clash: &str) -> String {
    // "name \"john@acme.com\" belongs to 5b10a001"
    let (kind, rest) = clash.split_once(' ').unwrap_or(("", clash));
    let what = match kind {
        NAME => "the userName or address",
        DISPLAY => "the displayName",
        _ => kind,
    };
    format!("{what} {rest}: look that resource up and link it instead of creating another")
}

fn from_app(error: AppError) -> ScimError {
    match error.kind() {
        crate::ErrorKind::NotFound => ScimError::not_found(error.message().to_string()),
        crate::ErrorKind::Forbidden => ScimError::new(403, None, error.message().to_string()),
        crate::ErrorKind::Invalid => ScimError::invalid_value(error.message().to_string()),
        crate::ErrorKind::Conflict => ScimError::new(409, None, error.message().to_string()),
        _ => ScimError::new(503, None, error.message().to_string()),
    }
}

fn corrupt(what: &str, error: impl std::fmt::Display) -> ScimError {
    ScimError::new(
        500,
        None,
        format!("a stored SCIM {what} is unreadable: {error}"),
    )
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

fn meta(resource_type: &str, stored: &ScimResource) -> Meta {
    Meta {
        resource_type: Some(resource_type.into()),
        created: Some(rfc3339(stored.created_at)),
        last_modified: Some(rfc3339(stored.updated_at)),
        location: None,
        version: None,
    }
}

fn fold(text: &str) -> String {
    fold_case(text.trim()).into_owned()
}

fn look_alike(text: &str) -> String {
    skeleton(&crosswalk_core::normalize::fold(text.trim()))
}

fn user_keys(account: &Account, extras: &UserExtras) -> Vec<ScimKey> {
    let mut keys = BTreeSet::new();
    let emails: Vec<&str> = account.all_emails().collect();
    if let Some(name) = account.username.as_deref() {
        keys.insert(ScimKey::new(NAME, fold(name)));
        keys.insert(ScimKey::new(SKELETON, look_alike(name)));
    }
    for email in &emails {
        keys.insert(ScimKey::new(NAME, fold(email)));
        keys.insert(ScimKey::new(EMAIL, fold(email)));
        keys.insert(ScimKey::new(SKELETON, look_alike(email)));
    }
    if let Some(external) = extras.external_id.as_deref() {
        keys.insert(ScimKey::new(EXTERNAL, external));
    }
    if let Some(display) = account.display_name.as_deref() {
        keys.insert(ScimKey::new(DISPLAY, fold(display)));
    }
    keys.into_iter().filter(|k| !k.key.is_empty()).collect()
}

fn group_keys(group: &crosswalk_core::Group, extras: &GroupExtras) -> Vec<ScimKey> {
    let mut keys = BTreeSet::new();
    keys.insert(ScimKey::new(DISPLAY, fold(&group.name)));
    keys.insert(ScimKey::new(LABEL, group.name.as_str()));
    if let Some(external) = extras.external_id.as_deref() {
        keys.insert(ScimKey::new(EXTERNAL, external));
    }
    for member in &group.members {
        keys.insert(ScimKey::new(MEMBER, member.as_str()));
    }
    keys.into_iter().filter(|k| !k.key.is_empty()).collect()
}

fn user_resource(stored: &StoredUser, hidden: bool) -> NewScimResource {
    NewScimResource {
        kind: ScimKind::User,
        id: stored.account.id.to_string(),
        body: serde_json::to_string(stored).unwrap_or_default(),
        hidden,
        keys: user_keys(&stored.account, &stored.extras),
    }
}

fn group_resource(stored: &StoredGroup) -> NewScimResource {
    NewScimResource {
        kind: ScimKind::Group,
        id: stored.group.id.to_string(),
        body: serde_json::to_string(stored).unwrap_or_default(),
        hidden: false,
        keys: group_keys(&stored.group, &stored.extras),
    }
}

fn read_user(resource: &ScimResource) -> ScimResult<StoredUser> {
    serde_json::from_str(&resource.body).map_err(|e| corrupt("user", e))
}

fn read_group(resource: &ScimResource) -> ScimResult<StoredGroup> {
    serde_json::from_str(&resource.body).map_err(|e| corrupt("group", e))
}

fn unique_members(members: impl IntoIterator<Item = CompactString>) -> Vec<CompactString> {
    let mut seen = BTreeSet::new();
    members
        .into_iter()
        .filter(|m| seen.insert(m.clone()))
        .collect()
}

fn check_if_match(if_match: Option<&str>, current: &str) -> ScimResult<()> {
    match if_match {
        Some(header) if !crosswalk_scim::etag::if_match(header, current) => {
            Err(ScimError::precondition_failed(format!(
                "the resource is at version {current}, not the one in If-Match; read it again and retry"
            )))
        }
        _ => Ok(()),
    }
}

impl App {
    fn scim_store(&self) -> ScimResult<&dyn ScimStore> {
        self.store
            .scim()
            .ok_or_else(|| ScimError::new(501, None, "this store does not keep SCIM resources"))
    }

    /// The scope a SCIM caller works in: its token's. An instance admin token names none.
    pub fn scim_scope(caller: &Caller) -> ScimResult<String> {
        match caller.access() {
            crate::Access::Scope(scope) => Ok(scope.clone()),
            crate::Access::AllScopes => Err(ScimError::new(
                403,
                None,
                "SCIM serves one scope's directory: use a token bound to the scope (crosswalk token create --scope S --role writer)",
            )),
        }
    }

    /// Seeds the scope's SCIM view from the destination directory its latest run stored, if
    /// that is not the one it was last seeded from.
    ///
    /// The seeding runs in a task of its own, one per scope at a time, so that it finishes
    /// and commits even when the request that started it stops waiting: a scope of a million
    /// accounts takes longer to seed than a request may last, and a seeding dropped with its
    /// request would start over (and be dropped again) on every request. A request waits
    /// [`SEED_WAIT`] for it, then answers 503 (the server adds `Retry-After`).
    async fn scim_seed(&self, scope: &str) -> ScimResult<()> {
        if self.scim_seeds.fresh(scope) {
            return Ok(());
        }
        let lock = self.scim_seeds.lock_of(scope);
        let app = self.clone();
        let owned = scope.to_string();
        let seeding = tokio::spawn(async move {
            let _one_at_a_time = lock.lock().await;
            if app.scim_seeds.fresh(&owned) {
                return Ok(());
            }
            app.scim_seed_now(&owned).await
        });
        match tokio::time::timeout(SEED_WAIT, seeding).await {
            Ok(Ok(seeded)) => seeded,
            Ok(Err(failed)) => Err(ScimError::new(
                500,
                None,
                format!("seeding the scope's SCIM view from its latest run failed: {failed}"),
            )),
            Err(_) => Err(ScimError::new(
                503,
                None,
                "the scope's SCIM view is being built from its latest run (a large directory takes minutes); retry after the seconds in Retry-After",
            )),
        }
    }

    async fn scim_seed_now(&self, scope: &str) -> ScimResult<()> {
        let store = self.scim_store()?;
        let runs = self.store.runs(scope, None).await.map_err(from_store)?;
        let latest = runs
            .iter()
            .max_by_key(|run| (run.started_at, run.number))
            .map(|run| run.destination_content.clone());
        if let Some(content) = latest
            && store
                .scim_seeded(scope)
                .await
                .map_err(from_store)?
                .as_deref()
                != Some(content.as_str())
        {
            let directory = self
                .store
                .content(scope, &content)
                .await
                .map_err(from_store)?;
            let directory = directory.to_core("destination").map_err(from_store)?;
            let mut resources =
                Vec::with_capacity(directory.accounts.len() + directory.groups.len());
            for account in &directory.accounts {
                let stored = StoredUser {
                    extras: UserExtras::migrated(account),
                    account: account.clone(),
                    origin: Origin::Migrated,
                };
                resources.push(user_resource(&stored, false));
            }
            let account_ids: BTreeSet<&str> =
                directory.accounts.iter().map(|a| a.id.as_str()).collect();
            let group_ids: BTreeSet<&str> =
                directory.groups.iter().map(|g| g.id.as_str()).collect();
            for group in &directory.groups {
                // A directory may list a membership twice (two rows); SCIM members are a set.
                let mut group = group.clone();
                group.members = unique_members(group.members);
                let member_types = group
                    .members
                    .iter()
                    .filter_map(|m| {
                        let kind = if account_ids.contains(m.as_str()) {
                            MemberType::User
                        } else if group_ids.contains(m.as_str()) {
                            MemberType::Group
                        } else {
                            return None;
                        };
                        Some((m.clone(), kind))
                    })
                    .collect();
                let stored = StoredGroup {
                    group,
                    extras: GroupExtras::default(),
                    origin: Origin::Migrated,
                    member_types,
                };
                resources.push(group_resource(&stored));
            }
            store
                .scim_seed(scope, &content, &resources, self.clock.now())
                .await
                .map_err(from_store)?;
        }
        self.scim_seeds.saw(scope);
        Ok(())
    }

    async fn scim_read(&self, caller: &Caller) -> ScimResult<String> {
        let scope = App::scim_scope(caller)?;
        caller.check_read(&scope).map_err(from_app)?;
        self.scim_seed(&scope).await?;
        Ok(scope)
    }

    async fn scim_write_access(&self, caller: &Caller) -> ScimResult<String> {
        let scope = App::scim_scope(caller)?;
        caller.check_write(&scope).map_err(from_app)?;
        self.scim_seed(&scope).await?;
        Ok(scope)
    }

    // ---------------------------------------------------------------------------------
    // Views
    // ---------------------------------------------------------------------------------

    /// The User a stored account shows: a migrated account without a user name shows its
    /// primary address (else its id), since SCIM requires one and Okta sends the address.
    async fn user_view(&self, scope: &str, stored: &ScimResource) -> ScimResult<User> {
        let body = read_user(stored)?;
        let mut user = User::from_account(&body.account, &body.extras);
        if user.user_name.is_none() {
            user.user_name = Some(
                body.account
                    .email
                    .clone()
                    .unwrap_or_else(|| body.account.id.clone()),
            );
        }
        // The groups' ids and names from their keys, not their bodies (groups are never
        // hidden: a provider's delete removes them). A group stored before names were keys
        // is read whole.
        let store = self.scim_store()?;
        let groups = store
            .scim_find_keys(
                scope,
                ScimKind::Group,
                &ScimKey::new(MEMBER, stored.id.as_str()),
                LABEL,
            )
            .await
            .map_err(from_store)?;
        for (id, label) in groups {
            let name = match label {
                Some(name) => CompactString::from(name),
                None => match store
                    .scim_get(scope, ScimKind::Group, &id)
                    .await
                    .map_err(from_store)?
                {
                    Some(group) if !group.hidden => read_group(&group)?.group.name,
                    _ => continue,
                },
            };
            user.groups.push(crosswalk_scim::resource::GroupRef {
                value: CompactString::from(id),
                reference: None,
                display: Some(name),
                membership: Some("direct".into()),
            });
        }
        user.meta = None;
        let version = crosswalk_scim::etag::etag(&user);
        user.meta = Some(Meta {
            version: Some(version),
            ..meta("User", stored)
        });
        Ok(user)
    }

    fn group_view(stored: &ScimResource) -> ScimResult<Group> {
        let body = read_group(stored)?;
        let mut group = Group::from_group(&body.group, &body.extras);
        for member in &mut group.members {
            member.member_type = body
                .member_types
                .get(&member.value)
                .map(|kind| kind.as_str().into());
        }
        group.meta = None;
        let version = crosswalk_scim::etag::etag(&group);
        group.meta = Some(Meta {
            version: Some(version),
            ..meta("Group", stored)
        });
        Ok(group)
    }

    async fn view(
        &self,
        scope: &str,
        rt: ScimResourceType,
        stored: &ScimResource,
    ) -> ScimResult<Value> {
        Ok(match rt {
            ScimResourceType::User => self.user_view(scope, stored).await?.to_json(),
            ScimResourceType::Group => App::group_view(stored)?.to_json(),
        })
    }

    async fn visible(&self, scope: &str, kind: ScimKind, id: &str) -> ScimResult<ScimResource> {
        let what = if kind == ScimKind::User {
            "User"
        } else {
            "Group"
        };
        match self
            .scim_store()?
            .scim_get(scope, kind, id)
            .await
            .map_err(from_store)?
        {
            Some(resource) if !resource.hidden => Ok(resource),
            _ => Err(ScimError::not_found(format!("no {what} with id {id:?}"))),
        }
    }

    // ---------------------------------------------------------------------------------
    // Lookups and lists
    // ---------------------------------------------------------------------------------

    /// One User (`GET /Users/{id}`).
    pub async fn scim_user(&self, caller: &Caller, id: &str) -> ScimResult<User> {
        let scope = self.scim_read(caller).await?;
        let stored = self.visible(&scope, ScimKind::User, id).await?;
        self.user_view(&scope, &stored).await
    }

    /// One Group (`GET /Groups/{id}`).
    pub async fn scim_group(&self, caller: &Caller, id: &str) -> ScimResult<Group> {
        let scope = self.scim_read(caller).await?;
        let stored = self.visible(&scope, ScimKind::Group, id).await?;
        App::group_view(&stored)
    }

    /// A list or search: the filter (keyed look-ups where it allows), the sort (by id
    /// without one, so pages are stable), then the page.
    pub async fn scim_list(
        &self,
        caller: &Caller,
        rt: ScimResourceType,
        query: &ListQuery,
    ) -> ScimResult<ScimPage> {
        let scope = self.scim_read(caller).await?;
        let store = self.scim_store()?;
        let kind = rt.kind();
        if query.filter.is_none() && query.sort.is_none() {
            return self.scim_walk(&scope, rt, query).await;
        }
        let plan = query.filter.as_ref().and_then(pushdown::plan);
        let mut candidates: Vec<ScimResource> = Vec::new();
        let mut trusted = false;
        match plan.as_ref().and_then(|plan| keys_for(rt, &plan.lookups)) {
            Some(keys) => {
                let plan = plan.as_ref().map(|p| (p.exact, p.lookups.as_slice()));
                // A lone userName or address look-up finds an account by any of its names
                // and addresses (the link a provider makes before it creates).
                trusted = matches!(
                    plan,
                    Some((
                        true,
                        [Lookup::UserName(_)]
                            | [Lookup::Email {
                                email_type: None,
                                ..
                            }]
                            | [Lookup::Email { .. }]
                    ))
                );
                let mut seen = BTreeSet::new();
                for key in keys {
                    let found = match key {
                        Keyed::Id(id) => store
                            .scim_get(&scope, kind, &id)
                            .await
                            .map_err(from_store)?
                            .into_iter()
                            .collect(),
                        Keyed::Key(key) => store
                            .scim_find(&scope, kind, &key)
                            .await
                            .map_err(from_store)?,
                    };
                    candidates.extend(
                        found
                            .into_iter()
                            .filter(|r| !r.hidden && seen.insert(r.id.clone())),
                    );
                }
            }
            None => {
                let mut after: Option<String> = None;
                loop {
                    let page = store
                        .scim_page(&scope, kind, after.as_deref(), SCAN_PAGE)
                        .await
                        .map_err(from_store)?;
                    let last = page.len() < SCAN_PAGE;
                    after = page.last().map(|r| r.id.clone());
                    candidates.extend(page);
                    if last {
                        break;
                    }
                }
            }
        }
        let mut matched = Vec::new();
        for stored in &candidates {
            let view = self.view(&scope, rt, stored).await?;
            if trusted || query.matches(&view) {
                matched.push(view);
            }
        }
        matched.sort_by(|a, b| query.compare(a, b));
        let total = matched.len() as u64;
        match &query.page {
            Page::Index { start_index, .. } => {
                let range = query.page.range(total);
                let resources = matched
                    .drain(range.start as usize..range.end as usize)
                    .collect();
                Ok(ScimPage {
                    resources,
                    total,
                    start_index: Some(*start_index),
                    next_cursor: None,
                })
            }
            Page::Cursor { cursor, count } => {
                let start: u64 = match cursor {
                    Some(cursor) => query.decode_cursor(cursor)?.parse().map_err(|_| {
                        ScimError::bad_request(
                            ScimType::InvalidCursor,
                            "the cursor is not one this service gave",
                        )
                    })?,
                    None => 0,
                };
                let end = start.saturating_add(*count).min(total);
                let start = start.min(total);
                let resources = matched.drain(start as usize..end as usize).collect();
                let next_cursor = (end < total).then(|| query.encode_cursor(&end.to_string()));
                Ok(ScimPage {
                    resources,
                    total,
                    start_index: None,
                    next_cursor,
                })
            }
        }
    }

    /// An unfiltered, unsorted list: in id order straight from the store.
    async fn scim_walk(
        &self,
        scope: &str,
        rt: ScimResourceType,
        query: &ListQuery,
    ) -> ScimResult<ScimPage> {
        let store = self.scim_store()?;
        let kind = rt.kind();
        let total = store.scim_count(scope, kind).await.map_err(from_store)?;
        let (mut after, mut skip, count, start_index) = match &query.page {
            Page::Index { start_index, count } => {
                (None, start_index - 1, *count, Some(*start_index))
            }
            Page::Cursor {
                cursor: Some(cursor),
                count,
            } => (Some(query.decode_cursor(cursor)?), 0, *count, None),
            Page::Cursor {
                cursor: None,
                count,
            } => (None, 0, *count, None),
        };
        let mut page = Vec::new();
        while (page.len() as u64) < count {
            let want = if skip > 0 {
                (skip as usize).min(SCAN_PAGE)
            } else {
                ((count - page.len() as u64) as usize).min(SCAN_PAGE)
            };
            let rows = store
                .scim_page(scope, kind, after.as_deref(), want.max(1))
                .await
                .map_err(from_store)?;
            let done = rows.len() < want.max(1);
            after = rows.last().map(|r| r.id.clone()).or(after);
            if skip > 0 {
                skip -= rows.len() as u64;
            } else {
                page.extend(rows);
            }
            if done {
                break;
            }
        }
        let mut resources = Vec::with_capacity(page.len());
        for stored in &page {
            resources.push(self.view(scope, rt, stored).await?);
        }
        let next_cursor = match (&query.page, page.last()) {
            (Page::Cursor { .. }, Some(last))
                if store
                    .scim_page(scope, kind, Some(&last.id), 1)
                    .await
                    .map_err(from_store)?
                    .len()
                    == 1 =>
            {
                Some(query.encode_cursor(&last.id))
            }
            _ => None,
        };
        Ok(ScimPage {
            resources,
            total,
            start_index,
            next_cursor,
        })
    }

    // ---------------------------------------------------------------------------------
    // Users
    // ---------------------------------------------------------------------------------

    /// Refuses a userName or address that looks like another account's without being it.
    async fn refuse_look_alikes(&self, scope: &str, account: &Account) -> ScimResult<()> {
        let store = self.scim_store()?;
        let names: Vec<&str> = account
            .username
            .iter()
            .map(|n| n.as_str())
            .chain(account.all_emails())
            .collect();
        for name in names {
            let folded = fold(name);
            for other in store
                .scim_find(
                    scope,
                    ScimKind::User,
                    &ScimKey::new(SKELETON, look_alike(name)),
                )
                .await
                .map_err(from_store)?
            {
                if other.hidden || other.id == account.id.as_str() {
                    continue;
                }
                let other_body = read_user(&other)?;
                let same = user_keys(&other_body.account, &other_body.extras)
                    .iter()
                    .any(|k| k.kind == NAME && k.key == folded);
                if !same {
                    return Err(ScimError::invalid_value(format!(
                        "{name:?} looks like a user name or address of the account {} (confusable characters) without being it; \
                         refused so that it is never linked to that account: check the value in the identity provider",
                        other.id
                    )));
                }
            }
        }
        Ok(())
    }

    async fn write_user(
        &self,
        scope: &str,
        caller: &Caller,
        stored: &StoredUser,
        hidden: bool,
        expect: Expect,
    ) -> ScimResult<ScimResource> {
        if !hidden {
            self.refuse_look_alikes(scope, &stored.account).await?;
        }
        let write = ScimWrite {
            resource: user_resource(stored, hidden),
            expect,
            unique: vec![NAME.to_string()],
        };
        self.scim_store()?
            .scim_write(scope, &write, &caller.context(self.clock.now()))
            .await
            .map_err(from_store)
    }

    /// `POST /Users`. Linking beats duplicating: a userName or address an account holds is a
    /// 409 `uniqueness` (the provider then looks it up and links it); one that a provider
    /// deleted brings that account back, with this body.
    pub async fn scim_create_user(&self, caller: &Caller, mut user: User) -> ScimResult<User> {
        let scope = self.scim_write_access(caller).await?;
        user.check_write()?;
        let store = self.scim_store()?;
        let name = user.user_name.clone().unwrap_or_default();
        let deleted = store
            .scim_find(&scope, ScimKind::User, &ScimKey::new(NAME, fold(&name)))
            .await
            .map_err(from_store)?;
        let revived = deleted.iter().find(|r| r.hidden);
        let id = match revived {
            Some(r) => r.id.clone(),
            None => uuid::Uuid::new_v4().simple().to_string(),
        };
        let (stored, expect) = match revived {
            Some(r) => {
                let old = read_user(r)?;
                (
                    self.provider_user(&old, user, &id)?,
                    Expect::Version(r.version),
                )
            }
            None => {
                user.id = Some(id.as_str().into());
                // The extension's attributes are read-only: only whether it was given stays.
                user.crosswalk = user.crosswalk.map(|_| Default::default());
                let (account, extras) = user.into_account()?;
                (
                    StoredUser {
                        account,
                        extras,
                        origin: Origin::Provider,
                    },
                    Expect::Absent,
                )
            }
        };
        let written = self
            .write_user(&scope, caller, &stored, false, expect)
            .await?;
        self.user_view(&scope, &written).await
    }

    /// The account a provider's User makes of a stored one: what SCIM may write replaced,
    /// the read-only parts (id, source directory, verification) kept.
    fn provider_user(&self, old: &StoredUser, mut user: User, id: &str) -> ScimResult<StoredUser> {
        if let Some(given) = user.id.as_deref()
            && given != id
        {
            return Err(ScimError::mutability(format!(
                "id is read-only: the body says {given:?}, the resource is {id:?}"
            )));
        }
        user.id = Some(id.into());
        // The extension's attributes are read-only (kept below): only whether it was given
        // is the provider's.
        user.crosswalk = user.crosswalk.map(|_| Default::default());
        let (mut account, extras) = user.into_account()?;
        account.source_directory = old.account.source_directory.clone();
        account.email_verified = old.account.email_verified;
        Ok(StoredUser {
            account,
            extras,
            origin: Origin::Provider,
        })
    }

    /// `PUT /Users/{id}`: a full replace (Okta's custom apps send every update so).
    pub async fn scim_replace_user(
        &self,
        caller: &Caller,
        id: &str,
        user: User,
        if_match: Option<&str>,
    ) -> ScimResult<User> {
        let scope = self.scim_write_access(caller).await?;
        user.check_write()?;
        let stored = self.visible(&scope, ScimKind::User, id).await?;
        let current = self.user_view(&scope, &stored).await?;
        check_if_match(
            if_match,
            current
                .meta
                .as_ref()
                .and_then(|m| m.version.as_deref())
                .unwrap_or(""),
        )?;
        let next = self.provider_user(&read_user(&stored)?, user, id)?;
        let written = self
            .write_user(
                &scope,
                caller,
                &next,
                false,
                Expect::Version(stored.version),
            )
            .await?;
        self.user_view(&scope, &written).await
    }

    /// `PATCH /Users/{id}`.
    pub async fn scim_patch_user(
        &self,
        caller: &Caller,
        id: &str,
        patch: &PatchRequest,
        if_match: Option<&str>,
    ) -> ScimResult<User> {
        let scope = self.scim_write_access(caller).await?;
        let stored = self.visible(&scope, ScimKind::User, id).await?;
        let current = self.user_view(&scope, &stored).await?;
        check_if_match(
            if_match,
            current
                .meta
                .as_ref()
                .and_then(|m| m.version.as_deref())
                .unwrap_or(""),
        )?;
        let patched = patch.apply_to_user(&current)?;
        if patched == current {
            return Ok(current);
        }
        patched.check_write()?;
        let next = self.provider_user(&read_user(&stored)?, patched, id)?;
        let written = self
            .write_user(
                &scope,
                caller,
                &next,
                false,
                Expect::Version(stored.version),
            )
            .await?;
        self.user_view(&scope, &written).await
    }

    /// `DELETE /Users/{id}`: deactivates the account and hides it from SCIM; a migrated
    /// account's data and mappings stay.
    pub async fn scim_delete_user(
        &self,
        caller: &Caller,
        id: &str,
        if_match: Option<&str>,
    ) -> ScimResult<()> {
        let scope = self.scim_write_access(caller).await?;
        let stored = self.visible(&scope, ScimKind::User, id).await?;
        if if_match.is_some() {
            let current = self.user_view(&scope, &stored).await?;
            check_if_match(
                if_match,
                current
                    .meta
                    .as_ref()
                    .and_then(|m| m.version.as_deref())
                    .unwrap_or(""),
            )?;
        }
        let mut body = read_user(&stored)?;
        body.account.active = false;
        body.extras.active_unassigned = false;
        self.write_user(&scope, caller, &body, true, Expect::Version(stored.version))
            .await?;
        Ok(())
    }

    // ---------------------------------------------------------------------------------
    // Groups
    // ---------------------------------------------------------------------------------

    async fn write_group(
        &self,
        scope: &str,
        caller: &Caller,
        stored: &StoredGroup,
        expect: Expect,
    ) -> ScimResult<ScimResource> {
        let write = ScimWrite {
            resource: group_resource(stored),
            expect,
            unique: vec![DISPLAY.to_string()],
        };
        self.scim_store()?
            .scim_write(scope, &write, &caller.context(self.clock.now()))
            .await
            .map_err(from_store)
    }

    /// `POST /Groups`. A displayName a group already has is a 409 `uniqueness`: the
    /// provider looks it up and links it (then its membership pushes may be held).
    pub async fn scim_create_group(&self, caller: &Caller, mut group: Group) -> ScimResult<Group> {
        let scope = self.scim_write_access(caller).await?;
        group.check_write()?;
        group.id = Some(uuid::Uuid::new_v4().simple().to_string().into());
        // The extension's attributes are read-only: only whether it was given stays.
        group.crosswalk = group.crosswalk.map(|_| Default::default());
        let store = self.scim_store()?;
        let members: Vec<CompactString> = group.members.iter().map(|m| m.value.clone()).collect();
        let member_types = member_types(store, &scope, &members, &BTreeMap::new())
            .await
            .map_err(from_store)?;
        check_member_types(&group, &member_types)?;
        let (mut core, extras) = group.into_group()?;
        core.members = unique_members(core.members);
        let stored = StoredGroup {
            group: core,
            extras,
            origin: Origin::Provider,
            member_types,
        };
        let written = self
            .write_group(&scope, caller, &stored, Expect::Absent)
            .await?;
        App::group_view(&written)
    }

    /// A provider's new state of a group: applied, or (for a migrated group whose members
    /// it would change) applied but for the members, which are held for the admin.
    async fn apply_group(
        &self,
        scope: &str,
        caller: &Caller,
        stored: &ScimResource,
        next: Group,
    ) -> ScimResult<Group> {
        let old = read_group(stored)?;
        let id = stored.id.clone();
        if let Some(given) = next.id.as_deref()
            && given != id
        {
            return Err(ScimError::mutability(format!(
                "id is read-only: the body says {given:?}, the resource is {id:?}"
            )));
        }
        let mut next = next;
        next.id = Some(id.as_str().into());
        // The extension's attributes are read-only: only whether it was given stays.
        next.crosswalk = next.crosswalk.map(|_| Default::default());
        let store = self.scim_store()?;
        let members: Vec<CompactString> = next.members.iter().map(|m| m.value.clone()).collect();
        let proposed_types = member_types(store, scope, &members, &old.member_types)
            .await
            .map_err(from_store)?;
        check_member_types(&next, &proposed_types)?;
        let (mut core, extras) = next.into_group()?;
        core.members = unique_members(core.members);
        // The Crosswalk display name is read-only through SCIM: one that was simply the
        // group's name stays so through a rename, any other stays as it is.
        core.display_name = if old.group.display_name.as_deref() == Some(old.group.name.as_str()) {
            Some(core.name.clone())
        } else {
            old.group.display_name.clone()
        };
        let same_members: BTreeSet<&CompactString> = old.group.members.iter().collect();
        let members_change = core.members.iter().collect::<BTreeSet<_>>() != same_members;
        let context = caller.context(self.clock.now());
        let origin = match old.origin {
            Origin::Migrated if members_change => {
                let held = StoredConflict {
                    display_name: core.name.to_string(),
                    proposed: core.members.iter().map(|m| m.to_string()).collect(),
                };
                let expect = match store
                    .scim_get(scope, ScimKind::Conflict, &id)
                    .await
                    .map_err(from_store)?
                {
                    Some(existing) => Expect::Version(existing.version),
                    None => Expect::Absent,
                };
                let write = ScimWrite {
                    resource: NewScimResource {
                        kind: ScimKind::Conflict,
                        id: id.clone(),
                        body: serde_json::to_string(&held).unwrap_or_default(),
                        hidden: false,
                        keys: Vec::new(),
                    },
                    expect,
                    unique: Vec::new(),
                };
                store
                    .scim_write(scope, &write, &context)
                    .await
                    .map_err(from_store)?;
                core.members = old.group.members.clone();
                Origin::Migrated
            }
            Origin::Rejected => {
                core.members = old.group.members.clone();
                Origin::Rejected
            }
            Origin::Migrated => Origin::Provider,
            other => other,
        };
        let member_types = core
            .members
            .iter()
            .filter_map(|m| {
                let kind = proposed_types.get(m).or_else(|| old.member_types.get(m))?;
                Some((m.clone(), *kind))
            })
            .collect();
        let changed = StoredGroup {
            group: core,
            extras,
            origin,
            member_types,
        };
        let written = self
            .write_group(scope, caller, &changed, Expect::Version(stored.version))
            .await?;
        App::group_view(&written)
    }

    /// The state a provider's next change starts from: the members it pushed and is being
    /// held, if any, so its later adds and removes build on what it sent.
    async fn provider_view_of_group(
        &self,
        scope: &str,
        stored: &ScimResource,
    ) -> ScimResult<Group> {
        let mut group = App::group_view(stored)?;
        if let Some(held) = self
            .scim_store()?
            .scim_get(scope, ScimKind::Conflict, &stored.id)
            .await
            .map_err(from_store)?
        {
            let held: StoredConflict =
                serde_json::from_str(&held.body).map_err(|e| corrupt("group conflict", e))?;
            group.members = held
                .proposed
                .into_iter()
                .map(crosswalk_scim::Member::new)
                .collect();
        }
        Ok(group)
    }

    /// `PUT /Groups/{id}`.
    pub async fn scim_replace_group(
        &self,
        caller: &Caller,
        id: &str,
        group: Group,
        if_match: Option<&str>,
    ) -> ScimResult<Group> {
        let scope = self.scim_write_access(caller).await?;
        group.check_write()?;
        let stored = self.visible(&scope, ScimKind::Group, id).await?;
        let current = App::group_view(&stored)?;
        check_if_match(
            if_match,
            current
                .meta
                .as_ref()
                .and_then(|m| m.version.as_deref())
                .unwrap_or(""),
        )?;
        self.apply_group(&scope, caller, &stored, group).await
    }

    /// `PATCH /Groups/{id}`: member add, remove (Entra's value array too) and replace.
    pub async fn scim_patch_group(
        &self,
        caller: &Caller,
        id: &str,
        patch: &PatchRequest,
        if_match: Option<&str>,
    ) -> ScimResult<Group> {
        let scope = self.scim_write_access(caller).await?;
        let stored = self.visible(&scope, ScimKind::Group, id).await?;
        let current = App::group_view(&stored)?;
        check_if_match(
            if_match,
            current
                .meta
                .as_ref()
                .and_then(|m| m.version.as_deref())
                .unwrap_or(""),
        )?;
        let base = self.provider_view_of_group(&scope, &stored).await?;
        let patched = patch.apply_to_group(&base)?;
        if patched == base {
            return Ok(current);
        }
        patched.check_write()?;
        self.apply_group(&scope, caller, &stored, patched).await
    }

    /// `DELETE /Groups/{id}`: the group and its memberships are removed (recorded), as a
    /// provider's group delete does in the destination; a held conflict goes with it.
    pub async fn scim_delete_group(
        &self,
        caller: &Caller,
        id: &str,
        if_match: Option<&str>,
    ) -> ScimResult<()> {
        let scope = self.scim_write_access(caller).await?;
        let stored = self.visible(&scope, ScimKind::Group, id).await?;
        let current = App::group_view(&stored)?;
        check_if_match(
            if_match,
            current
                .meta
                .as_ref()
                .and_then(|m| m.version.as_deref())
                .unwrap_or(""),
        )?;
        let store = self.scim_store()?;
        let context = caller.context(self.clock.now());
        if store
            .scim_get(&scope, ScimKind::Conflict, id)
            .await
            .map_err(from_store)?
            .is_some()
        {
            store
                .scim_remove(&scope, ScimKind::Conflict, id, None, &context)
                .await
                .map_err(from_store)?;
        }
        store
            .scim_remove(&scope, ScimKind::Group, id, Some(stored.version), &context)
            .await
            .map_err(from_store)
    }

    // ---------------------------------------------------------------------------------
    // Group conflicts (the admin's side; AppError, as the CLI and the API speak it)
    // ---------------------------------------------------------------------------------

    /// The scope's held group conflicts, by group id.
    pub async fn scim_conflicts(
        &self,
        caller: &Caller,
        scope: &str,
    ) -> AppResult<Vec<GroupConflict>> {
        caller.check_read(scope)?;
        let store = self
            .store
            .scim()
            .ok_or_else(|| AppError::unavailable("this store does not keep SCIM resources"))?;
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = store
                .scim_page(scope, ScimKind::Conflict, after.as_deref(), SCAN_PAGE)
                .await?;
            let last = page.len() < SCAN_PAGE;
            after = page.last().map(|r| r.id.clone());
            for held in page {
                out.push(self.conflict_of(scope, &held).await?);
            }
            if last {
                return Ok(out);
            }
        }
    }

    async fn conflict_of(&self, scope: &str, held: &ScimResource) -> AppResult<GroupConflict> {
        let store = self
            .store
            .scim()
            .ok_or_else(|| AppError::unavailable("this store does not keep SCIM resources"))?;
        let body: StoredConflict = serde_json::from_str(&held.body).map_err(|e| {
            AppError::new(
                crate::ErrorKind::Corrupt,
                format!("a held group conflict is unreadable: {e}"),
            )
        })?;
        let current: Vec<String> = match store.scim_get(scope, ScimKind::Group, &held.id).await? {
            Some(group) => {
                let group: StoredGroup = serde_json::from_str(&group.body).map_err(|e| {
                    AppError::new(
                        crate::ErrorKind::Corrupt,
                        format!("a SCIM group is unreadable: {e}"),
                    )
                })?;
                group.group.members.iter().map(|m| m.to_string()).collect()
            }
            None => Vec::new(),
        };
        let added = body
            .proposed
            .iter()
            .filter(|m| !current.contains(m))
            .cloned()
            .collect();
        let removed = current
            .iter()
            .filter(|m| !body.proposed.contains(m))
            .cloned()
            .collect();
        Ok(GroupConflict {
            group_id: held.id.clone(),
            display_name: body.display_name,
            current,
            proposed: body.proposed,
            added,
            removed,
            held_at: held.updated_at,
        })
    }

    /// Accepts (the provider's members replace the migrated ones, and the provider owns the
    /// group from then on) or rejects (the migrated members stay; the provider's later
    /// membership pushes are answered but change nothing) a held conflict.
    pub async fn scim_settle_conflict(
        &self,
        caller: &Caller,
        scope: &str,
        group_id: &str,
        decision: ConflictDecision,
    ) -> AppResult<GroupConflict> {
        caller.check_write(scope)?;
        let store = self
            .store
            .scim()
            .ok_or_else(|| AppError::unavailable("this store does not keep SCIM resources"))?;
        let Some(held) = store.scim_get(scope, ScimKind::Conflict, group_id).await? else {
            return Err(AppError::not_found(format!(
                "no group conflict is held for group {group_id:?} in scope {scope:?}; list them with crosswalk scim conflicts --scope {scope}"
            )));
        };
        let conflict = self.conflict_of(scope, &held).await?;
        let context = caller.context(self.clock.now());
        if let Some(group) = store.scim_get(scope, ScimKind::Group, group_id).await? {
            let mut body: StoredGroup = serde_json::from_str(&group.body).map_err(|e| {
                AppError::new(
                    crate::ErrorKind::Corrupt,
                    format!("a SCIM group is unreadable: {e}"),
                )
            })?;
            match decision {
                ConflictDecision::Accept => {
                    body.group.members = conflict
                        .proposed
                        .iter()
                        .map(|m| CompactString::from(m.as_str()))
                        .collect();
                    body.member_types =
                        member_types(store, scope, &body.group.members, &body.member_types).await?;
                    body.origin = Origin::Accepted;
                }
                ConflictDecision::Reject => body.origin = Origin::Rejected,
            }
            let write = ScimWrite {
                resource: group_resource(&body),
                expect: Expect::Version(group.version),
                unique: Vec::new(),
            };
            store.scim_write(scope, &write, &context).await?;
        }
        store
            .scim_remove(
                scope,
                ScimKind::Conflict,
                group_id,
                Some(held.version),
                &context,
            )
            .await?;
        Ok(conflict)
    }
}

enum Keyed {
    Id(String),
    Key(ScimKey),
}

/// The store keys a plan's look-ups read, or `None` when one of them has no index for
/// this resource type (then the filter is a scan).
fn keys_for(rt: ScimResourceType, lookups: &[Lookup]) -> Option<Vec<Keyed>> {
    let user = rt == ScimResourceType::User;
    lookups
        .iter()
        .map(|lookup| {
            let key = lookup.key().into_owned();
            Some(match lookup {
                Lookup::Id(id) => Keyed::Id(id.clone()),
                Lookup::ExternalId(_) => Keyed::Key(ScimKey::new(EXTERNAL, key)),
                Lookup::UserName(_) if user => Keyed::Key(ScimKey::new(NAME, fold(&key))),
                Lookup::Email { .. } if user => Keyed::Key(ScimKey::new(EMAIL, fold(&key))),
                Lookup::DisplayName(_) => Keyed::Key(ScimKey::new(DISPLAY, fold(&key))),
                Lookup::Member(_) if !user => Keyed::Key(ScimKey::new(MEMBER, key)),
                _ => return None,
            })
        })
        .collect()
}
