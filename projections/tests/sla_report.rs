//! The SLA report on a real PostgreSQL: who each ended clock is credited
//! to, the counts and medians per agent and per team, the period and the
//! site; the same after a rebuild.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use livedesk_domain::conversation::{
    Assignee, AssignmentReason, ConversationAssigned, ConversationEvent, ConversationOpened, ConversationUnassigned,
    Provider, SlaApplied, SlaBreached, SlaDue, SlaFulfilled, SlaTarget,
};
use livedesk_domain::{
    AgentId, AgentRef, ConversationId, Metadata, NewEvent, SiteId, SlaPolicyId, StreamName, TeamId, TeamRef, VisitorId,
};
use livedesk_eventstore::{EventStore, ExpectedVersion, PgEventStore, PgStoreConfig};
use livedesk_projections::models::SlaResultsProjector;
use livedesk_projections::read::{SlaReportGroup, SlaReportRow, sla_report};
use livedesk_projections::{ProjectionRuntime, RuntimeConfig, rebuild};
use sqlx::PgPool;
use uuid::Uuid;

const SITE: Uuid = Uuid::from_u128(100);
const ANA: Uuid = Uuid::from_u128(10);
const BEN: Uuid = Uuid::from_u128(11);
const SUPPORT: Uuid = Uuid::from_u128(1);
const SALES: Uuid = Uuid::from_u128(2);

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).single().expect("a time")
}

fn secs(s: i64) -> DateTime<Utc> {
    t0() + TimeDelta::seconds(s)
}

fn opened(site: Uuid, id: Uuid) -> ConversationEvent {
    ConversationEvent::Opened(ConversationOpened {
        conversation_id: ConversationId(id),
        site_id: SiteId(site),
        visitor_id: VisitorId(Uuid::now_v7()),
        session_id: None,
        provider: Provider::WebChat,
        at: t0(),
    })
}

fn to_agent(agent: Uuid, reason: AssignmentReason) -> ConversationEvent {
    ConversationEvent::Assigned(ConversationAssigned {
        assignee: Assignee::Agent {
            agent: AgentRef::new(AgentId(agent), "Agent"),
        },
        previous: None,
        by: None,
        reason,
        at: t0(),
    })
}

fn to_team(team: Uuid) -> ConversationEvent {
    ConversationEvent::Assigned(ConversationAssigned {
        assignee: Assignee::Team {
            team: TeamRef {
                id: TeamId(team),
                name: "Team".into(),
            },
        },
        previous: None,
        by: None,
        reason: AssignmentReason::Manual,
        at: t0(),
    })
}

fn applied(targets: &[SlaTarget]) -> ConversationEvent {
    ConversationEvent::SlaApplied(SlaApplied {
        policy_id: SlaPolicyId(Uuid::from_u128(77)),
        targets: targets
            .iter()
            .map(|t| SlaDue {
                target: *t,
                due_at: secs(60),
            })
            .collect(),
        at: t0(),
    })
}

fn fulfilled(target: SlaTarget, at: i64) -> ConversationEvent {
    ConversationEvent::SlaFulfilled(SlaFulfilled {
        policy_id: SlaPolicyId(Uuid::from_u128(77)),
        target,
        at: secs(at),
    })
}

fn breached(at: i64) -> ConversationEvent {
    ConversationEvent::SlaBreached(SlaBreached {
        policy_id: SlaPolicyId(Uuid::from_u128(77)),
        target: SlaTarget::FirstResponse,
        due_at: secs(60),
        at: secs(at),
    })
}

async fn append(store: &PgEventStore, site: Uuid, events: Vec<ConversationEvent>) {
    let id = Uuid::now_v7();
    let mut all = vec![opened(site, id)];
    all.extend(events);
    let metadata = Metadata {
        site_id: Some(site),
        ..Metadata::default()
    };
    let events = all
        .iter()
        .map(|e| NewEvent::encode(Uuid::now_v7(), e, metadata.clone()).expect("encode"))
        .collect();
    let stream = StreamName::for_id("conversation", id).expect("stream");
    store
        .append(&stream, ExpectedVersion::NoStream, events)
        .await
        .expect("append");
}

fn row(group: Option<Uuid>, target: &str, met: i64, missed: i64, median: Option<f64>) -> SlaReportRow {
    SlaReportRow {
        group_id: group,
        group_name: None,
        target: target.into(),
        met,
        missed,
        median_secs: median,
    }
}

async fn reports(pool: &PgPool) -> (Vec<SlaReportRow>, Vec<SlaReportRow>) {
    let (from, to) = (t0(), t0() + TimeDelta::days(1));
    let by_agent = sla_report(pool, SITE, from, to, SlaReportGroup::Agent)
        .await
        .expect("by agent");
    let by_team = sla_report(pool, SITE, from, to, SlaReportGroup::Team)
        .await
        .expect("by team");
    (by_agent, by_team)
}

#[sqlx::test(migrator = "livedesk_eventstore::MIGRATOR")]
async fn ended_clocks_are_credited_to_their_holder_and_a_rebuild_reports_the_same(pool: PgPool) {
    use SlaTarget::{FirstResponse, Resolution};
    let store = PgEventStore::new(pool.clone(), PgStoreConfig::default());
    let manual = AssignmentReason::Manual;
    // Support, then Ana by hand (keeps Support): 10 s and 100 s.
    let events = vec![
        to_team(SUPPORT),
        to_agent(ANA, manual.clone()),
        applied(&[FirstResponse, Resolution]),
        fulfilled(FirstResponse, 10),
        fulfilled(Resolution, 100),
    ];
    append(&store, SITE, events).await;
    // Ben by auto-assignment from Sales' queue, then unassigned: missed,
    // no agent, still Sales.
    let auto = AssignmentReason::AutoAssignment { team_id: TeamId(SALES) };
    let events = vec![
        applied(&[FirstResponse]),
        to_agent(BEN, auto),
        unassigned(),
        breached(60),
    ];
    append(&store, SITE, events).await;
    // Ana, no team: 30 s.
    let events = vec![
        to_agent(ANA, manual.clone()),
        applied(&[FirstResponse]),
        fulfilled(FirstResponse, 30),
    ];
    append(&store, SITE, events).await;
    // A fulfilment of a clock never seen: met, but not in the median.
    append(&store, SITE, vec![fulfilled(FirstResponse, 5)]).await;
    // Outside the period, and on another site.
    let late = vec![applied(&[FirstResponse]), fulfilled(FirstResponse, 2 * 86_400)];
    append(&store, SITE, late).await;
    let other = vec![
        to_agent(ANA, manual),
        applied(&[FirstResponse]),
        fulfilled(FirstResponse, 1),
    ];
    append(&store, Uuid::from_u128(101), other).await;
    let head = store.head().await.expect("head");

    let config = RuntimeConfig {
        max_batch: 3,
        lock_retry: Duration::from_millis(200),
    };
    let runtime = ProjectionRuntime::start(store.clone(), vec![Arc::new(SlaResultsProjector)], config);
    runtime
        .wait_for_all(head, Duration::from_secs(30))
        .await
        .expect("caught up");
    let (by_agent, by_team) = reports(&pool).await;
    let expected_by_agent = vec![
        row(Some(ANA), "first_response", 2, 0, Some(20.0)),
        row(Some(ANA), "resolution", 1, 0, Some(100.0)),
        row(None, "first_response", 1, 1, None),
    ];
    let expected_by_team = vec![
        row(Some(SUPPORT), "first_response", 1, 0, Some(10.0)),
        row(Some(SUPPORT), "resolution", 1, 0, Some(100.0)),
        row(Some(SALES), "first_response", 0, 1, None),
        row(None, "first_response", 2, 0, Some(30.0)),
    ];
    assert_eq!(by_agent, expected_by_agent);
    assert_eq!(by_team, expected_by_team);
    let unknown: Option<DateTime<Utc>> = sqlx::query_scalar("SELECT started_at FROM sla_results WHERE ended_at = $1")
        .bind(secs(5))
        .fetch_one(&pool)
        .await
        .expect("the unknown clock's result");
    assert_eq!(unknown, None);

    runtime.shutdown().await;
    rebuild(&store, &SlaResultsProjector).await.expect("rebuild");
    assert_eq!(reports(&pool).await, (expected_by_agent, expected_by_team));
}

fn unassigned() -> ConversationEvent {
    ConversationEvent::Unassigned(ConversationUnassigned {
        previous: Assignee::Agent {
            agent: AgentRef::new(AgentId(BEN), "Ben"),
        },
        by: None,
        at: t0(),
    })
}
