//! The contract every `EventStore` adapter passes. Each function is one
//! test; `memory.rs` and `postgres.rs` run all of them against their adapter.

use futures::StreamExt;
use livedesk_domain::StreamName;
use livedesk_eventstore::{Direction, EventStore, ExpectedVersion, Filter, StoreError};
use uuid::Uuid;

use crate::common::*;

pub async fn an_append_to_a_new_stream_starts_at_version_zero<S: EventStore>(store: S) {
    let s = stream("conversation");
    let result = store
        .append(&s, ExpectedVersion::NoStream, events(3))
        .await
        .expect("append");
    assert_eq!(result.stream_version, 2);
    assert_eq!(result.last_position - result.first_position, 2);
    assert!(!result.duplicate);
    let read = store.read_stream(&s, 0, Direction::Forward, 10).await.expect("read");
    assert_eq!(read.iter().map(|e| e.stream_version).collect::<Vec<_>>(), [0, 1, 2]);
    assert_strictly_increasing(&read.iter().map(|e| e.position).collect::<Vec<_>>());
    assert_eq!(read[0].stream, s);
}

pub async fn the_envelope_is_stored_exactly_as_given<S: EventStore>(store: S) {
    let s = stream("session");
    let site = Uuid::now_v7();
    let mut event = with_site(event("PageViewed", 7), site);
    event.schema_version = 3;
    event.metadata.correlation_id = Some(Uuid::now_v7());
    event.metadata.causation_id = Some(Uuid::now_v7());
    event.metadata.command_id = Some(Uuid::now_v7());
    event.payload =
        payload(serde_json::json!({"path": "/pricing", "title": "Prices ✓", "nested": {"a": [1, 2.5, null]}}));
    store
        .append(&s, ExpectedVersion::Any, vec![event.clone()])
        .await
        .expect("append");
    let read = store.read_stream(&s, 0, Direction::Forward, 1).await.expect("read");
    let stored = &read[0];
    assert_eq!(stored.event_id, event.event_id);
    assert_eq!(stored.event_type, "PageViewed");
    assert_eq!(stored.schema_version, 3);
    assert_eq!(stored.metadata, event.metadata);
    assert_eq!(stored.payload.get(), event.payload.get());
    assert!((chrono::Utc::now() - stored.recorded_at).num_seconds().abs() < 60);
    let from_log = store.read_all(0, 10, &Filter::all()).await.expect("read all");
    let json = |e: &livedesk_domain::RecordedEvent| serde_json::to_string(e).expect("json");
    assert_eq!(
        json(&from_log[0]),
        json(stored),
        "read_all and read_stream disagree on the envelope"
    );
}

pub async fn filter_values_are_data_never_sql<S: EventStore>(store: S) {
    store
        .append(&stream("session"), ExpectedVersion::Any, vec![event("it's", 0)])
        .await
        .expect("append");
    store
        .append(&stream("session"), ExpectedVersion::Any, vec![event("Other", 1)])
        .await
        .expect("append");
    let odd = Filter {
        event_types: vec!["it's".into()],
        ..Filter::all()
    };
    let read = store.read_all(0, 10, &odd).await.expect("read");
    assert_eq!(read.iter().map(|e| e.event_type.as_str()).collect::<Vec<_>>(), ["it's"]);
    let injection = Filter {
        categories: vec!["x') OR true --".into()],
        ..Filter::all()
    };
    assert!(store.read_all(0, 10, &injection).await.expect("read").is_empty());
}

pub async fn a_wrong_expected_version_is_a_conflict_and_writes_nothing<S: EventStore>(store: S) {
    let s = stream("conversation");
    store
        .append(&s, ExpectedVersion::NoStream, events(2))
        .await
        .expect("first append");
    let head = store.head().await.expect("head");
    for expected in [
        ExpectedVersion::NoStream,
        ExpectedVersion::Exact(0),
        ExpectedVersion::Exact(5),
    ] {
        match store.append(&s, expected, events(3)).await {
            Err(StoreError::Conflict {
                stream,
                expected: e,
                actual,
            }) => {
                assert_eq!((stream, e, actual), (s.clone(), expected, Some(1)));
            }
            other => panic!("expected a conflict for {expected:?}, got {other:?}"),
        }
    }
    match store
        .append(&stream("conversation"), ExpectedVersion::Exact(0), events(1))
        .await
    {
        Err(StoreError::Conflict { actual: None, .. }) => {}
        other => panic!("expected a conflict on a missing stream, got {other:?}"),
    }
    assert_eq!(store.head().await.expect("head"), head, "a conflict wrote something");
    let ok = store
        .append(&s, ExpectedVersion::Exact(1), events(1))
        .await
        .expect("right version");
    assert_eq!(ok.stream_version, 2);
    let any = store
        .append(&s, ExpectedVersion::Any, events(1))
        .await
        .expect("any version");
    assert_eq!(any.stream_version, 3);
}

pub async fn retried_event_ids_write_nothing_and_return_the_first_result<S: EventStore>(store: S) {
    let s = stream("conversation");
    let batch = events(3);
    let first = store
        .append(&s, ExpectedVersion::NoStream, batch.clone())
        .await
        .expect("append");
    let head = store.head().await.expect("head");
    // The retry carries the same expected version, which no longer holds:
    // it is still answered with the first result, not a conflict.
    let retry = store
        .append(&s, ExpectedVersion::NoStream, batch.clone())
        .await
        .expect("retry");
    assert!(retry.duplicate);
    assert_eq!(
        (retry.first_position, retry.last_position, retry.stream_version),
        (first.first_position, first.last_position, first.stream_version)
    );
    assert_eq!(store.head().await.expect("head"), head);
    let mut mixed = batch;
    mixed.push(event("Tested", 9));
    assert!(matches!(
        store.append(&s, ExpectedVersion::Any, mixed).await,
        Err(StoreError::PartialDuplicate { .. })
    ));
    assert_eq!(store.head().await.expect("head"), head);
}

pub async fn a_retried_command_writes_nothing_and_returns_the_first_result<S: EventStore>(store: S) {
    let s = stream("conversation");
    let command = Uuid::now_v7();
    let first = store
        .append(&s, ExpectedVersion::NoStream, with_command(events(2), command))
        .await
        .expect("append");
    // A retry re-decides the command, so its events have new ids.
    let retry = store
        .append(&s, ExpectedVersion::NoStream, with_command(events(2), command))
        .await
        .expect("retry");
    assert!(retry.duplicate);
    assert_eq!(retry.last_position, first.last_position);
    assert_eq!(
        store
            .read_stream(&s, 0, Direction::Forward, 10)
            .await
            .expect("read")
            .len(),
        2
    );
    let found = store
        .find_command(command)
        .await
        .expect("find")
        .expect("stored command");
    assert_eq!(
        (found.first_position, found.last_position),
        (first.first_position, first.last_position)
    );
    assert!(store.find_command(Uuid::now_v7()).await.expect("find").is_none());
}

pub async fn bad_input_is_refused_with_a_typed_error_and_writes_nothing<S: EventStore>(store: S) {
    let s = stream("conversation");
    assert!(matches!(
        store.append(&s, ExpectedVersion::Any, vec![]).await,
        Err(StoreError::EmptyAppend { .. })
    ));
    let mut big = event("Tested", 0);
    big.payload = payload(serde_json::json!({ "body": "x".repeat(1024 * 1024) }));
    assert!(matches!(
        store.append(&s, ExpectedVersion::Any, vec![big]).await,
        Err(StoreError::EventTooLarge { .. })
    ));
    let mut nul = event("Tested", 0);
    nul.payload = payload(serde_json::json!({ "body": "a\u{0}b" }));
    assert!(matches!(
        store.append(&s, ExpectedVersion::Any, vec![nul]).await,
        Err(StoreError::InvalidEvent { .. })
    ));
    let mut untyped = event("", 0);
    untyped.event_type.clear();
    assert!(matches!(
        store.append(&s, ExpectedVersion::Any, vec![untyped]).await,
        Err(StoreError::InvalidEvent { .. })
    ));
    let twice = event("Tested", 0);
    assert!(matches!(
        store.append(&s, ExpectedVersion::Any, vec![twice.clone(), twice]).await,
        Err(StoreError::InvalidEvent { .. })
    ));
    assert!(matches!(
        store.append(&s, ExpectedVersion::Any, events(10_001)).await,
        Err(StoreError::TooManyEvents { .. })
    ));
    assert!(StreamName::parse("no dash").is_err());
    assert_eq!(store.head().await.expect("head"), 0, "bad input wrote something");
}

pub async fn a_stream_reads_forward_and_backward_with_limits<S: EventStore>(store: S) {
    let s = stream("visitor");
    store
        .append(&s, ExpectedVersion::NoStream, events(5))
        .await
        .expect("append");
    store
        .append(&stream("visitor"), ExpectedVersion::NoStream, events(2))
        .await
        .expect("other stream");
    let versions =
        |events: Vec<livedesk_domain::RecordedEvent>| events.iter().map(|e| e.stream_version).collect::<Vec<_>>();
    assert_eq!(
        versions(store.read_stream(&s, 2, Direction::Forward, 2).await.expect("read")),
        [2, 3]
    );
    assert_eq!(
        versions(
            store
                .read_stream(&s, u64::MAX, Direction::Backward, 2)
                .await
                .expect("read")
        ),
        [4, 3]
    );
    assert_eq!(
        versions(store.read_stream(&s, 1, Direction::Backward, 10).await.expect("read")),
        [1, 0]
    );
    assert!(
        store
            .read_stream(&s, 5, Direction::Forward, 10)
            .await
            .expect("read")
            .is_empty()
    );
    assert!(
        store
            .read_stream(&stream("visitor"), 0, Direction::Forward, 10)
            .await
            .expect("read")
            .is_empty()
    );
}

pub async fn the_global_log_reads_in_position_order_with_filters<S: EventStore>(store: S) {
    let (site_a, site_b) = (Uuid::now_v7(), Uuid::now_v7());
    let (c, v) = (stream("conversation"), stream("visitor"));
    store
        .append(
            &c,
            ExpectedVersion::Any,
            vec![with_site(event("MessagePosted", 0), site_a)],
        )
        .await
        .expect("append");
    store
        .append(
            &v,
            ExpectedVersion::Any,
            vec![with_site(event("VisitorTagged", 1), site_b)],
        )
        .await
        .expect("append");
    store
        .append(
            &c,
            ExpectedVersion::Any,
            vec![with_site(event("NotePosted", 2), site_a)],
        )
        .await
        .expect("append");
    store
        .append(&v, ExpectedVersion::Any, vec![event("VisitorTagged", 3)])
        .await
        .expect("append");
    let all = store.read_all(0, 100, &Filter::all()).await.expect("read");
    assert_eq!(all.len(), 4);
    assert_strictly_increasing(&all.iter().map(|e| e.position).collect::<Vec<_>>());
    let after_first = store.read_all(all[0].position, 2, &Filter::all()).await.expect("read");
    assert_eq!(
        after_first.iter().map(|e| e.position).collect::<Vec<_>>(),
        [all[1].position, all[2].position]
    );
    let types = |f: Filter| {
        let store = store.clone();
        async move {
            store
                .read_all(0, 100, &f)
                .await
                .expect("read")
                .into_iter()
                .map(|e| e.event_type)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        types(Filter {
            site_id: Some(site_a),
            ..Filter::all()
        })
        .await,
        ["MessagePosted", "NotePosted"]
    );
    assert_eq!(
        types(Filter {
            categories: vec!["visitor".into()],
            ..Filter::all()
        })
        .await,
        ["VisitorTagged", "VisitorTagged"]
    );
    let two_types = Filter {
        event_types: vec!["NotePosted".into(), "VisitorTagged".into()],
        ..Filter::all()
    };
    assert_eq!(types(two_types).await.len(), 3);
    let without_notes = types(Filter {
        excluded_types: vec!["NotePosted".into()],
        ..Filter::all()
    })
    .await;
    assert_eq!(without_notes.len(), 3);
    assert!(!without_notes.iter().any(|t| t == "NotePosted"), "{without_notes:?}");
    assert_eq!(store.head().await.expect("head"), all[3].position);
}

pub async fn the_global_log_filters_by_stream_prefix_actor_and_time<S: EventStore>(store: S) {
    let (one, two) = (stream("conversation"), stream("conversation"));
    let agent = livedesk_domain::Actor::Agent(Uuid::now_v7());
    let by_agent = |mut e: livedesk_domain::NewEvent| {
        e.metadata.actor = Some(agent.clone());
        e
    };
    store
        .append(&one, ExpectedVersion::Any, vec![by_agent(event("A", 0)), event("B", 1)])
        .await
        .expect("append");
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    store
        .append(&two, ExpectedVersion::Any, vec![by_agent(event("C", 2))])
        .await
        .expect("append");
    let all = store.read_all(0, 100, &Filter::all()).await.expect("read");
    let types = |f: Filter| {
        let store = store.clone();
        let all = all.clone();
        async move {
            let read: Vec<String> = store
                .read_all(0, 100, &f)
                .await
                .expect("read")
                .into_iter()
                .map(|e| e.event_type)
                .collect();
            let matched: Vec<String> = all
                .iter()
                .filter(|e| f.matches(e))
                .map(|e| e.event_type.clone())
                .collect();
            assert_eq!(read, matched, "read_all and Filter::matches disagree on {f:?}");
            read
        }
    };
    let prefix = Filter {
        stream_prefix: Some(one.as_str().to_owned()),
        ..Filter::all()
    };
    assert_eq!(types(prefix).await, ["A", "B"]);
    let wildcard = Filter {
        stream_prefix: Some("conversation-%".into()),
        ..Filter::all()
    };
    assert!(types(wildcard).await.is_empty(), "a prefix is text, not a LIKE pattern");
    let actor = Filter {
        actor: Some(agent.to_string()),
        ..Filter::all()
    };
    assert_eq!(types(actor).await, ["A", "C"]);
    let actor_but_not_a = Filter {
        actor: Some(agent.to_string()),
        excluded_types: vec!["A".into()],
        ..Filter::all()
    };
    assert_eq!(types(actor_but_not_a).await, ["C"]);
    let at = all[2].recorded_at;
    let before = Filter {
        recorded_to: Some(at),
        ..Filter::all()
    };
    assert_eq!(types(before).await, ["A", "B"]);
    let from = Filter {
        recorded_from: Some(at),
        ..Filter::all()
    };
    assert_eq!(types(from).await, ["C"]);
}

pub async fn a_subscription_catches_up_then_follows_live<S: EventStore>(store: S) {
    let s = stream("conversation");
    store
        .append(&s, ExpectedVersion::NoStream, events(3))
        .await
        .expect("append");
    let mut sub = store.subscribe_all(0, Filter::all());
    let mut seen = Vec::new();
    for _ in 0..3 {
        seen.push(next(&mut sub).await);
    }
    store
        .append(&s, ExpectedVersion::Exact(2), events(2))
        .await
        .expect("append live");
    for _ in 0..2 {
        seen.push(next(&mut sub).await);
    }
    assert_eq!(
        seen.iter().map(|e| e.stream_version).collect::<Vec<_>>(),
        [0, 1, 2, 3, 4]
    );
    assert_strictly_increasing(&seen.iter().map(|e| e.position).collect::<Vec<_>>());
}

pub async fn a_subscription_starts_after_a_position_and_honours_its_filter<S: EventStore>(store: S) {
    let site = Uuid::now_v7();
    let first = store
        .append(&stream("session"), ExpectedVersion::Any, events(2))
        .await
        .expect("append");
    let mut sub = store.subscribe_all(
        first.first_position,
        Filter {
            site_id: Some(site),
            ..Filter::all()
        },
    );
    store
        .append(&stream("session"), ExpectedVersion::Any, events(3))
        .await
        .expect("other site");
    let site_event = vec![with_site(event("SessionStarted", 1), site)];
    let wanted = store
        .append(&stream("session"), ExpectedVersion::Any, site_event)
        .await
        .expect("append");
    let got = next(&mut sub).await;
    assert_eq!(got.position, wanted.last_position);
    assert_eq!(got.metadata.site_id, Some(site));
}

async fn next(sub: &mut livedesk_eventstore::EventStream) -> livedesk_domain::RecordedEvent {
    tokio::time::timeout(std::time::Duration::from_secs(10), sub.next())
        .await
        .expect("no event within 10 s")
        .expect("subscription ended")
        .expect("subscription error")
}

/// Generates one test per contract function for an adapter: `$make` turns
/// the test's input into a store.
#[macro_export]
macro_rules! contract_tests {
    ($attr:meta, ($($input:ident : $ty:ty),*) => $make:expr) => {
        $crate::contract_tests!(@each $attr, ($($input: $ty),*) => $make;
            an_append_to_a_new_stream_starts_at_version_zero,
            the_envelope_is_stored_exactly_as_given,
            filter_values_are_data_never_sql,
            a_wrong_expected_version_is_a_conflict_and_writes_nothing,
            retried_event_ids_write_nothing_and_return_the_first_result,
            a_retried_command_writes_nothing_and_returns_the_first_result,
            bad_input_is_refused_with_a_typed_error_and_writes_nothing,
            a_stream_reads_forward_and_backward_with_limits,
            the_global_log_reads_in_position_order_with_filters,
            the_global_log_filters_by_stream_prefix_actor_and_time,
            a_subscription_catches_up_then_follows_live,
            a_subscription_starts_after_a_position_and_honours_its_filter,
        );
    };
    (@each $attr:meta, $args:tt => $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[$attr]
            async fn $name $args {
                contract::$name($make).await;
            }
        )*
    };
}
