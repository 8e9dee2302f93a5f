//! Item references on SQLite (`migrations/sqlite/0003_items.sql`); the matching rules and the
//! queries shared with PostgreSQL are in [`crate::scope::items`].

use sqlx::SqliteConnection;

use super::*;
use crate::scope::items::{
    self as shared, AffectedItem, ItemCounts, ItemFilter, ItemPage, ItemReferenceRow,
    ItemReferencesState,
};

/// Rows per INSERT: 12 parameters each, well under SQLite's 32,766.
const INSERT_BATCH: usize = 1000;

impl SqliteScopeStore {
    pub(super) async fn replace_items_inner(
        &self,
        scope: &str,
        references: &[ItemReferenceRow],
        context: &ChangeContext,
    ) -> ScopeResult<ItemReferencesState> {
        check_name("caller", &context.caller)?;
        for reference in references {
            reference.check()?;
        }
        let rows = shared::sorted(references);
        let items = shared::distinct_items(&rows);
        let mut tx = self.begin("import item references").await?;
        let (scope_id, scope_row) = self.scope_on(&mut tx, scope).await?;
        sqlx::query("DELETE FROM scope_item_refs WHERE scope_id = ?")
            .bind(scope_id)
            .execute(&mut *tx)
            .await
            .map_err(self.db("replace item references"))?;
        for (batch_index, batch) in rows.chunks(INSERT_BATCH).enumerate() {
            let mut sql = String::from(
                "INSERT INTO scope_item_refs (scope_id, seq, container, container_type, item, item_type, title, role, kind, identity, identity_folded, permissions) VALUES ",
            );
            sql.push_str(&vec!["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"; batch.len()].join(", "));
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (offset, row) in batch.iter().enumerate() {
                let seq = (batch_index * INSERT_BATCH + offset + 1) as i64;
                let (identity, folded) = row.matched_forms(scope_row.source_platform);
                query = query
                    .bind(scope_id)
                    .bind(seq)
                    .bind(row.container.clone())
                    .bind(row.container_type.clone())
                    .bind(row.item.clone())
                    .bind(row.item_type.clone())
                    .bind(row.title.clone())
                    .bind(row.role.clone())
                    .bind(kind_str(row.kind))
                    .bind(identity)
                    .bind(folded)
                    .bind(i64::from(row.permissions));
            }
            query
                .execute(&mut *tx)
                .await
                .map_err(self.db("store item references"))?;
        }
        let at = unix(context.at);
        sqlx::query(
            "INSERT INTO scope_item_imports (scope_id, refs, items, at, who) VALUES (?, ?, ?, ?, ?) \
             ON CONFLICT (scope_id) DO UPDATE SET refs = excluded.refs, items = excluded.items, at = excluded.at, who = excluded.who",
        )
        .bind(scope_id)
        .bind(rows.len() as i64)
        .bind(items as i64)
        .bind(at)
        .bind(&context.who)
        .execute(&mut *tx)
        .await
        .map_err(self.db("record an item import"))?;
        tx.commit()
            .await
            .map_err(self.db("import item references"))?;
        Ok(ItemReferencesState {
            references: rows.len() as u64,
            items,
            imported_at: Some(context.at),
            imported_by: Some(context.who.clone()),
        })
    }

    pub(super) async fn item_references_inner(
        &self,
        scope: &str,
    ) -> ScopeResult<ItemReferencesState> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(self.db("read the item references"))?;
        let scope_id = self.scope_id(&mut conn, scope).await?;
        let row: Option<(i64, i64, i64, String)> = sqlx::query_as(
            "SELECT refs, items, at, who FROM scope_item_imports WHERE scope_id = ?",
        )
        .bind(scope_id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(self.db("read the item references"))?;
        Ok(match row {
            None => ItemReferencesState::default(),
            Some((references, items, at, who)) => ItemReferencesState {
                references: count(references),
                items: count(items),
                imported_at: Some(from_unix(at)?),
                imported_by: Some(who),
            },
        })
    }

    /// The mapping's id, or `None` when the scope has no such mapping.
    async fn mapping_id(
        &self,
        conn: &mut SqliteConnection,
        scope_id: i64,
        namespace: &Namespace,
        key: &str,
    ) -> ScopeResult<Option<i64>> {
        sqlx::query_scalar(
            "SELECT id FROM scope_mappings WHERE scope_id = ? AND namespace = ? AND source_key = ?",
        )
        .bind(scope_id)
        .bind(namespace.as_str())
        .bind(key)
        .fetch_optional(&mut *conn)
        .await
        .map_err(self.db("read a mapping"))
    }

    pub(super) async fn affected_items_inner(
        &self,
        scope: &str,
        namespace: &Namespace,
        key: &str,
        filter: &ItemFilter,
        after: Option<&str>,
        limit: usize,
    ) -> ScopeResult<ItemPage> {
        check_limit(limit)?;
        let after = after
            .map(shared::parse_item_cursor)
            .transpose()?
            .unwrap_or(0);
        let Some(kind) = namespace.identity_kind() else {
            return Err(ScopeError::invalid(format!(
                "item references name identities; {namespace} is not identity:user or identity:group"
            )));
        };
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(self.db("read affected items"))?;
        let scope_id = self.scope_id(&mut conn, scope).await?;
        let Some(mapping_id) = self.mapping_id(&mut conn, scope_id, namespace, key).await? else {
            return Err(ScopeError::not_found(format!(
                "scope {scope:?} has no {namespace} mapping for {key:?}"
            )));
        };
        let sql = shared::for_sqlite(&format!("{}{}", shared::HITS, shared::PAGE));
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(scope_id)
            .bind(kind_str(kind))
            .bind(key)
            .bind(mapping_id)
            .bind(Namespace::IDENTITY_USER)
            .bind(after)
            .bind(filter.role.as_deref())
            .bind(filter.container.as_deref())
            .bind(filter.item_type.as_deref())
            .bind(limit as i64 + 1)
            .fetch_all(&mut *conn)
            .await
            .map_err(self.db("read affected items"))?;
        let last_page = rows.len() <= limit;
        let mut items = Vec::with_capacity(rows.len().min(limit));
        let mut last_seq = after;
        for row in rows.iter().take(limit) {
            last_seq = col(row, 0)?;
            items.push(AffectedItem {
                container: col(row, 1)?,
                container_type: col(row, 2)?,
                item: col(row, 3)?,
                item_type: col(row, 4)?,
                title: col(row, 5)?,
                role: col(row, 6)?,
                identity: col(row, 7)?,
                permissions: u32::try_from(col::<i64>(row, 8)?).unwrap_or(u32::MAX),
            });
        }
        Ok(ItemPage {
            items,
            next: (!last_page).then(|| shared::item_cursor(last_seq)),
            last_page,
        })
    }

    pub(super) async fn item_counts_inner(
        &self,
        scope: &str,
        namespace: &Namespace,
        keys: &[String],
    ) -> ScopeResult<Vec<ItemCounts>> {
        if keys.len() > MAX_BATCH {
            return Err(ScopeError::invalid(format!(
                "a look-up holds at most {MAX_BATCH} keys, not {}",
                keys.len()
            )));
        }
        let Some(kind) = namespace.identity_kind() else {
            return Err(ScopeError::invalid(format!(
                "item references name identities; {namespace} is not identity:user or identity:group"
            )));
        };
        let mut conn = self
            .pool
            .begin()
            .await
            .map_err(self.db("count affected items"))?;
        let scope_id = self.scope_id(&mut conn, scope).await?;
        let counts_sql = shared::for_sqlite(&format!("{}{}", shared::HITS, shared::COUNTS));
        let items_sql = shared::for_sqlite(&format!("{}{}", shared::HITS, shared::DISTINCT_ITEMS));
        let mut answers = Vec::with_capacity(keys.len());
        for key in keys {
            let Some(mapping_id) = self.mapping_id(&mut conn, scope_id, namespace, key).await?
            else {
                answers.push(ItemCounts::default());
                continue;
            };
            let by_role: Vec<(String, i64, i64)> =
                sqlx::query_as(sqlx::AssertSqlSafe(counts_sql.clone()))
                    .bind(scope_id)
                    .bind(kind_str(kind))
                    .bind(key)
                    .bind(mapping_id)
                    .bind(Namespace::IDENTITY_USER)
                    .fetch_all(&mut *conn)
                    .await
                    .map_err(self.db("count affected items"))?;
            if by_role.is_empty() {
                answers.push(ItemCounts::default());
                continue;
            }
            let items: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(items_sql.clone()))
                .bind(scope_id)
                .bind(kind_str(kind))
                .bind(key)
                .bind(mapping_id)
                .bind(Namespace::IDENTITY_USER)
                .fetch_one(&mut *conn)
                .await
                .map_err(self.db("count affected items"))?;
            answers.push(shared::counts(by_role, items));
        }
        Ok(answers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What SQLite would do for `sql`, its `$n` (or `?`) parameters given as `values`.
    async fn plan(store: &SqliteScopeStore, sql: &str, values: &[&str]) -> Vec<String> {
        let mut sql = sql.to_string();
        for (n, value) in values.iter().enumerate().rev() {
            sql = sql.replace(&format!("${}", n + 1), value);
        }
        for value in values {
            sql = sql.replacen('?', value, 1);
        }
        let sql = shared::sqlite_index_hints(&sql);
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")))
            .fetch_all(&store.pool)
            .await
            .unwrap();
        rows.iter()
            .map(|row| col::<String>(row, 3).unwrap())
            .collect()
    }

    #[tokio::test]
    async fn affected_items_are_found_by_key_never_by_reading_every_reference() {
        let store = SqliteScopeStore::open_in_memory().await.unwrap();
        let hits = ["1", "'account'", "'u1'", "1", "'identity:user'"];
        let page = [&hits[..], &["0", "NULL", "NULL", "NULL", "51"]].concat();
        let queries = [
            (format!("{}{}", shared::HITS, shared::PAGE), page),
            (format!("{}{}", shared::HITS, shared::COUNTS), hits.to_vec()),
            (
                format!("{}{}", shared::HITS, shared::DISTINCT_ITEMS),
                hits.to_vec(),
            ),
            (
                crate::scope::webhooks::AFFECTED_ITEMS.to_string(),
                vec!["1", "0", "1", "0"],
            ),
        ];
        for (sql, values) in queries {
            let plan = plan(&store, &sql, &values).await;
            // Each read of the references names the identity (an index) or one reference.
            let reads: Vec<&String> = plan
                .iter()
                .filter(|step| {
                    [
                        "SEARCH r ",
                        "SEARCH i ",
                        "SCAN r",
                        "SCAN i",
                        "SEARCH scope_item_refs ",
                        "SCAN scope_item_refs",
                    ]
                    .iter()
                    .any(|start| step.starts_with(start))
                })
                .collect();
            assert!(!reads.is_empty(), "{plan:?}");
            for step in reads {
                assert!(
                    step.contains("INDEX scope_item_refs_by_")
                        && (step.contains("identity=?") || step.contains("identity_folded=?"))
                        || step.contains("PRIMARY KEY (scope_id=? AND seq=?)"),
                    "{step} in {plan:?}"
                );
            }
        }
    }
}
