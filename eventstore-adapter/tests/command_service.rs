//! The command service over PostgreSQL with the real `Conversation`
//! aggregate: races between processes, stale caches, retried commands.

mod common;

use chrono::Utc;
use livedesk_domain::conversation::{
    Assignee, Conversation, ConversationCommand, ConversationError, ConversationState, Provider,
};
use livedesk_domain::{AgentRef, ConversationId, Initiator, MessageId, Metadata, Role, SiteId, Staff, VisitorId};
use livedesk_eventstore::{
    CommandContext, CommandError, CommandService, Direction, EventStore, PgEventStore, PgStoreConfig,
};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use uuid::Uuid;

type Service = CommandService<PgEventStore, Conversation>;

/// Two services on two pools: two `livedesk` processes.
async fn two_processes(options: &PgConnectOptions) -> (Service, Service) {
    let mut services = Vec::new();
    for name in ["process-a", "process-b"] {
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .connect_with(options.clone().application_name(name))
            .await
            .expect("connect");
        services.push(CommandService::new(
            PgEventStore::new(pool, PgStoreConfig::default()),
            1000,
        ));
    }
    let b = services.pop().expect("b");
    (services.pop().expect("a"), b)
}

fn agent(name: &str) -> Staff {
    Staff::new(AgentRef::new(Uuid::now_v7().into(), name), Role::Agent)
}

fn context() -> CommandContext {
    CommandContext {
        metadata: Metadata {
            command_id: Some(Uuid::now_v7()),
            ..Metadata::default()
        },
    }
}

async fn open(service: &Service) -> (Uuid, VisitorId) {
    let (id, visitor) = (Uuid::now_v7(), VisitorId::from(Uuid::now_v7()));
    let command = ConversationCommand::open(
        ConversationId(id),
        SiteId(Uuid::now_v7()),
        visitor,
        None,
        Provider::WebChat,
        Utc::now(),
    );
    service.execute(id, command, &context()).await.expect("open");
    (id, visitor)
}

fn assign_to_me(by: &Staff) -> ConversationCommand {
    ConversationCommand::AssignToMe {
        by: by.clone(),
        at: Utc::now(),
    }
}

#[sqlx::test(migrator = "livedesk_eventstore::MIGRATOR")]
async fn two_agents_assigning_to_themselves_at_once_get_one_winner_and_a_domain_answer(
    _: PgPoolOptions,
    options: PgConnectOptions,
) {
    let (a, b) = two_processes(&options).await;
    let (ana, bob) = (agent("Ana"), agent("Bob"));
    for round in 0..50 {
        let (id, _) = open(&a).await;
        // Both processes have the conversation cached as unassigned.
        b.load(id).await.expect("load");
        let (ctx_a, ctx_b) = (context(), context());
        let (ra, rb) = tokio::join!(
            a.execute(id, assign_to_me(&ana), &ctx_a),
            b.execute(id, assign_to_me(&bob), &ctx_b),
        );
        let (winner, loser) = match (&ra, &rb) {
            (Ok(_), Err(e)) => (&ana, e),
            (Err(e), Ok(_)) => (&bob, e),
            _ => panic!("round {round}: expected one winner, got {ra:?} and {rb:?}"),
        };
        match loser {
            CommandError::Rejected(ConversationError::AlreadyAssigned {
                to: Assignee::Agent { agent },
            }) => {
                assert_eq!(
                    agent, &winner.agent,
                    "round {round}: the loser was told the wrong holder"
                );
            }
            other => panic!("round {round}: the loser got {other:?}, not the domain's answer"),
        }
        let stored = a
            .store()
            .read_stream(&stream_of(id), 0, Direction::Forward, 10)
            .await
            .expect("read");
        assert_eq!(stored.len(), 2, "round {round}: opened + exactly one assignment");
    }
}

#[sqlx::test(migrator = "livedesk_eventstore::MIGRATOR")]
async fn processes_with_stale_caches_catch_up_instead_of_losing_writes(_: PgPoolOptions, options: PgConnectOptions) {
    let (a, b) = two_processes(&options).await;
    let (id, visitor) = open(&a).await;
    for n in 0..40 {
        let service = if n % 3 == 0 { &b } else { &a };
        let command =
            ConversationCommand::post_visitor_message(MessageId(Uuid::now_v7()), visitor, format!("m{n}"), Utc::now());
        service.execute(id, command, &context()).await.expect("post");
    }
    let state = a.load(id).await.expect("load");
    let ConversationState::Open(open) = state else {
        panic!("not open")
    };
    assert_eq!(open.message_count, 40);
    let versions: Vec<u64> = a
        .store()
        .read_stream(&stream_of(id), 0, Direction::Forward, 100)
        .await
        .expect("read")
        .iter()
        .map(|e| e.stream_version)
        .collect();
    assert_eq!(versions, (0..41).collect::<Vec<_>>());
}

#[sqlx::test(migrator = "livedesk_eventstore::MIGRATOR")]
async fn a_retried_command_appends_nothing_and_returns_the_first_result(_: PgPoolOptions, options: PgConnectOptions) {
    let (a, b) = two_processes(&options).await;
    let (id, _) = open(&a).await;
    let ana = agent("Ana");
    let ctx = context();
    let first = a.execute(id, assign_to_me(&ana), &ctx).await.expect("assign");
    let first = first.append.expect("appended");
    // The retry reaches another process, whose decision on the current
    // state (already assigned to Ana) would differ: it still gets the
    // first result.
    for service in [&a, &b] {
        let retry = service.execute(id, assign_to_me(&ana), &ctx).await.expect("retry");
        let append = retry.append.expect("first result");
        assert!(append.duplicate);
        assert_eq!(append.last_position, first.last_position);
        assert!(retry.events.is_empty());
    }
    let stored = a
        .store()
        .read_stream(&stream_of(id), 0, Direction::Forward, 10)
        .await
        .expect("read");
    assert_eq!(stored.len(), 2);
}

#[sqlx::test(migrator = "livedesk_eventstore::MIGRATOR")]
async fn a_rejection_decided_on_a_stale_cache_is_confirmed_against_the_store(
    _: PgPoolOptions,
    options: PgConnectOptions,
) {
    let (a, b) = two_processes(&options).await;
    let (id, _) = open(&a).await;
    let (ana, bob) = (agent("Ana"), agent("Bob"));
    a.execute(id, assign_to_me(&ana), &context())
        .await
        .expect("ana takes it");
    // Ana lets it go through the other process; `a` still believes Ana
    // holds it.
    let unassign = ConversationCommand::Unassign {
        by: Initiator::Staff(ana.clone()),
        at: Utc::now(),
    };
    b.execute(id, unassign, &context()).await.expect("ana lets go");
    let bob_takes_it = a
        .execute(id, assign_to_me(&bob), &context())
        .await
        .expect("bob is not refused");
    assert_eq!(bob_takes_it.events.len(), 1);
}

#[sqlx::test(migrator = "livedesk_eventstore::MIGRATOR")]
async fn a_no_op_decided_on_a_stale_cache_is_confirmed_against_the_store(_: PgPoolOptions, options: PgConnectOptions) {
    let (a, b) = two_processes(&options).await;
    let (id, _) = open(&a).await;
    let ana = agent("Ana");
    // Ana takes it over through the other process; `a` still believes
    // nobody holds it, so releasing looks like a no-op there.
    let take_over = ConversationCommand::TakeOver {
        by: ana.clone(),
        at: Utc::now(),
    };
    b.execute(id, take_over, &context()).await.expect("ana takes over");
    let release = ConversationCommand::Release {
        by: Initiator::System,
        reason: livedesk_domain::conversation::ReleaseReason::TimedOut,
        at: Utc::now(),
    };
    let released = a.execute(id, release, &context()).await.expect("release");
    assert_eq!(released.events.len(), 1, "the release is not lost to a stale cache");
}

fn stream_of(id: Uuid) -> livedesk_domain::StreamName {
    livedesk_domain::StreamName::for_id("conversation", id).expect("stream")
}

#[sqlx::test(migrator = "livedesk_eventstore::MIGRATOR")]
async fn a_load_from_the_cache_still_sees_what_another_process_appended(_: PgPoolOptions, options: PgConnectOptions) {
    let (a, b) = two_processes(&options).await;
    let (id, visitor) = open(&a).await;
    let post = |n: usize| {
        ConversationCommand::post_visitor_message(MessageId(Uuid::now_v7()), visitor, format!("m{n}"), Utc::now())
    };
    let count = |state: ConversationState| match state {
        ConversationState::Open(open) => open.message_count,
        ConversationState::NotOpened => panic!("not open"),
    };
    a.execute(id, post(0), &context()).await.expect("post in a");
    assert_eq!(count(a.load(id).await.expect("load")), 1, "a's own write");
    for n in 1..4 {
        b.execute(id, post(n), &context()).await.expect("post in b");
    }
    assert_eq!(
        count(a.load(id).await.expect("load")),
        4,
        "a caught its cached state up with b's writes"
    );
    a.execute(id, post(4), &context()).await.expect("post in a again");
    assert_eq!(count(b.load(id).await.expect("load")), 5);
}
