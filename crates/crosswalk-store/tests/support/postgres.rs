//! A fresh PostgreSQL database per test, on the server CROSSWALK_TEST_DATABASE_URL names
//! (default: the local trust-auth server), so tests run in parallel without seeing each
//! other. Under CI=true a server that cannot be reached fails the test; elsewhere the test
//! says loudly that it did not run and returns.

#![allow(dead_code)]

use sqlx::Connection;
use sqlx::postgres::PgConnection;

pub(crate) const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A database created for one test; dropped (best effort) when this value is.
pub(crate) struct TestDatabase {
    pub(crate) url: String,
    admin_url: String,
    name: String,
}

fn server_url() -> String {
    std::env::var("CROSSWALK_TEST_DATABASE_URL")
        .ok()
        .filter(|url| !url.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_URL.to_string())
}

/// `url` with its database (the path) replaced by `name`, its query kept.
fn with_database(url: &str, name: &str) -> String {
    let authority_start = url.find("://").map_or(0, |i| i + 3);
    let path_start = url[authority_start..]
        .find('/')
        .map_or(url.len(), |i| authority_start + i);
    let query = url[path_start..]
        .find('?')
        .map_or("", |i| &url[path_start + i..]);
    format!("{}/{name}{query}", &url[..path_start])
}

/// Creates `cw_test_<random>` on the test server. `None` (after a loud note) when the server
/// cannot be reached outside CI; under CI=true that panics: a test that cannot reach its
/// server must fail, never pass silently.
pub(crate) async fn fresh_database() -> Option<TestDatabase> {
    let admin_url = server_url();
    let mut admin = match PgConnection::connect(&admin_url).await {
        Ok(conn) => conn,
        Err(error) => {
            if std::env::var("CI").is_ok_and(|ci| ci == "true") {
                panic!(
                    "CI=true and the PostgreSQL test server at {admin_url} cannot be reached: {error}"
                );
            }
            eprintln!(
                "\n*** SKIPPED: PostgreSQL at {admin_url} cannot be reached ({error}); this PostgreSQL test did NOT run. \
                 Start a server or set CROSSWALK_TEST_DATABASE_URL (under CI=true this fails). ***\n"
            );
            return None;
        }
    };
    let name = format!("cw_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("create a test database");
    let _ = admin.close().await;
    Some(TestDatabase {
        url: with_database(&admin_url, &name),
        admin_url,
        name,
    })
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs inside the test's runtime, which cannot block on itself: a thread with its
        // own runtime drops the database (FORCE ends the store's pooled connections).
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let mut admin = PgConnection::connect(&admin_url).await.ok()?;
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut admin)
                .await
                .ok()?;
                admin.close().await.ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(()))) {
            eprintln!("note: test database {} was not dropped", self.name);
        }
    }
}
