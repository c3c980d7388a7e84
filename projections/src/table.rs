//! Set-based reads and writes of a read model table, one statement per
//! batch: rows travel as one `jsonb` array whose keys are the column names.

use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::PgConnection;
use sqlx::types::Json;
use uuid::Uuid;

/// A read model table keyed by one `uuid` column.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Table {
    /// Unqualified name (resolved through `search_path`).
    pub name: &'static str,
    /// The primary key column.
    pub key: &'static str,
    /// The columns written (generated columns left out); the row
    /// struct's serde names.
    pub columns: &'static [&'static str],
}

impl Table {
    /// The rows whose key is in `keys`.
    pub async fn load<R: DeserializeOwned + Send + Unpin + 'static>(
        &self,
        conn: &mut PgConnection,
        keys: &[Uuid],
    ) -> Result<Vec<R>, sqlx::Error> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT coalesce(jsonb_agg(t), '[]'::jsonb) FROM {} t WHERE {} = ANY($1)",
            self.name, self.key
        );
        let Json(rows): Json<Vec<R>> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(keys)
            .fetch_one(conn)
            .await?;
        Ok(rows)
    }

    /// Inserts `rows`, replacing rows with the same key.
    pub async fn upsert<R: Serialize + Sync>(&self, conn: &mut PgConnection, rows: &[R]) -> Result<(), sqlx::Error> {
        if rows.is_empty() {
            return Ok(());
        }
        let columns = self.columns.join(", ");
        let excluded = self
            .columns
            .iter()
            .map(|c| format!("excluded.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO {name} ({columns}) SELECT {columns} FROM jsonb_populate_recordset(NULL::{name}, $1) \
             ON CONFLICT ({key}) DO UPDATE SET ({columns}) = ROW({excluded})",
            name = self.name,
            key = self.key,
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(Json(rows))
            .execute(conn)
            .await?;
        Ok(())
    }

    /// Inserts `rows`; a key already present is an error.
    pub async fn insert<R: Serialize + Sync>(&self, conn: &mut PgConnection, rows: &[R]) -> Result<(), sqlx::Error> {
        if rows.is_empty() {
            return Ok(());
        }
        let columns = self.columns.join(", ");
        let sql = format!(
            "INSERT INTO {name} ({columns}) SELECT {columns} FROM jsonb_populate_recordset(NULL::{name}, $1)",
            name = self.name
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(Json(rows))
            .execute(conn)
            .await?;
        Ok(())
    }

    /// Deletes the rows whose key is in `keys`.
    pub async fn delete(&self, conn: &mut PgConnection, keys: &[Uuid]) -> Result<(), sqlx::Error> {
        if keys.is_empty() {
            return Ok(());
        }
        let sql = format!("DELETE FROM {} WHERE {} = ANY($1)", self.name, self.key);
        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(keys).execute(conn).await?;
        Ok(())
    }
}
