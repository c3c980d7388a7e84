//! Reading the global log with `COPY ... TO STDOUT (FORMAT binary)`.
//!
//! `read_all` is the hot path of catch-up subscriptions, projection
//! rebuilds and exports. A `COPY` streams rows while the client parses them,
//! and parsing its binary tuples directly costs a fraction of sqlx's
//! per-row decoding (see docs/benchmarks.md). `COPY` takes no bind
//! parameters, so the statement is only built from integers, UUIDs and
//! identifier-like strings ([`copy_statement`] refuses anything else and the
//! caller falls back to a parameterised query).

use chrono::{DateTime, TimeZone, Utc};
use futures::StreamExt;
use livedesk_domain::{Actor, Metadata, RecordedEvent, StreamName};
use serde_json::value::RawValue;
use sqlx::PgPool;
use sqlx::postgres::PgPoolCopyExt;
use uuid::Uuid;

use super::read::COLUMNS;
use crate::{Filter, StoreError};

const SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0";
const FIELDS: i16 = 13;
/// Microseconds between the Unix epoch and PostgreSQL's (2000-01-01).
const PG_EPOCH_OFFSET_US: i64 = 946_684_800_000_000;

/// The `COPY` statement for a `read_all`, or `None` when a filter value is
/// not a plain identifier.
pub(super) fn copy_statement(after: u64, limit: usize, filter: &Filter) -> Option<String> {
    if !filter.is_simple() {
        return None;
    }
    let list = |values: &[String]| -> Option<String> {
        let plain = |v: &String| !v.is_empty() && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.:-".contains(&b));
        values
            .iter()
            .all(plain)
            .then(|| values.iter().map(|v| format!("'{v}'")).collect::<Vec<_>>().join(","))
    };
    let mut sql = format!(
        "COPY (SELECT {COLUMNS} FROM events WHERE position > {}",
        super::read::to_i64(after)
    );
    if !filter.event_types.is_empty() {
        sql.push_str(&format!(" AND event_type IN ({})", list(&filter.event_types)?));
    }
    if !filter.excluded_types.is_empty() {
        sql.push_str(&format!(" AND event_type NOT IN ({})", list(&filter.excluded_types)?));
    }
    if !filter.categories.is_empty() {
        sql.push_str(&format!(" AND stream_category IN ({})", list(&filter.categories)?));
    }
    if let Some(site_id) = filter.site_id {
        sql.push_str(&format!(" AND site_id = '{site_id}'"));
    }
    sql.push_str(&format!(" ORDER BY position LIMIT {limit}) TO STDOUT (FORMAT binary)"));
    Some(sql)
}

/// Runs a statement from [`copy_statement`] and parses its tuples.
pub(super) async fn read(pool: &PgPool, statement: &str, limit: usize) -> Result<Vec<RecordedEvent>, StoreError> {
    let mut chunks = pool.copy_out_raw(statement).await?;
    let mut parser = Parser {
        pending: Vec::new(),
        header_read: false,
        events: Vec::with_capacity(limit.min(10_000)),
    };
    while let Some(chunk) = chunks.next().await {
        parser.feed(&chunk?)?;
    }
    Ok(parser.events)
}

struct Parser {
    /// Bytes of an incomplete tuple carried over to the next chunk.
    pending: Vec<u8>,
    header_read: bool,
    events: Vec<RecordedEvent>,
}

impl Parser {
    fn feed(&mut self, chunk: &[u8]) -> Result<(), StoreError> {
        if self.pending.is_empty() {
            let used = self.parse(chunk)?;
            self.pending.extend_from_slice(&chunk[used..]);
        } else {
            self.pending.extend_from_slice(chunk);
            let pending = std::mem::take(&mut self.pending);
            let used = self.parse(&pending)?;
            self.pending = pending[used..].to_vec();
        }
        Ok(())
    }

    /// Parses every complete piece of `bytes`; returns how many were used.
    fn parse(&mut self, bytes: &[u8]) -> Result<usize, StoreError> {
        let mut cursor = Cursor { bytes, at: 0 };
        if !self.header_read {
            let Some(header) = cursor.take(SIGNATURE.len() + 8) else {
                return Ok(0);
            };
            if &header[..SIGNATURE.len()] != SIGNATURE {
                return Err(corrupt(0, "COPY stream has no binary signature"));
            }
            let extension = i32::from_be_bytes(header[SIGNATURE.len() + 4..].try_into().unwrap_or_default());
            if cursor.take(extension.max(0) as usize).is_none() {
                return Ok(0);
            }
            self.header_read = true;
        }
        loop {
            let start = cursor.at;
            match cursor.tuple()? {
                Some(Some(event)) => self.events.push(event),
                Some(None) => return Ok(bytes.len()),
                None => return Ok(start),
            }
        }
    }
}

struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let slice = self.bytes.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(slice)
    }

    fn int<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N).and_then(|s| s.try_into().ok())
    }

    /// One field: `None` when incomplete, `Some(None)` for SQL NULL.
    fn field(&mut self) -> Option<Option<&'a [u8]>> {
        let len = i32::from_be_bytes(self.int::<4>()?);
        if len < 0 {
            Some(None)
        } else {
            self.take(len as usize).map(Some)
        }
    }

    /// One tuple: `Ok(None)` when incomplete, `Ok(Some(None))` at the
    /// trailer.
    fn tuple(&mut self) -> Result<Option<Option<RecordedEvent>>, StoreError> {
        let Some(count) = self.int::<2>().map(i16::from_be_bytes) else {
            return Ok(None);
        };
        if count == -1 {
            return Ok(Some(None));
        }
        if count != FIELDS {
            return Err(corrupt(0, "COPY tuple has an unexpected number of fields"));
        }
        let mut fields: [Option<&[u8]>; FIELDS as usize] = [None; FIELDS as usize];
        for field in &mut fields {
            let Some(value) = self.field() else { return Ok(None) };
            *field = value;
        }
        decode(&fields).map(|event| Some(Some(event)))
    }
}

fn decode(f: &[Option<&[u8]>; FIELDS as usize]) -> Result<RecordedEvent, StoreError> {
    let position = f[0].and_then(be_i64).ok_or_else(|| corrupt(0, "position"))?;
    let at = position as u64;
    let text = |i: usize, what: &str| -> Result<&str, StoreError> {
        f[i].and_then(|b| std::str::from_utf8(b).ok())
            .ok_or_else(|| corrupt(at, what))
    };
    let uuid = |i: usize| {
        f[i].map(|b| Uuid::from_slice(b).map_err(|_| corrupt(at, "uuid")))
            .transpose()
    };
    let stream = StreamName::parse(text(1, "stream_id")?).map_err(|e| corrupt(at, &e.to_string()))?;
    let payload = RawValue::from_string(text(6, "payload")?.to_owned()).map_err(|e| corrupt(at, &e.to_string()))?;
    let actor = match f[8] {
        None => None,
        Some(_) => Some(
            text(8, "actor")?
                .parse::<Actor>()
                .map_err(|e| corrupt(at, &e.to_string()))?,
        ),
    };
    let micros = f[12].and_then(be_i64).ok_or_else(|| corrupt(at, "recorded_at"))?;
    let recorded_at: DateTime<Utc> = Utc
        .timestamp_micros(micros.saturating_add(PG_EPOCH_OFFSET_US))
        .single()
        .ok_or_else(|| corrupt(at, "recorded_at out of range"))?;
    Ok(RecordedEvent {
        position: at,
        stream,
        stream_version: f[2].and_then(be_i64).ok_or_else(|| corrupt(at, "stream_version"))? as u64,
        event_id: uuid(3)?.ok_or_else(|| corrupt(at, "event_id"))?,
        event_type: text(4, "event_type")?.to_owned(),
        schema_version: f[5].and_then(be_i32).ok_or_else(|| corrupt(at, "schema_version"))? as u32,
        payload,
        metadata: Metadata {
            site_id: uuid(7)?,
            actor,
            correlation_id: uuid(9)?,
            causation_id: uuid(10)?,
            command_id: uuid(11)?,
        },
        recorded_at,
    })
}

fn be_i64(bytes: &[u8]) -> Option<i64> {
    bytes.try_into().ok().map(i64::from_be_bytes)
}

fn be_i32(bytes: &[u8]) -> Option<i32> {
    bytes.try_into().ok().map(i32::from_be_bytes)
}

fn corrupt(position: u64, reason: &str) -> StoreError {
    StoreError::Corrupt {
        position,
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_values_that_are_not_identifiers_fall_back_to_bound_parameters() {
        let odd = Filter {
            event_types: vec!["x') OR true --".into()],
            ..Filter::all()
        };
        assert!(copy_statement(0, 10, &odd).is_none());
        let odd_exclusion = Filter {
            excluded_types: vec!["x') OR true --".into()],
            ..Filter::all()
        };
        assert!(copy_statement(0, 10, &odd_exclusion).is_none());
        let plain = Filter {
            event_types: vec!["MessagePosted".into()],
            excluded_types: vec!["NotePosted".into()],
            categories: vec!["conversation".into()],
            ..Filter::all()
        };
        let sql = copy_statement(5, 10, &plain).expect("plain filter");
        assert!(sql.contains(
            "position > 5 AND event_type IN ('MessagePosted') AND event_type NOT IN ('NotePosted') \
             AND stream_category IN ('conversation')"
        ));
    }
}
