//! One event as a JSON Lines object or a CSV record.
//!
//! Written by hand straight into the output (no `serde_json::Value` per
//! event): the payload is copied as stored, never parsed again.

use std::io::{self, Write};

use chrono::SecondsFormat;
use livedesk_domain::RecordedEvent;
use uuid::Uuid;

/// The CSV header row.
pub const CSV_HEADER: &str = "position,recorded_at,stream_id,stream_version,event_type,schema_version,event_id,\
                              actor,correlation_id,causation_id,command_id,payload\r\n";

/// Writes `event` as one JSON object and a `\n`.
///
/// # Errors
///
/// Whatever `out` fails with.
pub fn jsonl<W: Write>(out: &mut W, event: &RecordedEvent) -> io::Result<()> {
    let metadata = &event.metadata;
    write!(out, "{{\"position\":{},\"event_id\":", event.position)?;
    uuid(out, Some(event.event_id))?;
    out.write_all(b",\"stream_id\":")?;
    string(out, event.stream.as_str())?;
    write!(out, ",\"stream_version\":{},\"event_type\":", event.stream_version)?;
    string(out, &event.event_type)?;
    write!(
        out,
        ",\"schema_version\":{},\"recorded_at\":\"{}\",\"metadata\":{{\"site_id\":",
        event.schema_version,
        event.recorded_at.to_rfc3339_opts(SecondsFormat::Micros, true)
    )?;
    uuid(out, metadata.site_id)?;
    out.write_all(b",\"actor\":")?;
    match &metadata.actor {
        Some(actor) => string(out, &actor.to_string())?,
        None => out.write_all(b"null")?,
    }
    out.write_all(b",\"correlation_id\":")?;
    uuid(out, metadata.correlation_id)?;
    out.write_all(b",\"causation_id\":")?;
    uuid(out, metadata.causation_id)?;
    out.write_all(b",\"command_id\":")?;
    uuid(out, metadata.command_id)?;
    out.write_all(b"},\"payload\":")?;
    payload_on_one_line(out, event.payload.get())?;
    out.write_all(b"}\n")
}

/// Writes `event` as one CSV record (RFC 4180, CRLF) under [`CSV_HEADER`].
///
/// # Errors
///
/// Whatever `out` fails with.
pub fn csv<W: Write>(out: &mut W, event: &RecordedEvent) -> io::Result<()> {
    let metadata = &event.metadata;
    let id = |id: Option<Uuid>| id.map(|id| id.to_string()).unwrap_or_default();
    write!(
        out,
        "{},{},",
        event.position,
        event.recorded_at.to_rfc3339_opts(SecondsFormat::Micros, true)
    )?;
    field(out, event.stream.as_str())?;
    write!(out, ",{},", event.stream_version)?;
    field(out, &event.event_type)?;
    write!(out, ",{},{},", event.schema_version, event.event_id)?;
    field(
        out,
        &metadata.actor.as_ref().map(ToString::to_string).unwrap_or_default(),
    )?;
    write!(
        out,
        ",{},{},{},",
        id(metadata.correlation_id),
        id(metadata.causation_id),
        id(metadata.command_id)
    )?;
    field(out, event.payload.get())?;
    out.write_all(b"\r\n")
}

/// One CSV field, by the rule of the API's CSV reports: a leading `=`,
/// `+`, `-` or `@` (which spreadsheets read as a formula) gets a `'` in
/// front; a field holding a comma, quote or line break is quoted, its
/// quotes doubled.
fn field<W: Write>(out: &mut W, value: &str) -> io::Result<()> {
    let formula = value.starts_with(['=', '+', '-', '@']);
    if !value.contains([',', '"', '\r', '\n']) {
        if formula {
            out.write_all(b"'")?;
        }
        return out.write_all(value.as_bytes());
    }
    out.write_all(if formula { b"\"'" } else { b"\"" })?;
    let mut rest = value;
    while let Some(quote) = rest.find('"') {
        out.write_all(&rest.as_bytes()[..=quote])?;
        out.write_all(b"\"")?;
        rest = &rest[quote + 1..];
    }
    out.write_all(rest.as_bytes())?;
    out.write_all(b"\"")
}

/// A JSON string literal.
fn string<W: Write>(out: &mut W, value: &str) -> io::Result<()> {
    serde_json::to_writer(&mut *out, value).map_err(io::Error::from)
}

/// A UUID in quotes, or `null`.
fn uuid<W: Write>(out: &mut W, id: Option<Uuid>) -> io::Result<()> {
    let Some(id) = id else {
        return out.write_all(b"null");
    };
    let mut buffer = Uuid::encode_buffer();
    out.write_all(b"\"")?;
    out.write_all(id.hyphenated().encode_lower(&mut buffer).as_bytes())?;
    out.write_all(b"\"")
}

/// The stored payload text. PostgreSQL's `json` keeps the text it was
/// given, whitespace included; a raw line break can only be whitespace
/// between tokens (inside strings JSON escapes it), so it becomes a space
/// and the object stays on its line.
fn payload_on_one_line<W: Write>(out: &mut W, payload: &str) -> io::Result<()> {
    if !payload.contains(['\r', '\n']) {
        return out.write_all(payload.as_bytes());
    }
    out.write_all(payload.replace(['\r', '\n'], " ").as_bytes())
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use livedesk_domain::{Actor, Metadata, StreamName};
    use serde_json::value::RawValue;

    use super::*;

    fn event(payload: &str) -> RecordedEvent {
        RecordedEvent {
            position: 7,
            stream: StreamName::parse("conversation-1").expect("stream"),
            stream_version: 2,
            event_id: Uuid::from_u128(1),
            event_type: "MessagePosted".into(),
            schema_version: 2,
            payload: RawValue::from_string(payload.into()).expect("json"),
            metadata: Metadata {
                site_id: Some(Uuid::from_u128(2)),
                actor: Some(Actor::Bot("builtin".into())),
                correlation_id: Some(Uuid::from_u128(3)),
                causation_id: None,
                command_id: None,
            },
            recorded_at: Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).single().expect("time"),
        }
    }

    fn text(write: impl FnOnce(&mut Vec<u8>) -> io::Result<()>) -> String {
        let mut out = Vec::new();
        write(&mut out).expect("write");
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn a_jsonl_line_is_the_envelope_with_the_payload_as_stored() {
        let line = text(|out| jsonl(out, &event("{\"body\": \"a \\\"b\\\"\",  \"n\":1}")));
        assert_eq!(
            line,
            "{\"position\":7,\"event_id\":\"00000000-0000-0000-0000-000000000001\",\
             \"stream_id\":\"conversation-1\",\"stream_version\":2,\"event_type\":\"MessagePosted\",\
             \"schema_version\":2,\"recorded_at\":\"2026-01-02T03:04:05.000000Z\",\"metadata\":{\
             \"site_id\":\"00000000-0000-0000-0000-000000000002\",\"actor\":\"bot:builtin\",\
             \"correlation_id\":\"00000000-0000-0000-0000-000000000003\",\"causation_id\":null,\
             \"command_id\":null},\"payload\":{\"body\": \"a \\\"b\\\"\",  \"n\":1}}\n"
        );
        let parsed: serde_json::Value = serde_json::from_str(&line).expect("valid json");
        assert_eq!(parsed["payload"]["n"], 1);
    }

    #[test]
    fn a_payload_stored_on_several_lines_stays_on_one() {
        let line = text(|out| jsonl(out, &event("{\n  \"body\": \"x\\ny\"\r\n}")));
        assert_eq!(line.matches('\n').count(), 1);
        let parsed: serde_json::Value = serde_json::from_str(&line).expect("valid json");
        assert_eq!(parsed["payload"]["body"], "x\ny");
    }

    #[test]
    fn a_csv_record_quotes_the_payload_and_leaves_empty_ids_empty() {
        let record = text(|out| csv(out, &event("{\"a\":\"b,c\"}")));
        assert_eq!(
            record,
            "7,2026-01-02T03:04:05.000000Z,conversation-1,2,MessagePosted,2,\
             00000000-0000-0000-0000-000000000001,bot:builtin,00000000-0000-0000-0000-000000000003,,,\
             \"{\"\"a\"\":\"\"b,c\"\"}\"\r\n"
        );
    }

    #[test]
    fn csv_fields_with_commas_quotes_or_formulas_are_escaped() {
        let f = |value: &str| text(|out| field(out, value));
        assert_eq!(f("plain"), "plain");
        assert_eq!(f("a,b"), "\"a,b\"");
        assert_eq!(f("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(f("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(f("=A1,B1"), "\"'=A1,B1\"");
        assert_eq!(f("line\nbreak"), "\"line\nbreak\"");
    }
}
