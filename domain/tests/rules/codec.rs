use std::collections::BTreeSet;

use livedesk_domain::agent::AgentEvent;
use livedesk_domain::conversation::{Author, ConversationEvent, MessagePosted};
use livedesk_domain::session::SessionEvent;
use livedesk_domain::site::SiteEvent;
use livedesk_domain::visitor::VisitorEvent;
use livedesk_domain::{DecodeError, EventCodec, VisitorId};
use serde_json::value::RawValue;

use crate::given::{at, id};

fn raw(json: &str) -> Box<RawValue> {
    RawValue::from_string(json.to_owned()).expect("valid JSON")
}

fn all_event_types() -> Vec<(&'static str, u32)> {
    [
        SiteEvent::EVENT_TYPES,
        AgentEvent::EVENT_TYPES,
        VisitorEvent::EVENT_TYPES,
        SessionEvent::EVENT_TYPES,
        ConversationEvent::EVENT_TYPES,
    ]
    .concat()
}

#[test]
fn a_message_posted_with_schema_v1_still_loads_without_attachments_or_client_id() {
    let v1 = raw(r#"{"message_id":"00000000-0000-0000-0000-00000000000a",
            "author":{"type":"visitor","visitor_id":"00000000-0000-0000-0000-000000000007"},
            "body":"Hello from 2024","at":"2025-01-06T09:01:00Z"}"#);
    let event = ConversationEvent::decode("MessagePosted", 1, &v1).expect("v1 is upcast");
    let visitor: VisitorId = id(7);
    assert_eq!(
        event,
        ConversationEvent::MessagePosted(MessagePosted {
            message_id: id(10),
            author: Author::Visitor { visitor_id: visitor },
            body: "Hello from 2024".into(),
            attachments: vec![],
            client_message_id: None,
            at: at(1),
        })
    );
    assert_eq!(event.schema_version(), 2, "re-encoding writes today's schema");
}

#[test]
fn the_payload_is_the_event_struct_alone_with_no_enum_wrapper() {
    let event = ConversationEvent::MessagePosted(MessagePosted {
        message_id: id(10),
        author: Author::Bot { name: "builtin".into() },
        body: "Hi".into(),
        attachments: vec![],
        client_message_id: Some("c-1".into()),
        at: at(1),
    });
    let json: serde_json::Value = serde_json::from_str(event.encode().expect("encodes").get()).expect("JSON");
    assert_eq!(json["body"], "Hi");
    assert_eq!(json["author"]["type"], "bot");
    assert_eq!(json["client_message_id"], "c-1");
    assert_eq!(event.event_type(), "MessagePosted");
}

#[test]
fn an_unknown_type_a_newer_version_and_a_malformed_payload_are_told_apart() {
    let payload = raw("{}");
    assert!(
        matches!(ConversationEvent::decode("SessionStarted", 1, &payload), Err(DecodeError::UnknownType(t)) if t == "SessionStarted")
    );
    assert!(matches!(
        ConversationEvent::decode("MessagePosted", 3, &payload),
        Err(DecodeError::UnsupportedVersion { found: 3, known: 2, .. })
    ));
    assert!(matches!(
        ConversationEvent::decode("MessagePosted", 2, &payload),
        Err(DecodeError::Malformed { schema_version: 2, .. })
    ));
}

#[test]
fn event_type_names_are_unique_across_all_aggregates() {
    let all = all_event_types();
    let unique: BTreeSet<_> = all.iter().map(|(name, _)| name).collect();
    assert_eq!(unique.len(), all.len());
}

#[test]
fn the_event_catalogue_documents_every_event_with_its_current_version() {
    let catalogue = include_str!("../../../docs/events.md");
    for (name, version) in all_event_types() {
        let heading = format!("### {name} (v{version})");
        assert!(
            catalogue.contains(&heading),
            "docs/events.md lacks the heading {heading:?}"
        );
    }
}
