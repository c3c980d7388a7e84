//! Set-based reads and writes of read model tables: a live batch reads the
//! rows it needs with one statement ([`Reads`]) and writes them back with
//! one ([`Writes`]); rows travel as `jsonb` arrays whose keys are the
//! column names. A rebuild writes whole tables at once with `COPY` instead
//! ([`Table::encode`]).
//!
//! A leader keeps the rows it wrote in a [`RowCache`]: it is the only
//! writer of its tables while it holds the lock, so the next batch that
//! needs them takes them from memory and reads only the others.

use std::any::Any;
use std::collections::{HashMap, VecDeque};
use std::marker::PhantomData;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use sqlx::PgConnection;
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

    fn upsert_sql(&self, param: usize) -> String {
        let columns = self.columns.join(", ");
        let excluded = self
            .columns
            .iter()
            .map(|c| format!("excluded.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "INSERT INTO {name} ({columns}) SELECT {columns} FROM jsonb_populate_recordset(NULL::{name}, ${param}::jsonb) \
             ON CONFLICT ({key}) DO UPDATE SET ({columns}) = ROW({excluded})",
            name = self.name,
            key = self.key,
        )
    }

    fn insert_sql(&self, param: usize) -> String {
        let columns = self.columns.join(", ");
        format!(
            "INSERT INTO {name} ({columns}) SELECT {columns} FROM jsonb_populate_recordset(NULL::{name}, ${param}::jsonb)",
            name = self.name
        )
    }
}

/// A cached row, its type erased.
type AnyRow = Box<dyn Any + Send + Sync>;

/// What the cache learns once a [`Writes`] has run.
type Learn = Box<dyn FnOnce(&mut RowCache) + Send>;

/// A row of a read model table, as a projector folds it.
pub(crate) trait Row: Serialize + DeserializeOwned + Clone + Send + Sync + 'static {
    /// Its primary key.
    fn key(&self) -> Uuid;
}

/// The rows a leader wrote in its last batches, by table and key, so that
/// the next batches need not read them back.
///
/// Exact only while nothing but this leader's [`Writes`] changes these
/// rows: a projector's other SQL on a cached table must
/// [`RowCache::forget`] what it touched, and the runtime clears the cache
/// whenever a batch fails (its writes were rolled back) and starts a new
/// one with each leadership. Holds at most its capacity of rows, dropping
/// the least recently written.
pub struct RowCache {
    capacity: usize,
    rows: HashMap<(&'static str, Uuid), (u64, AnyRow)>,
    /// Write order: `(table, key, generation)`; stale entries skipped.
    order: VecDeque<(&'static str, Uuid, u64)>,
    generation: u64,
}

impl std::fmt::Debug for RowCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RowCache")
            .field("capacity", &self.capacity)
            .field("rows", &self.rows.len())
            .finish()
    }
}

impl RowCache {
    /// A cache of at most `capacity` rows; 0 caches nothing (rebuilds).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            rows: HashMap::new(),
            order: VecDeque::new(),
            generation: 0,
        }
    }

    /// A cache that holds nothing.
    pub fn disabled() -> Self {
        Self::new(0)
    }

    /// How many rows it holds.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether it holds no row.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Forgets every row (a batch rolled back).
    pub fn clear(&mut self) {
        self.rows.clear();
        self.order.clear();
    }

    /// Forgets the rows `keys` of `table` (changed by other SQL).
    pub(crate) fn forget(&mut self, table: &Table, keys: impl IntoIterator<Item = Uuid>) {
        for key in keys {
            self.rows.remove(&(table.name, key));
        }
    }

    fn forget_table(&mut self, table: &'static str) {
        self.rows.retain(|(t, _), _| *t != table);
    }

    fn get<R: Row>(&self, table: &'static str, key: Uuid) -> Option<&R> {
        self.rows.get(&(table, key))?.1.downcast_ref()
    }

    fn put<R: Row>(&mut self, table: &'static str, row: R) {
        if self.capacity == 0 {
            return;
        }
        self.generation += 1;
        let key = row.key();
        self.rows.insert((table, key), (self.generation, Box::new(row)));
        self.order.push_back((table, key, self.generation));
        while self.rows.len() > self.capacity {
            let Some((table, key, generation)) = self.order.pop_front() else {
                break;
            };
            if self.rows.get(&(table, key)).is_some_and(|(g, _)| *g == generation) {
                self.rows.remove(&(table, key));
            }
        }
        if self.order.len() > 4 * self.capacity.max(1024) {
            let rows = &self.rows;
            self.order
                .retain(|(table, key, generation)| rows.get(&(*table, *key)).is_some_and(|(g, _)| g == generation));
        }
    }
}

/// The rows a batch needs from several tables: those a [`RowCache`] holds
/// are taken from it, the others read in one round trip (on a busy server
/// each round trip costs milliseconds of lag).
pub(crate) struct Reads<'c> {
    cache: &'c RowCache,
    selects: Vec<String>,
    keys: Vec<Vec<Uuid>>,
    /// Per read: the cached rows, a `Vec<R>`.
    hits: Vec<AnyRow>,
}

/// Which rows of a [`Reads`] to take, and their type.
#[derive(Debug)]
pub(crate) struct ReadIndex<R>(usize, PhantomData<R>);

/// What a [`Reads`] fetched.
pub(crate) struct Fetched {
    read: Vec<Option<String>>,
    hits: Vec<Option<AnyRow>>,
}

impl<'c> Reads<'c> {
    /// Reads that take what `cache` holds.
    pub fn new(cache: &'c RowCache) -> Self {
        Self {
            cache,
            selects: Vec::new(),
            keys: Vec::new(),
            hits: Vec::new(),
        }
    }

    /// Reads the rows of `table` whose key is in `keys`.
    pub fn rows<R: Row>(&mut self, table: &Table, keys: impl IntoIterator<Item = Uuid>) -> ReadIndex<R> {
        let index = self.keys.len();
        let (mut hits, mut missing) = (Vec::<R>::new(), Vec::new());
        for key in keys {
            match self.cache.get::<R>(table.name, key) {
                Some(row) => hits.push(row.clone()),
                None => missing.push(key),
            }
        }
        self.selects.push(format!(
            "(SELECT jsonb_agg(t)::text FROM {} t WHERE {} = ANY(${}))",
            table.name,
            table.key,
            index + 1
        ));
        self.keys.push(missing);
        self.hits.push(Box::new(hits));
        ReadIndex(index, PhantomData)
    }

    /// Runs the reads of the rows the cache does not hold.
    pub async fn fetch(self, conn: &mut PgConnection) -> Result<Fetched, sqlx::Error> {
        let Self {
            selects, keys, hits, ..
        } = self;
        let hits = hits.into_iter().map(Some).collect();
        if keys.iter().all(Vec::is_empty) {
            return Ok(Fetched {
                read: vec![None; keys.len()],
                hits,
            });
        }
        let sql = format!("SELECT ARRAY[{}]", selects.join(", "));
        let mut query = sqlx::query_scalar(sqlx::AssertSqlSafe(sql));
        for keys in keys {
            query = query.bind(keys);
        }
        Ok(Fetched {
            read: query.fetch_one(conn).await?,
            hits,
        })
    }
}

impl Fetched {
    /// The rows read for `index`: cached, then read.
    pub fn take<R: Row>(&mut self, index: ReadIndex<R>) -> Result<Vec<R>, ProjectionError> {
        let mut rows = self
            .hits
            .get_mut(index.0)
            .and_then(Option::take)
            .and_then(|hits| hits.downcast::<Vec<R>>().ok())
            .map(|hits| *hits)
            .unwrap_or_default();
        if let Some(json) = self.read.get_mut(index.0).and_then(Option::take) {
            rows.extend(serde_json::from_str::<Vec<R>>(&json).map_err(ProjectionError::Load)?);
        }
        Ok(rows)
    }
}

/// A batch's writes to several tables, sent as one statement (one
/// data-modifying `WITH` part each; all see the same snapshot, so no two
/// may touch the same row).
#[derive(Default)]
pub(crate) struct Writes {
    parts: Vec<String>,
    params: Vec<Param>,
    /// What the cache learns once the statement has run.
    cached: Vec<Learn>,
}

#[derive(Debug)]
enum Param {
    Rows(String),
    Keys(Vec<Uuid>),
}

impl Writes {
    /// Inserts `rows` into `table`, replacing rows with the same key; the
    /// cache keeps them.
    pub fn upsert<R: Row>(&mut self, table: &Table, rows: Vec<R>) -> Result<(), ProjectionError> {
        if !rows.is_empty() {
            let sql = table.upsert_sql(self.params.len() + 1);
            self.rows(table, sql, &rows)?;
            let name = table.name;
            self.cached.push(Box::new(move |cache: &mut RowCache| {
                for row in rows {
                    cache.put(name, row);
                }
            }));
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
        let keys: Vec<Uuid> = keys.into_iter().collect();
        if !keys.is_empty() {
            let forgotten = keys.clone();
            let table_name = *table;
            self.cached.push(Box::new(move |cache: &mut RowCache| {
                cache.forget(&table_name, forgotten)
            }));
            self.delete_keys(table, table.key, keys);
        }
    }

    /// Deletes the rows of `table` whose `column` is in `keys` (the cache
    /// forgets the whole table: it cannot tell which rows went).
    pub fn delete_where(&mut self, table: &Table, column: &str, keys: impl IntoIterator<Item = Uuid>) {
        let keys: Vec<Uuid> = keys.into_iter().collect();
        if !keys.is_empty() {
            let name = table.name;
            self.cached
                .push(Box::new(move |cache: &mut RowCache| cache.forget_table(name)));
            self.delete_keys(table, column, keys);
        }
    }

    fn delete_keys(&mut self, table: &Table, column: &str, keys: Vec<Uuid>) {
        self.parts.push(format!(
            "DELETE FROM {} WHERE {column} = ANY(${})",
            table.name,
            self.params.len() + 1
        ));
        self.params.push(Param::Keys(keys));
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

    /// Sends the writes; once they ran, `cache` holds the rows upserted
    /// and forgets the rows deleted.
    pub async fn execute(self, conn: &mut PgConnection, cache: &mut RowCache) -> Result<(), sqlx::Error> {
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
        for learn in self.cached {
            learn(cache);
        }
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
