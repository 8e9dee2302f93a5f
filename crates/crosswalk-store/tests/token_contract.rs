//! The token store's contract, written once and run against each backend
//! (`token_tests!(backend, constructor)`): tokens are kept as a hash, listed by scope or all,
//! revoked once, and two handles on one database (two server processes) see each other's
//! writes at once.

use std::sync::Arc;

use crosswalk_store::scope::{
    ChangeContext, ErrorKind, NewScope, NewToken, PostgresScopeStore, Role, ScopeWrite,
    SqliteScopeStore, TokenStore,
};
use time::OffsetDateTime;

#[path = "support/postgres.rs"]
mod postgres_support;

/// Both handles a test uses: the scope store (to make scopes) and the token store, plus a
/// second, separately opened handle on the same database.
struct Backend {
    scopes: Arc<dyn ScopeWrite>,
    tokens: Arc<dyn TokenStore>,
    other_tokens: Arc<dyn TokenStore>,
    _guard: Box<dyn std::any::Any + Send>,
}

async fn sqlite_store() -> Option<Backend> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scopes.sqlite");
    let store = SqliteScopeStore::open(&path).await.unwrap();
    let other = SqliteScopeStore::open(&path).await.unwrap();
    Some(Backend {
        scopes: Arc::new(store.clone()),
        tokens: Arc::new(store),
        other_tokens: Arc::new(other),
        _guard: Box::new(dir),
    })
}

/// A fresh database on the PostgreSQL test server; `None` (a loud skip) only outside CI.
async fn postgres_store() -> Option<Backend> {
    let database = postgres_support::fresh_database().await?;
    let store = PostgresScopeStore::open(&database.url).await.unwrap();
    let other = PostgresScopeStore::open(&database.url).await.unwrap();
    Some(Backend {
        scopes: Arc::new(store.clone()),
        tokens: Arc::new(store),
        other_tokens: Arc::new(other),
        _guard: Box::new(database),
    })
}

macro_rules! token_tests {
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

token_tests!(sqlite, sqlite_store;
    tokens_are_kept_listed_by_scope_and_revoked_once,
    a_token_needs_an_existing_scope_and_a_label,
    a_second_handle_sees_new_and_revoked_tokens_at_once,
);
token_tests!(postgres, postgres_store;
    tokens_are_kept_listed_by_scope_and_revoked_once,
    a_token_needs_an_existing_scope_and_a_label,
    a_second_handle_sees_new_and_revoked_tokens_at_once,
);

fn at(seconds: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_800_000_000 + seconds).unwrap()
}

fn new_token(
    public_id: &str,
    scope: Option<&str>,
    role: Role,
    created: OffsetDateTime,
) -> NewToken {
    NewToken {
        public_id: public_id.to_string(),
        scope: scope.map(str::to_string),
        role,
        label: format!("label of {public_id}"),
        secret_hash: format!("{:0>64}", public_id),
        created_at: created,
        created_by: "cli:test".to_string(),
    }
}

async fn create_scope(backend: &Backend, name: &str) {
    let context = ChangeContext {
        at: at(0),
        who: "t".into(),
        caller: "t".into(),
    };
    let scope = NewScope {
        name: name.into(),
        source_label: "jira-server x".into(),
        destination_label: "cloud y".into(),
    };
    backend.scopes.create_scope(&scope, &context).await.unwrap();
}

async fn tokens_are_kept_listed_by_scope_and_revoked_once(backend: &Backend) {
    let store = &backend.tokens;
    create_scope(backend, "acme").await;
    create_scope(backend, "globex").await;
    // Made with sub-second times: every read says what creating it said (whole seconds).
    let made = store
        .create_token(&new_token(
            "p1",
            Some("acme"),
            Role::Reader,
            at(10) + time::Duration::milliseconds(750),
        ))
        .await
        .unwrap();
    assert_eq!(made.created_at, at(10));
    assert_eq!(made.revoked_at, None);
    store
        .create_token(&new_token("p2", None, Role::Admin, at(20)))
        .await
        .unwrap();
    store
        .create_token(&new_token("p3", Some("globex"), Role::Writer, at(30)))
        .await
        .unwrap();
    store
        .create_token(&new_token("p0", Some("acme"), Role::Admin, at(40)))
        .await
        .unwrap();

    let record = store.token("p1").await.unwrap();
    assert_eq!(record.token, made);
    assert_eq!(record.secret_hash, format!("{:0>64}", "p1"));
    assert_eq!(
        (
            record.token.scope.as_deref(),
            record.token.role,
            record.token.label.as_str()
        ),
        (Some("acme"), Role::Reader, "label of p1")
    );
    let admin = store.token("p2").await.unwrap().token;
    assert_eq!((admin.scope, admin.role), (None, Role::Admin));

    // A scope's tokens, then every token: oldest first.
    let ids = |rows: Vec<crosswalk_store::scope::TokenRow>| {
        rows.into_iter().map(|t| t.public_id).collect::<Vec<_>>()
    };
    assert_eq!(ids(store.tokens(Some("acme")).await.unwrap()), ["p1", "p0"]);
    assert_eq!(ids(store.tokens(Some("globex")).await.unwrap()), ["p3"]);
    assert_eq!(
        ids(store.tokens(None).await.unwrap()),
        ["p1", "p2", "p3", "p0"]
    );
    assert!(store.tokens(Some("nobody")).await.unwrap().is_empty());

    // Revoking keeps the first time; the token stays listed, revoked.
    assert_eq!(
        store.revoke_token("p1", at(100)).await.unwrap().revoked_at,
        Some(at(100))
    );
    assert_eq!(
        store.revoke_token("p1", at(200)).await.unwrap().revoked_at,
        Some(at(100))
    );
    assert_eq!(
        store.token("p1").await.unwrap().token.revoked_at,
        Some(at(100))
    );
    assert_eq!(
        store.tokens(Some("acme")).await.unwrap()[0].revoked_at,
        Some(at(100))
    );
    assert_eq!(store.token("p0").await.unwrap().token.revoked_at, None);

    assert_eq!(
        store.token("nope").await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        store
            .revoke_token("nope", at(300))
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
}

async fn a_token_needs_an_existing_scope_and_a_label(backend: &Backend) {
    let store = &backend.tokens;
    create_scope(backend, "acme").await;
    let error = store
        .create_token(&new_token("p0", Some("globex"), Role::Reader, at(0)))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound);
    let mut unlabelled = new_token("p1", Some("acme"), Role::Reader, at(0));
    unlabelled.label = String::new();
    assert_eq!(
        store.create_token(&unlabelled).await.unwrap_err().kind(),
        ErrorKind::Invalid
    );
    // Nothing was kept of either.
    assert!(store.tokens(None).await.unwrap().is_empty());
}

async fn a_second_handle_sees_new_and_revoked_tokens_at_once(backend: &Backend) {
    create_scope(backend, "acme").await;
    backend
        .tokens
        .create_token(&new_token("p1", Some("acme"), Role::Writer, at(0)))
        .await
        .unwrap();
    let seen = backend.other_tokens.token("p1").await.unwrap();
    assert_eq!(seen.token.role, Role::Writer);
    assert_eq!(seen.token.revoked_at, None);
    backend
        .other_tokens
        .revoke_token("p1", at(5))
        .await
        .unwrap();
    assert_eq!(
        backend.tokens.token("p1").await.unwrap().token.revoked_at,
        Some(at(5))
    );
}
