//! Set-based reads and writes of read model tables: a live batch reads the
//! rows it needs with one statement ([`Reads`]) and writes them back with
//! one ([`Writes`]); rows travel as `jsonb` arrays whose keys are the
//! column names. A rebuild writes whole tables at once with `COPY` instead
//! ([`Table::encode`]).

use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::ProjectionError;

mod copy_text;

use copy_text::RowEncoder;

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
    /// Encodes `rows` for [`CopyRows::write`]: each row struct is
    /// serialised straight into `COPY` text, each of [`Table::columns`]
    /// from the field of that name (a missing one is `NULL`); `jsonb`
    /// columns and nested values as JSON text.
    ///
    /// # Errors
    ///
    /// A row that is not a struct, or a field that does not serialise.
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
        let mut encoder = RowEncoder::new(self.columns, self.json);
        let mut count = 0;
        for row in rows {
            encoder.row(row)?;
            count += 1;
        }
        Ok(CopyRows {
            table: self.name,
            columns: self.columns,
            data: encoder.out,
            rows: count,
        })
    }

    fn upsert_sql(&self, param: usize) -> String {
        let columns = self.columns.join(", ");
        let excluded = self
            .columns
            .iter()
            .map(|c| format!("excluded.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "INSERT INTO {name} ({columns}) SELECT {columns} FROM json_populate_recordset(NULL::{name}, ${param}::json) \
             ON CONFLICT ({key}) DO UPDATE SET ({columns}) = ROW({excluded})",
            name = self.name,
            key = self.key,
        )
    }

    fn insert_sql(&self, param: usize) -> String {
        let columns = self.columns.join(", ");
        format!(
            "INSERT INTO {name} ({columns}) SELECT {columns} FROM json_populate_recordset(NULL::{name}, ${param}::json)",
            name = self.name
        )
    }
}

/// The rows a batch needs from several tables, read in one round trip (on
/// a busy server each round trip costs milliseconds of lag).
#[derive(Debug, Default)]
pub(crate) struct Reads {
    selects: Vec<String>,
    keys: Vec<Vec<Uuid>>,
}

/// Which rows of a [`Reads`] to take.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReadIndex(usize);

/// What a [`Reads`] fetched.
#[derive(Debug)]
pub(crate) struct Fetched(Vec<Option<String>>);

impl Reads {
    /// Reads the rows of `table` whose key is in `keys`.
    pub fn rows(&mut self, table: &Table, keys: impl IntoIterator<Item = Uuid>) -> ReadIndex {
        let index = self.keys.len();
        self.selects.push(format!(
            "(SELECT json_agg(t)::text FROM {} t WHERE {} = ANY(${}))",
            table.name,
            table.key,
            index + 1
        ));
        self.keys.push(keys.into_iter().collect());
        ReadIndex(index)
    }

    /// Runs the reads.
    pub async fn fetch(self, conn: &mut PgConnection) -> Result<Fetched, sqlx::Error> {
        if self.keys.iter().all(Vec::is_empty) {
            return Ok(Fetched(vec![None; self.keys.len()]));
        }
        let sql = format!("SELECT ARRAY[{}]", self.selects.join(", "));
        let mut query = sqlx::query_scalar(sqlx::AssertSqlSafe(sql));
        for keys in self.keys {
            query = query.bind(keys);
        }
        Ok(Fetched(query.fetch_one(conn).await?))
    }
}

impl Fetched {
    /// The rows read for `index`.
    pub fn take<R: DeserializeOwned>(&mut self, index: ReadIndex) -> Result<Vec<R>, ProjectionError> {
        match self.0.get_mut(index.0).and_then(Option::take) {
            Some(json) => serde_json::from_str(&json).map_err(ProjectionError::Load),
            None => Ok(Vec::new()),
        }
    }
}

/// A batch's writes to several tables, sent as one statement (one
/// data-modifying `WITH` part each; all see the same snapshot, so no two
/// may touch the same row).
#[derive(Debug, Default)]
pub(crate) struct Writes {
    parts: Vec<String>,
    params: Vec<Param>,
}

#[derive(Debug)]
enum Param {
    Rows(String),
    Keys(Vec<Uuid>),
}

impl Writes {
    /// Inserts `rows` into `table`, replacing rows with the same key.
    pub fn upsert<R: Serialize>(&mut self, table: &Table, rows: &[R]) -> Result<(), ProjectionError> {
        if !rows.is_empty() {
            let sql = table.upsert_sql(self.params.len() + 1);
            self.rows(table, sql, rows)?;
        }
        Ok(())
    }

    /// Inserts `rows` into `table`; a key already present is an error.
    /// (Live batches insert rather than `COPY`: a `COPY` takes more round
    /// trips, which showed as tens of milliseconds of lag per batch.)
    pub fn insert<R: Serialize>(&mut self, table: &Table, rows: &[R]) -> Result<(), ProjectionError> {
        if !rows.is_empty() {
            let sql = table.insert_sql(self.params.len() + 1);
            self.rows(table, sql, rows)?;
        }
        Ok(())
    }

    /// Deletes the rows of `table` whose key is in `keys`.
    pub fn delete(&mut self, table: &Table, keys: impl IntoIterator<Item = Uuid>) {
        self.delete_where(table, table.key, keys);
    }

    /// Deletes the rows of `table` whose `column` is in `keys`.
    pub fn delete_where(&mut self, table: &Table, column: &str, keys: impl IntoIterator<Item = Uuid>) {
        let keys: Vec<Uuid> = keys.into_iter().collect();
        if !keys.is_empty() {
            self.parts.push(format!(
                "DELETE FROM {} WHERE {column} = ANY(${})",
                table.name,
                self.params.len() + 1
            ));
            self.params.push(Param::Keys(keys));
        }
    }

    fn rows<R: Serialize>(&mut self, table: &Table, sql: String, rows: &[R]) -> Result<(), ProjectionError> {
        let json = serde_json::to_string(rows).map_err(|source| ProjectionError::Encode {
            table: table.name,
            source,
        })?;
        self.parts.push(sql);
        self.params.push(Param::Rows(json));
        Ok(())
    }

    /// Sends the writes.
    pub async fn execute(self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        let sql = match self.parts.as_slice() {
            [] => return Ok(()),
            [one] => one.clone(),
            parts => {
                let with: Vec<String> = parts
                    .iter()
                    .enumerate()
                    .map(|(i, p)| format!("w{i} AS ({p})"))
                    .collect();
                format!("WITH {} SELECT 1", with.join(", "))
            }
        };
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for param in self.params {
            query = match param {
                Param::Rows(json) => query.bind(json),
                Param::Keys(keys) => query.bind(keys),
            };
        }
        query.execute(conn).await?;
        Ok(())
    }
}
