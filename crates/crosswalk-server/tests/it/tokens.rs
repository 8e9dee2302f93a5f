//! Token invariants, property-tested on the real store: a made token authenticates as itself,
//! and any other text (a changed secret, another public id, noise) never does, nor panics.

use std::sync::Arc;

use crosswalk_server::tokens::{authenticate, issue, parse};
use crosswalk_store::scope::{NewScope, Role, ScopeWrite, SqliteScopeStore, TokenStore};
use proptest::prelude::*;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

async fn store_with_token() -> (Arc<dyn TokenStore>, String) {
    let store = SqliteScopeStore::open_in_memory().await.unwrap();
    let at = time::OffsetDateTime::now_utc();
    let context = crosswalk_store::scope::ChangeContext {
        at,
        who: "t".into(),
        caller: "t".into(),
    };
    store
        .create_scope(
            &NewScope {
                name: "acme".into(),
                source_label: "jira".into(),
                destination_label: "cloud".into(),
            },
            &context,
        )
        .await
        .unwrap();
    let issued = issue(&store, Some("acme"), Role::Reader, "test", "t", at)
        .await
        .unwrap();
    (Arc::new(store), issued.token)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn any_text_parses_or_not_without_panicking(text in "\\PC{0,120}") {
        let _ = parse(&text);
    }

    #[test]
    fn changing_any_character_of_a_token_makes_it_invalid(position in 0usize..200, replacement in "[0-9a-fA-Fg_ ]") {
        runtime().block_on(async {
            let (store, token) = store_with_token().await;
            let header = format!("Bearer {token}");
            let principal = authenticate(&store, Some(&header)).await.unwrap();
            prop_assert_eq!(principal.token.scope.as_deref(), Some("acme"));
            let position = position % token.len();
            let mut changed = token.clone();
            changed.replace_range(position..=position, &replacement);
            if changed != token {
                let error = authenticate(&store, Some(&format!("Bearer {changed}"))).await.unwrap_err();
                prop_assert_eq!(error.status.as_u16(), 401, "{} accepted", changed);
            }
            Ok(())
        })?;
    }
}
