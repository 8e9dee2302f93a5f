//! SCIM resources on SQLite (`migrations/sqlite/0005_scim.sql`); the model is in
//! [`crate::scope::scim`].

use std::collections::{HashMap, HashSet};

use sqlx::SqliteConnection;

use super::*;
use crate::scope::scim::{
    Expect, NewScimResource, ScimKey, ScimKind, ScimResource, ScimStore, ScimWrite,
    UNIQUENESS_CLASH,
};

/// Rows per INSERT: 7 parameters each (5 for keys), well under SQLite's 32,766.
const INSERT_BATCH: usize = 1000;

const RESOURCE_COLUMNS: &str = "kind, id, body, hidden, version, created_at, updated_at";

/// The resources holding one key (`scim_find`), in id order. Ordered by k.id (the same id
/// as r.id), which the key's primary key already gives, so the look-up starts from the key:
/// ordered by r.id, SQLite (which has no statistics here) walked every resource of the kind
/// in id order and probed its keys, 15 s a look-up among a million users.
fn find_sql() -> String {
    format!(
        "SELECT r.kind, r.id, r.body, r.hidden, r.version, r.created_at, r.updated_at FROM scim_keys k \
         JOIN scim_resources r ON r.scope_id = k.scope_id AND r.kind = k.kind AND r.id = k.id \
         WHERE k.scope_id = ? AND k.kind = ? AND k.key_kind = ? AND k.key = ? ORDER BY k.id LIMIT {MAX_BATCH}"
    )
}

fn parse_kind(text: &str) -> ScopeResult<ScimKind> {
    match text {
        "user" => Ok(ScimKind::User),
        "group" => Ok(ScimKind::Group),
        "conflict" => Ok(ScimKind::Conflict),
        other => Err(ScopeError::corrupt(format!(
            "a SCIM resource has an unknown kind {other:?}"
        ))),
    }
}

fn resource_row(row: &SqliteRow) -> ScopeResult<ScimResource> {
    Ok(ScimResource {
        kind: parse_kind(&col::<String>(row, 0)?)?,
        id: col(row, 1)?,
        body: col(row, 2)?,
        hidden: col::<i64>(row, 3)? != 0,
        version: col(row, 4)?,
        created_at: from_unix(col(row, 5)?)?,
        updated_at: from_unix(col(row, 6)?)?,
    })
}

impl SqliteScopeStore {
    async fn scim_get_on(
        &self,
        conn: &mut SqliteConnection,
        scope_id: i64,
        kind: ScimKind,
        id: &str,
    ) -> ScopeResult<Option<(ScimResource, Option<i64>)>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {RESOURCE_COLUMNS}, revision_id FROM scim_resources WHERE scope_id = ? AND kind = ? AND id = ?"
        )))
        .bind(scope_id)
        .bind(kind.as_str())
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(self.db("read a SCIM resource"))?;
        row.map(|row| Ok((resource_row(&row)?, col(&row, 7)?)))
            .transpose()
    }

    async fn scim_insert_keys(
        &self,
        tx: &mut SqliteConnection,
        scope_id: i64,
        kind: ScimKind,
        rows: &[(&str, &ScimKey)],
    ) -> ScopeResult<()> {
        for batch in rows.chunks(INSERT_BATCH) {
            let mut sql = String::from(
                "INSERT OR IGNORE INTO scim_keys (scope_id, kind, key_kind, key, id) VALUES ",
            );
            sql.push_str(&vec!["(?, ?, ?, ?, ?)"; batch.len()].join(", "));
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (id, key) in batch {
                query = query
                    .bind(scope_id)
                    .bind(kind.as_str())
                    .bind(&key.kind)
                    .bind(&key.key)
                    .bind(*id);
            }
            query
                .execute(&mut *tx)
                .await
                .map_err(self.db("write SCIM keys"))?;
        }
        Ok(())
    }

    async fn scim_seed_inner(
        &self,
        scope: &str,
        content: &str,
        resources: &[NewScimResource],
        at: OffsetDateTime,
    ) -> ScopeResult<u64> {
        let mut tx = self.begin("seed the SCIM resources").await?;
        let scope_id = self.scope_id(&mut tx, scope).await?;
        let mut added = 0u64;
        for batch in resources.chunks(INSERT_BATCH) {
            let mut sql = String::from(
                "INSERT INTO scim_resources (scope_id, kind, id, body, hidden, version, created_at, updated_at) VALUES ",
            );
            sql.push_str(&vec!["(?, ?, ?, ?, ?, 1, ?, ?)"; batch.len()].join(", "));
            sql.push_str(" ON CONFLICT DO NOTHING RETURNING kind, id");
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for resource in batch {
                query = query
                    .bind(scope_id)
                    .bind(resource.kind.as_str())
                    .bind(&resource.id)
                    .bind(&resource.body)
                    .bind(i64::from(resource.hidden))
                    .bind(unix(at))
                    .bind(unix(at));
            }
            let inserted: HashSet<(String, String)> = query
                .fetch_all(&mut *tx)
                .await
                .map_err(self.db("seed the SCIM resources"))?
                .iter()
                .map(|row| Ok((col::<String>(row, 0)?, col::<String>(row, 1)?)))
                .collect::<ScopeResult<_>>()?;
            added += inserted.len() as u64;
            let mut by_kind: HashMap<ScimKind, Vec<(&str, &ScimKey)>> = HashMap::new();
            for resource in batch
                .iter()
                .filter(|r| inserted.contains(&(r.kind.as_str().to_string(), r.id.clone())))
            {
                by_kind
                    .entry(resource.kind)
                    .or_default()
                    .extend(resource.keys.iter().map(|key| (resource.id.as_str(), key)));
            }
            for (kind, keys) in by_kind {
                self.scim_insert_keys(&mut tx, scope_id, kind, &keys)
                    .await?;
            }
        }
        sqlx::query("INSERT INTO scim_seeds (scope_id, content) VALUES (?, ?) ON CONFLICT (scope_id) DO UPDATE SET content = excluded.content")
            .bind(scope_id)
            .bind(content)
            .execute(&mut *tx)
            .await
            .map_err(self.db("seed the SCIM resources"))?;
        tx.commit()
            .await
            .map_err(self.db("seed the SCIM resources"))?;
        Ok(added)
    }

    async fn scim_write_inner(
        &self,
        scope: &str,
        write: &ScimWrite,
        context: &ChangeContext,
    ) -> ScopeResult<ScimResource> {
        check_name("caller", &context.caller)?;
        let resource = &write.resource;
        let kind = resource.kind;
        let mut tx = self.begin("write a SCIM resource").await?;
        let scope_id = self.scope_id(&mut tx, scope).await?;
        let stored = self
            .scim_get_on(&mut tx, scope_id, kind, &resource.id)
            .await?;
        match (&write.expect, &stored) {
            (Expect::Absent, Some(_)) => {
                return Err(ScopeError::conflict(format!(
                    "a SCIM {} with id {:?} already exists",
                    kind.as_str(),
                    resource.id
                )));
            }
            (Expect::Version(_), None) => {
                return Err(ScopeError::not_found(format!(
                    "no SCIM {} with id {:?}",
                    kind.as_str(),
                    resource.id
                )));
            }
            (Expect::Version(version), Some((now, _))) if now.version != *version => {
                return Err(ScopeError::conflict(format!(
                    "the SCIM {} {:?} changed since it was read (version {} now, {version} read)",
                    kind.as_str(),
                    resource.id,
                    now.version
                )));
            }
            _ => {}
        }
        if !resource.hidden {
            for key in resource
                .keys
                .iter()
                .filter(|key| write.unique.contains(&key.kind))
            {
                let holder: Option<String> = sqlx::query_scalar(
                    "SELECT k.id FROM scim_keys k JOIN scim_resources r ON r.scope_id = k.scope_id AND r.kind = k.kind AND r.id = k.id \
                     WHERE k.scope_id = ? AND k.kind = ? AND k.key_kind = ? AND k.key = ? AND k.id <> ? AND r.hidden = 0 LIMIT 1",
                )
                .bind(scope_id)
                .bind(kind.as_str())
                .bind(&key.kind)
                .bind(&key.key)
                .bind(&resource.id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(self.db("check SCIM uniqueness"))?;
                if let Some(holder) = holder {
                    return Err(ScopeError::conflict(format!(
                        "{UNIQUENESS_CLASH}{} {:?} belongs to {holder}",
                        key.kind, key.key
                    )));
                }
            }
        }
        let previous = stored.as_ref().and_then(|(_, revision)| *revision);
        let value = (!resource.hidden).then(|| MappingValue::App(resource.body.clone()).to_json());
        let reason = if resource.hidden {
            Reason::Removal
        } else {
            Reason::Manual
        };
        let revision_id = self
            .insert_revision(
                &mut tx,
                scope_id,
                kind.namespace(),
                &resource.id,
                previous,
                value.as_deref(),
                context,
                reason,
            )
            .await?;
        let at = unix(context.at);
        let version = stored.as_ref().map_or(1, |(now, _)| now.version + 1);
        let created = stored.as_ref().map_or(at, |(now, _)| unix(now.created_at));
        sqlx::query(
            "INSERT INTO scim_resources (scope_id, kind, id, body, hidden, version, created_at, updated_at, revision_id) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (scope_id, kind, id) DO UPDATE SET \
             body = excluded.body, hidden = excluded.hidden, version = excluded.version, updated_at = excluded.updated_at, revision_id = excluded.revision_id",
        )
        .bind(scope_id)
        .bind(kind.as_str())
        .bind(&resource.id)
        .bind(&resource.body)
        .bind(i64::from(resource.hidden))
        .bind(version)
        .bind(created)
        .bind(at)
        .bind(revision_id)
        .execute(&mut *tx)
        .await
        .map_err(self.db("write a SCIM resource"))?;
        sqlx::query("DELETE FROM scim_keys WHERE scope_id = ? AND kind = ? AND id = ?")
            .bind(scope_id)
            .bind(kind.as_str())
            .bind(&resource.id)
            .execute(&mut *tx)
            .await
            .map_err(self.db("write SCIM keys"))?;
        let keys: Vec<(&str, &ScimKey)> = resource
            .keys
            .iter()
            .map(|key| (resource.id.as_str(), key))
            .collect();
        self.scim_insert_keys(&mut tx, scope_id, kind, &keys)
            .await?;
        let (written, _) = self
            .scim_get_on(&mut tx, scope_id, kind, &resource.id)
            .await?
            .ok_or_else(|| ScopeError::corrupt("a SCIM resource just written is missing"))?;
        tx.commit()
            .await
            .map_err(self.db("write a SCIM resource"))?;
        Ok(written)
    }

    async fn scim_remove_inner(
        &self,
        scope: &str,
        kind: ScimKind,
        id: &str,
        expect: Option<i64>,
        context: &ChangeContext,
    ) -> ScopeResult<()> {
        check_name("caller", &context.caller)?;
        let mut tx = self.begin("remove a SCIM resource").await?;
        let scope_id = self.scope_id(&mut tx, scope).await?;
        let Some((stored, previous)) = self.scim_get_on(&mut tx, scope_id, kind, id).await? else {
            return Err(ScopeError::not_found(format!(
                "no SCIM {} with id {id:?}",
                kind.as_str()
            )));
        };
        if let Some(version) = expect
            && version != stored.version
        {
            return Err(ScopeError::conflict(format!(
                "the SCIM {} {id:?} changed since it was read",
                kind.as_str()
            )));
        }
        self.insert_revision(
            &mut tx,
            scope_id,
            kind.namespace(),
            id,
            previous,
            None,
            context,
            Reason::Removal,
        )
        .await?;
        for table in ["scim_keys", "scim_resources"] {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM {table} WHERE scope_id = ? AND kind = ? AND id = ?"
            )))
            .bind(scope_id)
            .bind(kind.as_str())
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(self.db("remove a SCIM resource"))?;
        }
        tx.commit()
            .await
            .map_err(self.db("remove a SCIM resource"))?;
        Ok(())
    }
}

impl ScimStore for SqliteScopeStore {
    fn scim_seeded<'a>(&'a self, scope: &'a str) -> StoreFuture<'a, Option<String>> {
        Box::pin(async move {
            let mut conn = self
                .pool
                .acquire()
                .await
                .map_err(self.db("read the SCIM seed"))?;
            let scope_id = self.scope_id(&mut conn, scope).await?;
            sqlx::query_scalar("SELECT content FROM scim_seeds WHERE scope_id = ?")
                .bind(scope_id)
                .fetch_optional(&mut *conn)
                .await
                .map_err(self.db("read the SCIM seed"))
        })
    }

    fn scim_seed<'a>(
        &'a self,
        scope: &'a str,
        content: &'a str,
        resources: &'a [NewScimResource],
        at: OffsetDateTime,
    ) -> StoreFuture<'a, u64> {
        Box::pin(self.scim_seed_inner(scope, content, resources, at))
    }

    fn scim_get<'a>(
        &'a self,
        scope: &'a str,
        kind: ScimKind,
        id: &'a str,
    ) -> StoreFuture<'a, Option<ScimResource>> {
        Box::pin(async move {
            let mut conn = self
                .pool
                .acquire()
                .await
                .map_err(self.db("read a SCIM resource"))?;
            let scope_id = self.scope_id(&mut conn, scope).await?;
            Ok(self
                .scim_get_on(&mut conn, scope_id, kind, id)
                .await?
                .map(|(resource, _)| resource))
        })
    }

    fn scim_find<'a>(
        &'a self,
        scope: &'a str,
        kind: ScimKind,
        key: &'a ScimKey,
    ) -> StoreFuture<'a, Vec<ScimResource>> {
        Box::pin(async move {
            let mut conn = self
                .pool
                .acquire()
                .await
                .map_err(self.db("find SCIM resources"))?;
            let scope_id = self.scope_id(&mut conn, scope).await?;
            let rows = sqlx::query(sqlx::AssertSqlSafe(find_sql()))
                .bind(scope_id)
                .bind(kind.as_str())
                .bind(&key.kind)
                .bind(&key.key)
                .fetch_all(&mut *conn)
                .await
                .map_err(self.db("find SCIM resources"))?;
            rows.iter().map(resource_row).collect()
        })
    }

    fn scim_find_keys<'a>(
        &'a self,
        scope: &'a str,
        kind: ScimKind,
        key: &'a ScimKey,
        want: &'a str,
    ) -> StoreFuture<'a, Vec<(String, Option<String>)>> {
        Box::pin(async move {
            let mut conn = self
                .pool
                .acquire()
                .await
                .map_err(self.db("find SCIM keys"))?;
            let scope_id = self.scope_id(&mut conn, scope).await?;
            // The wanted key by the resource's index, which holds (id, key kind, key):
            // by the primary key SQLite would read every key of that kind in the scope.
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT k.id, n.key FROM scim_keys k \
                 LEFT JOIN scim_keys n INDEXED BY scim_keys_by_resource ON n.scope_id = k.scope_id AND n.kind = k.kind AND n.id = k.id AND n.key_kind = ? \
                 WHERE k.scope_id = ? AND k.kind = ? AND k.key_kind = ? AND k.key = ? ORDER BY k.id LIMIT {MAX_BATCH}"
            )))
            .bind(want)
            .bind(scope_id)
            .bind(kind.as_str())
            .bind(&key.kind)
            .bind(&key.key)
            .fetch_all(&mut *conn)
            .await
            .map_err(self.db("find SCIM keys"))?;
            rows.iter()
                .map(|row| Ok((col::<String>(row, 0)?, col::<Option<String>>(row, 1)?)))
                .collect()
        })
    }

    fn scim_page<'a>(
        &'a self,
        scope: &'a str,
        kind: ScimKind,
        after: Option<&'a str>,
        limit: usize,
    ) -> StoreFuture<'a, Vec<ScimResource>> {
        Box::pin(async move {
            check_limit(limit)?;
            let mut conn = self
                .pool
                .acquire()
                .await
                .map_err(self.db("list SCIM resources"))?;
            let scope_id = self.scope_id(&mut conn, scope).await?;
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {RESOURCE_COLUMNS} FROM scim_resources WHERE scope_id = ? AND kind = ? AND hidden = 0 AND id > ? ORDER BY id LIMIT ?"
            )))
            .bind(scope_id)
            .bind(kind.as_str())
            .bind(after.unwrap_or(""))
            .bind(limit as i64)
            .fetch_all(&mut *conn)
            .await
            .map_err(self.db("list SCIM resources"))?;
            rows.iter().map(resource_row).collect()
        })
    }

    fn scim_count<'a>(&'a self, scope: &'a str, kind: ScimKind) -> StoreFuture<'a, u64> {
        Box::pin(async move {
            let mut conn = self
                .pool
                .acquire()
                .await
                .map_err(self.db("count SCIM resources"))?;
            let scope_id = self.scope_id(&mut conn, scope).await?;
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM scim_resources WHERE scope_id = ? AND kind = ? AND hidden = 0")
                .bind(scope_id)
                .bind(kind.as_str())
                .fetch_one(&mut *conn)
                .await
                .map_err(self.db("count SCIM resources"))?;
            Ok(count(n))
        })
    }

    fn scim_write<'a>(
        &'a self,
        scope: &'a str,
        write: &'a ScimWrite,
        context: &'a ChangeContext,
    ) -> StoreFuture<'a, ScimResource> {
        Box::pin(self.scim_write_inner(scope, write, context))
    }

    fn scim_remove<'a>(
        &'a self,
        scope: &'a str,
        kind: ScimKind,
        id: &'a str,
        expect: Option<i64>,
        context: &'a ChangeContext,
    ) -> StoreFuture<'a, ()> {
        Box::pin(self.scim_remove_inner(scope, kind, id, expect, context))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Without statistics SQLite chooses plans by the query's shape alone, so the plan an
    /// empty store shows is the one a store of a million users runs.
    #[tokio::test]
    async fn a_key_look_up_starts_from_the_key() {
        let store = SqliteScopeStore::open_in_memory().await.unwrap();
        let mut conn = store.pool.acquire().await.unwrap();
        let plan: Vec<String> = sqlx::query(sqlx::AssertSqlSafe(format!(
            "EXPLAIN QUERY PLAN {}",
            find_sql()
        )))
        .bind(1)
        .bind("user")
        .bind("name")
        .bind("ana@acme.com")
        .fetch_all(&mut *conn)
        .await
        .unwrap()
        .iter()
        .map(|row| row.get::<String, _>(3))
        .collect();
        assert!(
            plan.first()
                .is_some_and(|step| step.starts_with("SEARCH k USING PRIMARY KEY")),
            "{plan:?}"
        );
        assert!(
            plan.iter().all(|step| !step.contains("TEMP B-TREE")),
            "{plan:?}"
        );
    }
}
