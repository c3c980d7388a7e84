//! A world for SLA engine tests: a real PostgreSQL, the `sla_queue` and
//! `inbox` projectors, a manual clock, one site with its policies.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use livedesk_automation::{ManualClock, SlaEngine, SlaEngineConfig};
use livedesk_domain::conversation::{Conversation, ConversationCommand, Provider};
use livedesk_domain::site::{Site, SiteCommand};
use livedesk_domain::sla::{BusinessHours, SlaPolicy};
use livedesk_domain::{
    Actor, AgentId, AgentRef, ConversationId, MessageId, Metadata, RecordedEvent, SiteId, SlaPolicyId, StreamName,
    VisitorId,
};
use livedesk_eventstore::{CommandContext, CommandService, Direction, EventStore, PgEventStore, PgStoreConfig};
use livedesk_projections::{ProjectionRuntime, RuntimeConfig};
use sqlx::PgPool;
use uuid::Uuid;

/// How long a test waits for something the engine or a projector does.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// Monday 2 March 2026, 10:00 UTC.
pub fn monday_ten() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0)
        .single()
        .expect("a valid date")
}

/// An opened conversation.
#[derive(Debug, Clone, Copy)]
pub struct Chat {
    pub id: Uuid,
    pub visitor: VisitorId,
    /// The position of its opening.
    pub position: u64,
}

pub struct World {
    pub store: PgEventStore,
    pub clock: ManualClock,
    pub projections: ProjectionRuntime,
    pub site: Uuid,
    pub policy: SlaPolicyId,
    pub conversations: CommandService<PgEventStore, Conversation>,
    pub sites: CommandService<PgEventStore, Site>,
    pub agent: AgentRef,
}

/// First response in 15 minutes, next response in 10, resolution in 8
/// hours, for every conversation.
pub fn catch_all(id: SlaPolicyId) -> SlaPolicy {
    SlaPolicy {
        id,
        name: "Default".into(),
        conditions: Default::default(),
        first_response_secs: Some(15 * 60),
        next_response_secs: Some(10 * 60),
        resolution_secs: Some(8 * 3600),
    }
}

impl World {
    /// A site with [`catch_all`] and the given hours, the clock at `start`.
    pub async fn new(pool: PgPool, start: DateTime<Utc>, hours: Option<BusinessHours>) -> Self {
        let store = PgEventStore::new(pool, PgStoreConfig::default());
        let projections = ProjectionRuntime::start(
            store.clone(),
            // Built by the crate, whatever their constructors become.
            livedesk_projections::all_projectors()
                .into_iter()
                .filter(|p| ["sla_queue", "inbox"].contains(&p.name()))
                .collect(),
            RuntimeConfig {
                max_batch: 100,
                lock_retry: Duration::from_millis(50),
            },
        );
        let world = Self {
            clock: ManualClock::new(start),
            projections,
            site: Uuid::now_v7(),
            policy: SlaPolicyId(Uuid::now_v7()),
            conversations: CommandService::new(store.clone(), 100),
            sites: CommandService::new(store.clone(), 10),
            store,
            agent: AgentRef::new(AgentId(Uuid::now_v7()), "Ana"),
        };
        let at = start;
        world
            .site_command(SiteCommand::Create {
                site_id: SiteId(world.site),
                name: "Shop".into(),
                allowed_origins: vec!["https://shop.example".into()],
                widget_key: "shop-widget-key".into(),
                at,
            })
            .await;
        world
            .site_command(SiteCommand::DefineSlaPolicies {
                policies: vec![catch_all(world.policy)],
                at,
            })
            .await;
        if hours.is_some() {
            world.site_command(SiteCommand::SetBusinessHours { hours, at }).await;
        }
        world
    }

    pub async fn site_command(&self, command: SiteCommand) {
        self.sites
            .execute(self.site, command, &self.context())
            .await
            .expect("a site command");
    }

    pub fn context(&self) -> CommandContext {
        CommandContext {
            metadata: Metadata {
                site_id: Some(self.site),
                actor: Some(Actor::System),
                ..Metadata::default()
            },
        }
    }

    /// An engine over this world's store and clock, checking often for
    /// the lock.
    pub fn engine(&self) -> SlaEngine {
        SlaEngine::start(
            self.store.clone(),
            Arc::new(self.clock.clone()),
            SlaEngineConfig {
                tick: Duration::from_secs(60),
                lock_retry: Duration::from_millis(50),
                max_batch: 100,
            },
        )
    }

    /// Runs `command` on `conversation`; returns the last position written.
    pub async fn run(&self, conversation: Uuid, command: ConversationCommand) -> u64 {
        let executed = self
            .conversations
            .execute(conversation, command, &self.context())
            .await
            .expect("a conversation command");
        executed.append.expect("something appended").last_position
    }

    /// Opens an API conversation now.
    pub async fn open(&self) -> Chat {
        let id = Uuid::now_v7();
        let visitor = VisitorId(Uuid::now_v7());
        let command = ConversationCommand::open(
            ConversationId(id),
            SiteId(self.site),
            visitor,
            None,
            Provider::Api,
            self.clock.now_utc(),
        );
        let position = self.run(id, command).await;
        Chat { id, visitor, position }
    }

    pub async fn agent_reply(&self, conversation: Uuid) -> u64 {
        let command = ConversationCommand::post_agent_message(
            MessageId(Uuid::now_v7()),
            self.agent.clone(),
            "Hello, how can I help?",
            self.clock.now_utc(),
        );
        self.run(conversation, command).await
    }

    pub async fn bot_reply(&self, conversation: Uuid) -> u64 {
        let command = ConversationCommand::post_bot_message(
            MessageId(Uuid::now_v7()),
            "builtin",
            "I am the assistant.",
            self.clock.now_utc(),
        );
        self.run(conversation, command).await
    }

    pub async fn visitor_message(&self, conversation: Uuid, visitor: VisitorId) -> u64 {
        let command = ConversationCommand::post_visitor_message(
            MessageId(Uuid::now_v7()),
            visitor,
            "Are you there?",
            self.clock.now_utc(),
        );
        self.run(conversation, command).await
    }

    /// The conversation's events of `event_type`.
    pub async fn events(&self, conversation: Uuid, event_type: &str) -> Vec<RecordedEvent> {
        let stream = StreamName::for_id("conversation", conversation).expect("a stream name");
        self.store
            .read_stream(&stream, 0, Direction::Forward, 10_000)
            .await
            .expect("the stream")
            .into_iter()
            .filter(|e| e.event_type == event_type)
            .collect()
    }

    /// Waits until the conversation has `count` events of `event_type`
    /// (polling the store; nothing here waits for time to pass).
    pub async fn await_events(&self, conversation: Uuid, event_type: &str, count: usize) -> Vec<RecordedEvent> {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let events = self.events(conversation, event_type).await;
            if events.len() >= count {
                return events;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{conversation}: {} of {count} {event_type} events",
                events.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until `sla_queue` reflects the log up to `position`.
    pub async fn queue_settled(&self, position: u64) {
        self.projections
            .wait_for("sla_queue", position, PATIENCE)
            .await
            .expect("sla_queue caught up");
    }
}

/// Extension: the manual clock's time (the trait method, named plainly).
pub trait NowUtc {
    fn now_utc(&self) -> DateTime<Utc>;
}

impl NowUtc for ManualClock {
    fn now_utc(&self) -> DateTime<Utc> {
        livedesk_automation::Clock::now(self)
    }
}

/// The payload of an event as JSON.
pub fn payload(event: &RecordedEvent) -> serde_json::Value {
    serde_json::from_str(event.payload.get()).expect("a JSON payload")
}

/// A timestamp field of a payload.
pub fn time(event: &RecordedEvent, field: &str) -> DateTime<Utc> {
    let value = payload(event)[field]
        .as_str()
        .map(str::to_owned)
        .expect("a timestamp field");
    value.parse().expect("an RFC 3339 timestamp")
}

/// Asserts the engine reacted to everything up to `position`.
pub async fn reacted(engine: &SlaEngine, position: u64) {
    assert!(
        engine.wait_for(position, PATIENCE).await,
        "the engine did not react up to {position} (at {})",
        engine.position()
    );
}
