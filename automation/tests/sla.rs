//! The SLA engine on a real PostgreSQL with a manual clock: tests move
//! time instead of sleeping for it.

mod common;

use chrono::{TimeDelta, TimeZone, Utc, Weekday};
use common::{NowUtc, PATIENCE, World, monday_ten, payload, reacted, time};
use livedesk_domain::conversation::{ConversationCommand, ConversationStatus};
use livedesk_domain::sla::{BusinessHours, WeeklyInterval};
use livedesk_domain::{Role, Staff};
use sqlx::PgPool;

/// The target and due time of each clock an `SlaApplied` started.
fn targets(event: &livedesk_domain::RecordedEvent) -> Vec<(String, chrono::DateTime<Utc>)> {
    payload(event)["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .map(|t| {
            let target = t["target"].as_str().expect("a target").to_owned();
            let due = t["due_at"].as_str().expect("a due time").parse().expect("a timestamp");
            (target, due)
        })
        .collect()
}

fn target_of(event: &livedesk_domain::RecordedEvent) -> String {
    payload(event)["target"].as_str().expect("a target").to_owned()
}

#[sqlx::test(migrator = "livedesk_eventstore::MIGRATOR")]
async fn an_agent_reply_fulfils_the_first_response_clock(pool: PgPool) {
    let world = World::new(pool, monday_ten(), None).await;
    let engine = world.engine();
    let chat = world.open().await;

    let applied = world.await_events(chat.id, "SlaApplied", 1).await;
    let opened_at = monday_ten();
    assert_eq!(
        targets(&applied[0]),
        vec![
            ("first_response".to_owned(), opened_at + TimeDelta::minutes(15)),
            ("resolution".to_owned(), opened_at + TimeDelta::hours(8)),
        ]
    );

    world.clock.advance(TimeDelta::minutes(5));
    world.agent_reply(chat.id).await;
    let fulfilled = world.await_events(chat.id, "SlaFulfilled", 1).await;
    assert_eq!(target_of(&fulfilled[0]), "first_response");
    assert_eq!(time(&fulfilled[0], "at"), opened_at + TimeDelta::minutes(5));

    // Past the due time nothing is breached: the clock was met.
    world.queue_settled(fulfilled[0].position).await;
    world.clock.advance(TimeDelta::minutes(30));
    assert!(engine.wait_for_timer(world.clock.now_utc(), PATIENCE).await);
    assert!(world.events(chat.id, "SlaBreached").await.is_empty());
    engine.shutdown().await;
}

#[sqlx::test(migrator = "livedesk_eventstore::MIGRATOR")]
async fn a_bot_reply_does_not_fulfil_the_first_response_clock(pool: PgPool) {
    let world = World::new(pool, monday_ten(), None).await;
    let engine = world.engine();
    let chat = world.open().await;
    let applied = world.await_events(chat.id, "SlaApplied", 1).await;
    world.queue_settled(applied[0].position).await;

    world.clock.advance(TimeDelta::minutes(1));
    let bot = world.bot_reply(chat.id).await;
    // A note is not a reply either.
    let note = ConversationCommand::post_note(
        livedesk_domain::MessageId(uuid::Uuid::now_v7()),
        world.agent.clone(),
        "Looks like a refund case",
        world.clock.now_utc(),
    );
    world.run(chat.id, note).await;
    reacted(&engine, bot).await;
    assert!(world.events(chat.id, "SlaFulfilled").await.is_empty());

    world.clock.advance(TimeDelta::minutes(20));
    let breached = world.await_events(chat.id, "SlaBreached", 1).await;
    assert_eq!(target_of(&breached[0]), "first_response");
    engine.shutdown().await;
}

#[sqlx::test(migrator = "livedesk_eventstore::MIGRATOR")]
async fn a_first_response_breach_is_recorded_at_its_due_time(pool: PgPool) {
    let world = World::new(pool, monday_ten(), None).await;
    let engine = world.engine();
    let chat = world.open().await;
    let applied = world.await_events(chat.id, "SlaApplied", 1).await;
    world.queue_settled(applied[0].position).await;

    // A minute short of the due time: nothing yet.
    world.clock.advance(TimeDelta::minutes(14));
    assert!(engine.wait_for_timer(world.clock.now_utc(), PATIENCE).await);
    assert!(world.events(chat.id, "SlaBreached").await.is_empty());

    world.clock.advance(TimeDelta::hours(2));
    let breached = world.await_events(chat.id, "SlaBreached", 1).await;
    let due = monday_ten() + TimeDelta::minutes(15);
    assert_eq!(target_of(&breached[0]), "first_response");
    assert_eq!(time(&breached[0], "due_at"), due);
    assert_eq!(
        time(&breached[0], "at"),
        due,
        "recorded at the due time, not at the clock's now"
    );

    // A late reply then settles nothing more.
    let reply = world.agent_reply(chat.id).await;
    reacted(&engine, reply).await;
    assert!(world.events(chat.id, "SlaFulfilled").await.is_empty());
    assert_eq!(world.events(chat.id, "SlaBreached").await.len(), 1);
    engine.shutdown().await;
}

#[sqlx::test(migrator = "livedesk_eventstore::MIGRATOR")]
async fn a_visitor_message_after_a_human_reply_starts_a_next_response_clock(pool: PgPool) {
    let world = World::new(pool, monday_ten(), None).await;
    let engine = world.engine();
    let chat = world.open().await;
    world.await_events(chat.id, "SlaApplied", 1).await;

    // Before any human reply a visitor message starts no next-response
    // clock (the first-response clock covers it).
    world.clock.advance(TimeDelta::minutes(1));
    let early = world.visitor_message(chat.id, chat.visitor).await;
    reacted(&engine, early).await;
    assert_eq!(world.events(chat.id, "SlaApplied").await.len(), 1);

    world.clock.advance(TimeDelta::minutes(1));
    world.agent_reply(chat.id).await;
    world.await_events(chat.id, "SlaFulfilled", 1).await;

    world.clock.advance(TimeDelta::minutes(3));
    let asked_at = world.clock.now_utc();
    world.visitor_message(chat.id, chat.visitor).await;
    let applied = world.await_events(chat.id, "SlaApplied", 2).await;
    assert_eq!(
        targets(&applied[1]),
        vec![("next_response".to_owned(), asked_at + TimeDelta::minutes(10))]
    );

    // A second visitor message waits for the same answer: no new clock.
    world.clock.advance(TimeDelta::minutes(1));
    let again = world.visitor_message(chat.id, chat.visitor).await;
    reacted(&engine, again).await;
    assert_eq!(world.events(chat.id, "SlaApplied").await.len(), 2);

    world.clock.advance(TimeDelta::minutes(2));
    let answered_at = world.clock.now_utc();
    world.agent_reply(chat.id).await;
    let fulfilled = world.await_events(chat.id, "SlaFulfilled", 2).await;
    assert_eq!(target_of(&fulfilled[1]), "next_response");
    assert_eq!(time(&fulfilled[1], "at"), answered_at);
    engine.shutdown().await;
}

#[sqlx::test(migrator = "livedesk_eventstore::MIGRATOR")]
async fn done_fulfils_the_resolution_clock(pool: PgPool) {
    let world = World::new(pool, monday_ten(), None).await;
    let engine = world.engine();
    let chat = world.open().await;
    world.await_events(chat.id, "SlaApplied", 1).await;
    world.clock.advance(TimeDelta::minutes(2));
    world.agent_reply(chat.id).await;
    world.await_events(chat.id, "SlaFulfilled", 1).await;

    world.clock.advance(TimeDelta::hours(1));
    let done_at = world.clock.now_utc();
    let done = ConversationCommand::ChangeStatus {
        status: ConversationStatus::Done,
        by: Staff::new(world.agent.clone(), Role::Agent),
        at: done_at,
    };
    world.run(chat.id, done).await;
    let fulfilled = world.await_events(chat.id, "SlaFulfilled", 2).await;
    assert_eq!(target_of(&fulfilled[1]), "resolution");
    assert_eq!(time(&fulfilled[1], "at"), done_at);
    engine.shutdown().await;
}

#[sqlx::test(migrator = "livedesk_eventstore::MIGRATOR")]
async fn business_hours_pause_the_clock_over_a_weekend(pool: PgPool) {
    let weekly = [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri]
        .into_iter()
        .map(|weekday| WeeklyInterval {
            weekday,
            start_minute: 9 * 60,
            end_minute: 17 * 60,
        })
        .collect();
    let hours = BusinessHours {
        time_zone: "Europe/Berlin".into(),
        weekly,
        holidays: Vec::new(),
    };
    // Friday 6 March 2026, 16:50 in Berlin (UTC+1): ten minutes before
    // closing.
    let friday = Utc.with_ymd_and_hms(2026, 3, 6, 15, 50, 0).single().expect("a date");
    let world = World::new(pool, friday, Some(hours)).await;
    let engine = world.engine();
    let chat = world.open().await;
    let applied = world.await_events(chat.id, "SlaApplied", 1).await;
    // 15 minutes of business time: 10 on Friday, the clock stands still
    // over the weekend, 5 on Monday: Monday 09:05 Berlin. The 8-hour
    // resolution: 10 minutes Friday, 7:50 Monday: Monday 16:50 Berlin.
    let monday_0905_berlin = Utc.with_ymd_and_hms(2026, 3, 9, 8, 5, 0).single().expect("a date");
    let monday_1650_berlin = Utc.with_ymd_and_hms(2026, 3, 9, 15, 50, 0).single().expect("a date");
    assert_eq!(
        targets(&applied[0]),
        vec![
            ("first_response".to_owned(), monday_0905_berlin),
            ("resolution".to_owned(), monday_1650_berlin),
        ]
    );
    world.queue_settled(applied[0].position).await;

    // Sunday evening, 50 real hours later: not due.
    world
        .clock
        .set(Utc.with_ymd_and_hms(2026, 3, 8, 20, 0, 0).single().expect("a date"));
    assert!(engine.wait_for_timer(world.clock.now_utc(), PATIENCE).await);
    assert!(world.events(chat.id, "SlaBreached").await.is_empty());

    // Monday 09:10 Berlin it is, and the breach carries Monday 09:05.
    world
        .clock
        .set(Utc.with_ymd_and_hms(2026, 3, 9, 8, 10, 0).single().expect("a date"));
    let breached = world.await_events(chat.id, "SlaBreached", 1).await;
    assert_eq!(target_of(&breached[0]), "first_response");
    assert_eq!(time(&breached[0], "at"), monday_0905_berlin);
    engine.shutdown().await;
}

#[sqlx::test(migrator = "livedesk_eventstore::MIGRATOR")]
async fn a_breach_that_fell_due_while_the_engine_was_stopped_is_recorded_at_its_due_time(pool: PgPool) {
    let world = World::new(pool, monday_ten(), None).await;
    let engine = world.engine();
    let chat = world.open().await;
    let applied = world.await_events(chat.id, "SlaApplied", 1).await;
    world.queue_settled(applied[0].position).await;
    engine.shutdown().await;

    // Down for a day: both clocks fall due meanwhile.
    world.clock.advance(TimeDelta::hours(24));
    assert!(world.events(chat.id, "SlaBreached").await.is_empty());

    let restarted = world.engine();
    let breached = world.await_events(chat.id, "SlaBreached", 2).await;
    let mut recorded: Vec<(String, chrono::DateTime<Utc>)> =
        breached.iter().map(|e| (target_of(e), time(e, "at"))).collect();
    recorded.sort();
    assert_eq!(
        recorded,
        vec![
            ("first_response".to_owned(), monday_ten() + TimeDelta::minutes(15)),
            ("resolution".to_owned(), monday_ten() + TimeDelta::hours(8)),
        ]
    );
    restarted.shutdown().await;
}

#[sqlx::test(migrator = "livedesk_eventstore::MIGRATOR")]
async fn two_engines_on_one_database_record_each_breach_once(pool: PgPool) {
    let world = World::new(pool, monday_ten(), None).await;
    let (one, two) = (world.engine(), world.engine());
    let mut chats = Vec::new();
    for _ in 0..6 {
        chats.push(world.open().await);
    }
    let mut last = 0;
    for chat in &chats {
        let applied = world.await_events(chat.id, "SlaApplied", 1).await;
        last = last.max(applied[0].position);
    }
    world.queue_settled(last).await;
    assert!(
        one.is_leader() != two.is_leader(),
        "exactly one engine is active (one: {}, two: {})",
        one.is_leader(),
        two.is_leader()
    );

    world.clock.advance(TimeDelta::hours(9));
    for chat in &chats {
        world.await_events(chat.id, "SlaBreached", 2).await;
    }
    // The leader steps down; the other takes over and finds nothing to add.
    let (leader, standby) = if one.is_leader() { (one, two) } else { (two, one) };
    leader.shutdown().await;
    world.clock.advance(TimeDelta::hours(1));
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !standby.is_leader() {
        assert!(tokio::time::Instant::now() < deadline, "the standby never took over");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(standby.wait_for_timer(world.clock.now_utc(), PATIENCE).await);
    for chat in &chats {
        let breached = world.events(chat.id, "SlaBreached").await;
        let mut targets: Vec<String> = breached.iter().map(target_of).collect();
        targets.sort();
        assert_eq!(targets, ["first_response", "resolution"], "one breach per clock");
    }
    standby.shutdown().await;
}

#[sqlx::test(migrator = "livedesk_eventstore::MIGRATOR")]
async fn a_retried_reaction_appends_nothing_twice(pool: PgPool) {
    let world = World::new(pool.clone(), monday_ten(), None).await;
    let engine = world.engine();
    let chat = world.open().await;
    world.await_events(chat.id, "SlaApplied", 1).await;
    world.clock.advance(TimeDelta::minutes(1));
    world.agent_reply(chat.id).await;
    world.clock.advance(TimeDelta::minutes(1));
    let last = world.visitor_message(chat.id, chat.visitor).await;
    world.await_events(chat.id, "SlaApplied", 2).await;
    reacted(&engine, last).await;
    let before = world.events(chat.id, "SlaApplied").await.len() + world.events(chat.id, "SlaFulfilled").await.len();
    assert_eq!(before, 3);

    // The same reactions again, in this process...
    let stream = livedesk_domain::StreamName::for_id("conversation", chat.id).expect("a stream");
    let history = livedesk_eventstore::EventStore::read_stream(
        &world.store,
        &stream,
        0,
        livedesk_eventstore::Direction::Forward,
        100,
    )
    .await
    .expect("the stream");
    for event in &history {
        engine.react(event).await.expect("a reaction");
    }
    // ...and after a restart that lost the checkpoint.
    engine.shutdown().await;
    sqlx::query("UPDATE automation_checkpoints SET position = 0")
        .execute(&pool)
        .await
        .expect("checkpoint reset");
    let restarted = world.engine();
    reacted(&restarted, last).await;

    let after = world.events(chat.id, "SlaApplied").await.len() + world.events(chat.id, "SlaFulfilled").await.len();
    assert_eq!(after, before, "nothing appended twice");
    restarted.shutdown().await;
}

#[sqlx::test(migrator = "livedesk_eventstore::MIGRATOR")]
async fn assigning_a_team_applies_the_team_policy_from_the_opening(pool: PgPool) {
    use livedesk_domain::conversation::Assignee;
    use livedesk_domain::site::SiteCommand;
    use livedesk_domain::{SlaPolicyId, TeamId, TeamRef};

    let world = World::new(pool, monday_ten(), None).await;
    let team = TeamId(uuid::Uuid::now_v7());
    let at = world.clock.now_utc();
    world
        .site_command(SiteCommand::CreateTeam {
            team_id: team,
            name: "Billing".into(),
            at,
        })
        .await;
    let billing = SlaPolicyId(uuid::Uuid::now_v7());
    let mut team_policy = common::catch_all(billing);
    team_policy.name = "Billing".into();
    team_policy.conditions.teams = vec![team];
    team_policy.first_response_secs = Some(5 * 60);
    team_policy.resolution_secs = None;
    world
        .site_command(SiteCommand::DefineSlaPolicies {
            policies: vec![team_policy, common::catch_all(world.policy)],
            at,
        })
        .await;
    let engine = world.engine();
    let chat = world.open().await;
    let applied = world.await_events(chat.id, "SlaApplied", 1).await;
    assert_eq!(payload(&applied[0])["policy_id"], world.policy.0.to_string());

    world.clock.advance(TimeDelta::minutes(2));
    let assign = ConversationCommand::Assign {
        assignee: Assignee::Team {
            team: TeamRef {
                id: team,
                name: "Billing".into(),
            },
        },
        by: Staff::new(world.agent.clone(), Role::Supervisor),
        reassign: false,
        at: world.clock.now_utc(),
    };
    world.run(chat.id, assign).await;
    let applied = world.await_events(chat.id, "SlaApplied", 2).await;
    assert_eq!(payload(&applied[1])["policy_id"], billing.0.to_string());
    // Counted from the opening, not from the assignment; the catch-all's
    // resolution clock keeps running.
    assert_eq!(
        targets(&applied[1]),
        vec![("first_response".to_owned(), monday_ten() + TimeDelta::minutes(5))]
    );
    engine.shutdown().await;
}
