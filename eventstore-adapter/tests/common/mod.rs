//! Helpers shared by the event store test binaries.
#![allow(dead_code)]

use livedesk_domain::{Actor, Metadata, NewEvent, StreamName};
use serde_json::value::{RawValue, to_raw_value};
use uuid::Uuid;

pub fn stream(category: &str) -> StreamName {
    StreamName::for_id(category, Uuid::now_v7()).expect("legal stream name")
}

pub fn payload(value: serde_json::Value) -> Box<RawValue> {
    to_raw_value(&value).expect("json")
}

pub fn event(event_type: &str, n: u64) -> NewEvent {
    NewEvent {
        event_id: Uuid::now_v7(),
        event_type: event_type.to_owned(),
        schema_version: 1,
        payload: payload(serde_json::json!({ "n": n })),
        metadata: Metadata::default(),
    }
}

pub fn events(count: u64) -> Vec<NewEvent> {
    (0..count).map(|n| event("Tested", n)).collect()
}

pub fn with_site(mut event: NewEvent, site: Uuid) -> NewEvent {
    event.metadata.site_id = Some(site);
    event.metadata.actor = Some(Actor::System);
    event
}

pub fn with_command(events: Vec<NewEvent>, command_id: Uuid) -> Vec<NewEvent> {
    events
        .into_iter()
        .map(|mut e| {
            e.metadata.command_id = Some(command_id);
            e
        })
        .collect()
}

/// Asserts positions strictly increase and returns them.
pub fn assert_strictly_increasing(positions: &[u64]) {
    for pair in positions.windows(2) {
        assert!(
            pair[0] < pair[1],
            "positions out of order: {} then {}",
            pair[0],
            pair[1]
        );
    }
}
