//! Item references on PostgreSQL (`migrations/postgres/0003_items.sql`); the matching rules and the
//! queries shared with PostgreSQL are in [`crate::scope::items`].

use sqlx::PgConnection;

use super::*;
use crate::scope::items::{
    self as shared, AffectedItem, ItemCounts, ItemFilter, ItemPage, ItemReferenceRow,
    ItemReferencesState,
};

/// Rows per INSERT (`UNNEST` over arrays), as a run writes.
const INSERT_BATCH: usize = 20_000;

impl PostgresScopeStore {
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
        let scope_id = self.lock_scope(&mut tx, scope).await?;
        let (_, scope_row) = self.scope_on(&mut tx, scope).await?;
        sqlx::query("DELETE FROM scope_item_refs WHERE scope_id = $1")
            .bind(scope_id)
            .execute(&mut *tx)
            .await
            .map_err(self.db("replace item references"))?;
        for (batch_index, batch) in rows.chunks(INSERT_BATCH).enumerate() {
            let seqs: Vec<i64> = (0..batch.len())
                .map(|offset| (batch_index * INSERT_BATCH + offset + 1) as i64)
                .collect();
            let text = |field: fn(&ItemReferenceRow) -> &str| {
                batch.iter().map(|row| field(row)).collect::<Vec<&str>>()
            };
            let forms: Vec<(String, String)> = batch
                .iter()
                .map(|row| row.matched_forms(scope_row.source_platform))
                .collect();
            let identities: Vec<&str> = forms
                .iter()
                .map(|(identity, _)| identity.as_str())
                .collect();
            let folded: Vec<&str> = forms.iter().map(|(_, folded)| folded.as_str()).collect();
            let kinds: Vec<&str> = batch.iter().map(|row| kind_str(row.kind)).collect();
            let permissions: Vec<i64> =
                batch.iter().map(|row| i64::from(row.permissions)).collect();
            sqlx::query(
                "INSERT INTO scope_item_refs (scope_id, seq, container, container_type, item, item_type, title, role, kind, identity, identity_folded, permissions) \
                 SELECT $1, s, c, ct, i, it, t, r, k, id, f, p \
                 FROM UNNEST($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::bigint[]) \
                 AS u (s, c, ct, i, it, t, r, k, id, f, p)",
            )
            .bind(scope_id)
            .bind(&seqs)
            .bind(text(|row| &row.container))
            .bind(text(|row| &row.container_type))
            .bind(text(|row| &row.item))
            .bind(text(|row| &row.item_type))
            .bind(text(|row| &row.title))
            .bind(text(|row| &row.role))
            .bind(&kinds)
            .bind(&identities)
            .bind(&folded)
            .bind(&permissions)
            .execute(&mut *tx)
            .await
            .map_err(self.db("store item references"))?;
        }
        let at = context.at;
        sqlx::query(
            "INSERT INTO scope_item_imports (scope_id, refs, items, at, who) VALUES ($1, $2, $3, $4, $5) \
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
        let row: Option<(i64, i64, OffsetDateTime, String)> = sqlx::query_as(
            "SELECT refs, items, at, who FROM scope_item_imports WHERE scope_id = $1",
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
                imported_at: Some(at),
                imported_by: Some(who),
            },
        })
    }

    /// The mapping's id, or `None` when the scope has no such mapping.
    async fn mapping_id(
        &self,
        conn: &mut PgConnection,
        scope_id: i64,
        namespace: &Namespace,
        key: &str,
    ) -> ScopeResult<Option<i64>> {
        sqlx::query_scalar("SELECT id FROM scope_mappings WHERE scope_id = $1 AND namespace = $2 AND source_key = $3")
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
        let sql = format!("{}{}", shared::HITS, shared::PAGE);
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
        let counts_sql = format!("{}{}", shared::HITS, shared::COUNTS);
        let items_sql = format!("{}{}", shared::HITS, shared::DISTINCT_ITEMS);
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
