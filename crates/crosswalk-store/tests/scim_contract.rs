//! The SCIM resource store's contract (issue 19), written once and run against each backend
//! (`scim_tests!(backend, constructor)`): a seed adds only what is new and writes no
//! revision; writes check the version read and the uniqueness asked for inside their
//! transaction; hidden resources keep their keys but neither clash nor list; every write
//! and removal is a revision in the scope's change feed; scopes do not see each other's;
//! `scim_find_keys` gives each holder's wanted key without reading bodies.

use crosswalk_store::scope::{
    ChangeContext, Cursor, ErrorKind, Expect, NewScimResource, NewScope, ScimKey, ScimKind,
    ScimWrite,
};
use time::OffsetDateTime;

#[path = "support/backends.rs"]
mod backends;
use backends::{Backend, postgres_store, sqlite_store};

macro_rules! scim_tests {
    ($backend:ident, $constructor:ident; $($case:ident),* $(,)?) => {
        mod $backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let Some(backend) = super::$constructor().await else { return };
                    super::$case(&backend).await;
                }
            )*
        }
    };
}

scim_tests!(sqlite, sqlite_store;
    a_seed_adds_only_new_resources_and_writes_no_revision,
    writes_check_versions_and_uniqueness_and_feed_the_change_feed,
    hidden_resources_neither_clash_nor_list_and_removal_is_recorded,
    scopes_do_not_see_each_others_resources,
    find_keys_answers_each_holders_wanted_key,
);
scim_tests!(postgres, postgres_store;
    a_seed_adds_only_new_resources_and_writes_no_revision,
    writes_check_versions_and_uniqueness_and_feed_the_change_feed,
    hidden_resources_neither_clash_nor_list_and_removal_is_recorded,
    scopes_do_not_see_each_others_resources,
    find_keys_answers_each_holders_wanted_key,
);

fn at(seconds: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_800_000_000 + seconds).unwrap()
}

fn context(seconds: i64) -> ChangeContext {
    ChangeContext {
        at: at(seconds),
        who: "token:abc".into(),
        caller: "scim".into(),
    }
}

async fn create_scope(backend: &Backend, name: &str) {
    let scope = NewScope {
        name: name.into(),
        source_label: "jira-server x".into(),
        destination_label: "cloud y".into(),
    };
    backend
        .store
        .create_scope(&scope, &context(0))
        .await
        .unwrap();
}

fn user(id: &str, name: &str, hidden: bool) -> NewScimResource {
    NewScimResource {
        kind: ScimKind::User,
        id: id.into(),
        body: format!("{{\"name\":\"{name}\"}}"),
        hidden,
        keys: vec![
            ScimKey::new("name", name),
            ScimKey::new("external", format!("ext-{id}")),
        ],
    }
}

fn write(resource: NewScimResource, expect: Expect) -> ScimWrite {
    ScimWrite {
        resource,
        expect,
        unique: vec!["name".into()],
    }
}

async fn a_seed_adds_only_new_resources_and_writes_no_revision(backend: &Backend) {
    create_scope(backend, "acme").await;
    let scim = backend
        .store
        .scim()
        .expect("the backend keeps SCIM resources");
    assert_eq!(scim.scim_seeded("acme").await.unwrap(), None);
    let seed = vec![
        user("u1", "ann@acme.com", false),
        user("u2", "bob@acme.com", false),
    ];
    assert_eq!(
        scim.scim_seed("acme", "hash-1", &seed, at(1))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        scim.scim_seeded("acme").await.unwrap().as_deref(),
        Some("hash-1")
    );
    // A provider changes u1; a later run's directory seeds again: u1 stays as changed, u3 is new.
    scim.scim_write(
        "acme",
        &write(user("u1", "ann.new@acme.com", false), Expect::Version(1)),
        &context(2),
    )
    .await
    .unwrap();
    let again = vec![
        user("u1", "ann@acme.com", false),
        user("u3", "cy@acme.com", false),
    ];
    assert_eq!(
        scim.scim_seed("acme", "hash-2", &again, at(3))
            .await
            .unwrap(),
        1
    );
    let u1 = scim
        .scim_get("acme", ScimKind::User, "u1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (u1.body.as_str(), u1.version),
        ("{\"name\":\"ann.new@acme.com\"}", 2)
    );
    assert_eq!(scim.scim_count("acme", ScimKind::User).await.unwrap(), 3);
    let found = scim
        .scim_find("acme", ScimKind::User, &ScimKey::new("name", "cy@acme.com"))
        .await
        .unwrap();
    assert_eq!(
        found.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["u3"]
    );
    let feed = backend
        .store
        .changes("acme", Cursor::START, 100)
        .await
        .unwrap();
    assert_eq!(
        feed.revisions.len(),
        1,
        "only the provider's write is a revision: {:?}",
        feed.revisions
    );
}

async fn writes_check_versions_and_uniqueness_and_feed_the_change_feed(backend: &Backend) {
    create_scope(backend, "acme").await;
    let scim = backend.store.scim().unwrap();
    let created = scim
        .scim_write(
            "acme",
            &write(user("u1", "ann@acme.com", false), Expect::Absent),
            &context(1),
        )
        .await
        .unwrap();
    assert_eq!(
        (created.version, created.created_at, created.updated_at),
        (1, at(1), at(1))
    );
    // The same id again, or a stale version, writes nothing.
    let taken = scim
        .scim_write(
            "acme",
            &write(user("u1", "x@acme.com", false), Expect::Absent),
            &context(2),
        )
        .await
        .unwrap_err();
    assert_eq!(taken.kind(), ErrorKind::Conflict);
    let updated = scim
        .scim_write(
            "acme",
            &write(user("u1", "ann@new.example", false), Expect::Version(1)),
            &context(3),
        )
        .await
        .unwrap();
    assert_eq!(
        (updated.version, updated.created_at, updated.updated_at),
        (2, at(1), at(3))
    );
    let stale = scim
        .scim_write(
            "acme",
            &write(user("u1", "z@acme.com", false), Expect::Version(1)),
            &context(4),
        )
        .await
        .unwrap_err();
    assert_eq!(stale.kind(), ErrorKind::Conflict);
    assert!(stale.message().contains("changed since"), "{stale}");
    let missing = scim
        .scim_write(
            "acme",
            &write(user("u9", "q@acme.com", false), Expect::Version(1)),
            &context(4),
        )
        .await
        .unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::NotFound);
    // A unique key another visible resource holds is a conflict naming the holder.
    let clash = scim
        .scim_write(
            "acme",
            &write(user("u2", "ann@new.example", false), Expect::Absent),
            &context(5),
        )
        .await
        .unwrap_err();
    assert_eq!(clash.kind(), ErrorKind::Conflict);
    assert!(clash.message().contains("belongs to u1"), "{clash}");
    assert!(
        scim.scim_get("acme", ScimKind::User, "u2")
            .await
            .unwrap()
            .is_none(),
        "nothing half-written"
    );
    // Keys are replaced: the old name no longer finds u1.
    assert!(
        scim.scim_find(
            "acme",
            ScimKind::User,
            &ScimKey::new("name", "ann@acme.com")
        )
        .await
        .unwrap()
        .is_empty()
    );
    let feed = backend
        .store
        .changes("acme", Cursor::START, 100)
        .await
        .unwrap();
    let keys: Vec<(String, String)> = feed
        .revisions
        .iter()
        .map(|r| (r.namespace.to_string(), r.source_key.clone()))
        .collect();
    assert_eq!(
        keys,
        [
            ("scim:user".to_string(), "u1".to_string()),
            ("scim:user".to_string(), "u1".to_string())
        ]
    );
    assert!(
        feed.revisions[1].old_value.is_some() && feed.revisions[1].new_value.is_some(),
        "the second follows the first"
    );
    assert_eq!(feed.revisions[1].who, "token:abc");
}

async fn hidden_resources_neither_clash_nor_list_and_removal_is_recorded(backend: &Backend) {
    create_scope(backend, "acme").await;
    let scim = backend.store.scim().unwrap();
    scim.scim_write(
        "acme",
        &write(user("u1", "ann@acme.com", false), Expect::Absent),
        &context(1),
    )
    .await
    .unwrap();
    scim.scim_write(
        "acme",
        &write(user("u1", "ann@acme.com", true), Expect::Version(1)),
        &context(2),
    )
    .await
    .unwrap();
    assert_eq!(scim.scim_count("acme", ScimKind::User).await.unwrap(), 0);
    assert!(
        scim.scim_page("acme", ScimKind::User, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let found = scim
        .scim_find(
            "acme",
            ScimKind::User,
            &ScimKey::new("name", "ann@acme.com"),
        )
        .await
        .unwrap();
    assert!(
        found.len() == 1 && found[0].hidden,
        "a hidden resource is still found, marked: {found:?}"
    );
    scim.scim_write(
        "acme",
        &write(user("u2", "ann@acme.com", false), Expect::Absent),
        &context(3),
    )
    .await
    .unwrap();
    // Pages are in id order after a position.
    scim.scim_write(
        "acme",
        &write(user("u3", "cy@acme.com", false), Expect::Absent),
        &context(4),
    )
    .await
    .unwrap();
    let page: Vec<String> = scim
        .scim_page("acme", ScimKind::User, Some("u2"), 10)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(page, ["u3"]);
    // Removal: gone, keys too, recorded; a second removal is not found.
    scim.scim_remove("acme", ScimKind::User, "u3", Some(1), &context(5))
        .await
        .unwrap();
    assert!(
        scim.scim_get("acme", ScimKind::User, "u3")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        scim.scim_find("acme", ScimKind::User, &ScimKey::new("external", "ext-u3"))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        scim.scim_remove("acme", ScimKind::User, "u3", None, &context(6))
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    let feed = backend
        .store
        .changes("acme", Cursor::START, 100)
        .await
        .unwrap();
    let last = feed.revisions.last().unwrap();
    assert_eq!(
        (last.source_key.as_str(), last.new_value.is_none()),
        ("u3", true)
    );
    assert_eq!(
        feed.revisions
            .iter()
            .filter(|r| r.new_value.is_none())
            .count(),
        2,
        "hiding and removing both remove from the view"
    );
}

async fn scopes_do_not_see_each_others_resources(backend: &Backend) {
    create_scope(backend, "acme").await;
    create_scope(backend, "globex").await;
    let scim = backend.store.scim().unwrap();
    scim.scim_write(
        "acme",
        &write(user("u1", "ann@acme.com", false), Expect::Absent),
        &context(1),
    )
    .await
    .unwrap();
    // The same id and name in another scope is another resource.
    scim.scim_write(
        "globex",
        &write(user("u1", "ann@acme.com", false), Expect::Absent),
        &context(2),
    )
    .await
    .unwrap();
    assert!(
        scim.scim_get("globex", ScimKind::Group, "u1")
            .await
            .unwrap()
            .is_none(),
        "kinds are apart too"
    );
    assert_eq!(scim.scim_count("globex", ScimKind::User).await.unwrap(), 1);
    assert_eq!(
        backend
            .store
            .changes("globex", Cursor::START, 100)
            .await
            .unwrap()
            .revisions
            .len(),
        1
    );
    assert_eq!(
        scim.scim_get("nosuch", ScimKind::User, "u1")
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
}

async fn find_keys_answers_each_holders_wanted_key(backend: &Backend) {
    create_scope(backend, "acme").await;
    let scim = backend.store.scim().unwrap();
    let group = |id: &str, label: Option<&str>, members: &[&str]| {
        let mut keys: Vec<ScimKey> = members.iter().map(|m| ScimKey::new("member", *m)).collect();
        keys.extend(label.map(|l| ScimKey::new("label", l)));
        NewScimResource {
            kind: ScimKind::Group,
            id: id.into(),
            body: "{}".into(),
            hidden: false,
            keys,
        }
    };
    let seed = vec![
        group("g2", Some("Sales EU"), &["u1", "u2"]),
        group("g1", Some("All Staff"), &["u1"]),
        group("g3", None, &["u1"]),
        group("g4", Some("Other"), &["u2"]),
    ];
    scim.scim_seed("acme", "hash-1", &seed, at(1)).await.unwrap();
    let found = scim
        .scim_find_keys("acme", ScimKind::Group, &ScimKey::new("member", "u1"), "label")
        .await
        .unwrap();
    assert_eq!(
        found,
        [
            ("g1".to_string(), Some("All Staff".to_string())),
            ("g2".to_string(), Some("Sales EU".to_string())),
            ("g3".to_string(), None),
        ],
        "every holder by id, with its label if it has one"
    );
    let none = scim
        .scim_find_keys("acme", ScimKind::Group, &ScimKey::new("member", "u9"), "label")
        .await
        .unwrap();
    assert!(none.is_empty());
}
