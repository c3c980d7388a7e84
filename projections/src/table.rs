//! Set-based reads and writes of a read model table, one statement per
//! batch: rows travel as one `jsonb` array whose keys are the column names.
//! A rebuild writes whole tables at once with `COPY` instead
//! ([`Table::encode`]).

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use sqlx::PgConnection;
use sqlx::types::Json;
use uuid::Uuid;

use crate::ProjectionError;

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
    /// Those of `columns` that are `jsonb`.
    pub json: &'static [&'static str],
}

/// Rows of one table encoded for `COPY ... FROM STDIN` (text format).
#[derive(Debug)]
pub struct CopyRows {
    table: &'static str,
    columns: &'static [&'static str],
    data: Vec<u8>,
    rows: u64,
}

impl CopyRows {
    /// How many rows it holds.
    pub fn len(&self) -> u64 {
        self.rows
    }

    /// Whether it holds no row.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Writes the rows into the table (resolved through `search_path`).
    pub(crate) async fn write(self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        if self.rows == 0 {
            return Ok(());
        }
        let statement = format!("COPY {} ({}) FROM STDIN", self.table, self.columns.join(", "));
        let mut copy = conn.copy_in_raw(&statement).await?;
        copy.send(self.data).await?;
        copy.finish().await?;
        Ok(())
    }
}

impl Table {
    /// Encodes `rows` for [`CopyRows::write`]: each row is serialised, and
    /// each of [`Table::columns`] taken from it by name (a missing one is
    /// `NULL`); objects and arrays go to `jsonb` columns as JSON text.
    ///
    /// # Errors
    ///
    /// A row that does not serialise to a JSON object.
    pub fn encode<'r, R: Serialize + 'r>(
        &self,
        rows: impl IntoIterator<Item = &'r R>,
    ) -> Result<CopyRows, ProjectionError> {
        self.encode_rows(rows).map_err(|source| ProjectionError::Encode {
            table: self.name,
            source,
        })
    }

    fn encode_rows<'r, R: Serialize + 'r>(
        &self,
        rows: impl IntoIterator<Item = &'r R>,
    ) -> Result<CopyRows, serde_json::Error> {
        let mut data = Vec::new();
        let mut count = 0;
        for row in rows {
            let Value::Object(fields) = serde_json::to_value(row)? else {
                return Err(serde::ser::Error::custom(format!(
                    "a row of {} is not a JSON object",
                    self.name
                )));
            };
            for (i, column) in self.columns.iter().enumerate() {
                if i > 0 {
                    data.push(b'\t');
                }
                copy_field(&mut data, fields.get(*column), self.json.contains(column));
            }
            data.push(b'\n');
            count += 1;
        }
        Ok(CopyRows {
            table: self.name,
            columns: self.columns,
            data,
            rows: count,
        })
    }

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

    /// Inserts `rows`; a key already present is an error. (Live batches
    /// insert rather than `COPY`: a `COPY` takes more round trips, which
    /// showed as tens of milliseconds of lag per batch.)
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

/// One field in `COPY` text format: `\N` for null, backslash escapes for
/// the delimiter, line breaks and the backslash itself.
fn copy_field(out: &mut Vec<u8>, value: Option<&Value>, json: bool) {
    match value {
        None | Some(Value::Null) => out.extend_from_slice(b"\\N"),
        Some(value) if json => copy_text(out, &value.to_string()),
        Some(Value::Bool(b)) => out.push(if *b { b't' } else { b'f' }),
        Some(Value::Number(n)) => out.extend_from_slice(n.to_string().as_bytes()),
        Some(Value::String(s)) => copy_text(out, s),
        Some(other) => copy_text(out, &other.to_string()),
    }
}

fn copy_text(out: &mut Vec<u8>, text: &str) {
    for byte in text.bytes() {
        match byte {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            other => out.push(other),
        }
    }
}
