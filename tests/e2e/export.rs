//! `livedesk events export` (`livedesk::export::run`) over the real store:
//! only the site's events, in position order, within the time bounds.

use std::time::Duration;

use chrono::{DateTime, Utc};
use livedesk::export::{self, CSV_HEADER, Format, Request};
use livedesk_domain::{Actor, Metadata, NewEvent, RecordedEvent, StreamName};
use livedesk_eventstore::{EventStore, ExpectedVersion, Filter, PgEventStore, PgStoreConfig};
use serde_json::Value;
use serde_json::value::RawValue;
use sqlx::PgPool;
use uuid::Uuid;

/// Three rounds, 30 ms apart; each appends two events to a new
/// conversation of site A, then two to one of site B. Returns every event
/// as stored, in position order.
async fn two_sites(store: &PgEventStore, a: Uuid, b: Uuid) -> Vec<RecordedEvent> {
    for round in 0..3 {
        for site in [a, b] {
            let stream = StreamName::for_id("conversation", Uuid::now_v7()).expect("stream");
            let events = (0..2)
                .map(|n| NewEvent {
                    event_id: Uuid::now_v7(),
                    event_type: "MessagePosted".into(),
                    schema_version: 2,
                    // Odd spacing, a comma and quotes: kept byte for byte.
                    payload: RawValue::from_string(format!(
                        "{{\"body\": \"round {round}, \\\"{n}\\\"\",  \"site\":\"{site}\"}}"
                    ))
                    .expect("json"),
                    metadata: Metadata {
                        site_id: Some(site),
                        actor: (n == 0).then(|| Actor::Visitor(Uuid::now_v7())),
                        correlation_id: Some(Uuid::now_v7()),
                        causation_id: None,
                        command_id: Some(Uuid::now_v7()),
                    },
                })
                .collect();
            store
                .append(&stream, ExpectedVersion::NoStream, events)
                .await
                .expect("append");
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    let all = store.read_all(0, 1000, &Filter::all()).await.expect("read_all");
    assert_eq!(all.len(), 12);
    all
}

async fn exported(store: &PgEventStore, request: &Request) -> String {
    let mut out = Vec::new();
    let summary = export::run(store, request, &mut out).await.expect("export");
    let text = String::from_utf8(out).expect("utf-8");
    let lines = match request.format {
        Format::Jsonl => text.lines().count(),
        Format::Csv => text.split("\r\n").filter(|l| !l.is_empty()).count() - 1,
    };
    assert_eq!(summary.events as usize, lines, "{text}");
    text
}

/// Each JSONL line's envelope, checked field by field against the stored
/// event with the same position; returns the event ids in file order.
fn check_jsonl(text: &str, stored: &[RecordedEvent]) -> Vec<Uuid> {
    text.lines()
        .map(|line| {
            let value: Value = serde_json::from_str(line).expect("a JSON object per line");
            let event = stored
                .iter()
                .find(|e| Some(e.position) == value["position"].as_u64())
                .expect("a stored position");
            let id = |id: Option<Uuid>| id.map_or(Value::Null, |id| Value::String(id.to_string()));
            assert_eq!(value["event_id"], event.event_id.to_string());
            assert_eq!(value["stream_id"], event.stream.as_str());
            assert_eq!(value["stream_version"], event.stream_version);
            assert_eq!(value["event_type"], event.event_type);
            assert_eq!(value["schema_version"], event.schema_version);
            let recorded_at: DateTime<Utc> = value["recorded_at"]
                .as_str()
                .and_then(|t| t.parse().ok())
                .expect("recorded_at");
            assert_eq!(recorded_at, event.recorded_at);
            let metadata = &value["metadata"];
            assert_eq!(metadata["site_id"], id(event.metadata.site_id));
            assert_eq!(
                metadata["actor"],
                event
                    .metadata
                    .actor
                    .as_ref()
                    .map_or(Value::Null, |a| Value::String(a.to_string()))
            );
            assert_eq!(metadata["correlation_id"], id(event.metadata.correlation_id));
            assert_eq!(metadata["causation_id"], Value::Null);
            assert_eq!(metadata["command_id"], id(event.metadata.command_id));
            assert!(
                line.ends_with(&format!(",\"payload\":{}}}", event.payload.get())),
                "payload as stored: {line}"
            );
            event.event_id
        })
        .collect()
}

/// RFC 4180 records (quoted fields may hold commas, quotes and CRLF).
pub(crate) fn csv_records(text: &str) -> Vec<Vec<String>> {
    let (mut records, mut record, mut field) = (Vec::new(), Vec::new(), String::new());
    let (mut quoted, mut chars) = (false, text.chars().peekable());
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') if chars.peek() == Some(&'\n') => {
                chars.next();
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(record.is_empty() && field.is_empty(), "the last record ends with CRLF");
    records
}

fn check_csv(text: &str, stored: &[RecordedEvent]) -> Vec<Uuid> {
    assert!(text.starts_with(CSV_HEADER));
    let records = csv_records(text);
    assert_eq!(records[0].join(","), CSV_HEADER.trim_end());
    records[1..]
        .iter()
        .map(|r| {
            assert_eq!(r.len(), 12, "{r:?}");
            let event = stored
                .iter()
                .find(|e| e.position.to_string() == r[0])
                .expect("a stored position");
            let id = |id: Option<Uuid>| id.map(|id| id.to_string()).unwrap_or_default();
            let recorded_at: DateTime<Utc> = r[1].parse().expect("recorded_at");
            assert_eq!(recorded_at, event.recorded_at);
            assert_eq!(r[2], event.stream.as_str());
            assert_eq!(r[3], event.stream_version.to_string());
            assert_eq!(r[4], event.event_type);
            assert_eq!(r[5], event.schema_version.to_string());
            assert_eq!(r[6], event.event_id.to_string());
            assert_eq!(
                r[7],
                event
                    .metadata
                    .actor
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default()
            );
            assert_eq!(r[8], id(event.metadata.correlation_id));
            assert_eq!(r[9], "");
            assert_eq!(r[10], id(event.metadata.command_id));
            assert_eq!(r[11], event.payload.get());
            event.event_id
        })
        .collect()
}

#[sqlx::test(migrations = false)]
async fn an_export_holds_exactly_the_sites_events_in_order_within_its_bounds(pool: PgPool) {
    livedesk_eventstore::MIGRATOR.run(&pool).await.expect("migrations");
    let store = PgEventStore::new(pool, PgStoreConfig::default());
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    let stored = two_sites(&store, a, b).await;
    let of_a: Vec<&RecordedEvent> = stored.iter().filter(|e| e.metadata.site_id == Some(a)).collect();
    let b_ids: Vec<String> = stored
        .iter()
        .filter(|e| e.metadata.site_id == Some(b))
        .map(|e| e.event_id.to_string())
        .collect();
    // Round 2 starts at A's third event, round 3 at its fifth.
    let (from, to) = (of_a[2].recorded_at, of_a[4].recorded_at);
    assert!(of_a[1].recorded_at < from && of_a[3].recorded_at < to);

    for format in [Format::Jsonl, Format::Csv] {
        let check = |text: &str| match format {
            Format::Jsonl => check_jsonl(text, &stored),
            Format::Csv => check_csv(text, &stored),
        };
        for (bounds, expected) in [
            ((None, None), &of_a[..]),
            ((Some(from), Some(to)), &of_a[2..4]),
            ((Some(from), None), &of_a[2..]),
            ((None, Some(to)), &of_a[..4]),
        ] {
            let request = Request {
                site: a,
                from: bounds.0,
                to: bounds.1,
                format,
            };
            let text = exported(&store, &request).await;
            let expected: Vec<Uuid> = expected.iter().map(|e| e.event_id).collect();
            assert_eq!(check(&text), expected, "{format:?} {bounds:?}:\n{text}");
            assert!(!text.contains(&b.to_string()), "site B in {format:?}:\n{text}");
            assert!(b_ids.iter().all(|id| !text.contains(id.as_str())));
        }
    }

    let nothing = Request {
        site: Uuid::now_v7(),
        from: None,
        to: None,
        format: Format::Csv,
    };
    assert_eq!(exported(&store, &nothing).await, CSV_HEADER);
}
