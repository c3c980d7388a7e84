//! The router on a real PostgreSQL: routing by each condition, capacity
//! and tie-breaking, the team queue, and 200 conversations opening at once
//! across two processes.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use livedesk_automation::{Clock, ManualClock, Router, RouterConfig};
use livedesk_domain::MessageId;
use livedesk_domain::agent::{Agent, AgentCommand, Presence};
use livedesk_domain::conversation::{Conversation, ConversationCommand, ConversationStatus, Provider};
use livedesk_domain::routing::{RoutingConditions, RoutingRule};
use livedesk_domain::session::{ClientInfo, DeviceClass, Session, SessionCode, SessionCommand};
use livedesk_domain::site::{Site, SiteCommand};
use livedesk_domain::visitor::{Visitor, VisitorCommand, VisitorTag};
use livedesk_domain::{
    Actor, AgentId, AgentRef, ConversationId, Metadata, RecordedEvent, Role, RoutingRuleId, SessionId, SiteId, Staff,
    TeamId, VisitorId,
};
use livedesk_eventstore::{CommandContext, CommandService, EventStore, Filter, PgEventStore, PgStoreConfig};
use livedesk_projections::{ProjectionRuntime, RuntimeConfig};
use sqlx::PgPool;
use uuid::Uuid;

const PATIENCE: Duration = Duration::from_secs(30);

/// One `livedesk` process as far as routing goes: a store with its own
/// pool, a router and command services.
struct Process {
    router: Router,
    conversations: CommandService<PgEventStore, Conversation>,
}

impl Process {
    async fn new(pool: &PgPool, clock: &ManualClock) -> Self {
        let own = PgPool::connect_with((*pool.connect_options()).clone())
            .await
            .expect("a second pool");
        let store = PgEventStore::new(own, PgStoreConfig::default());
        let router = Router::start(
            store.clone(),
            Arc::new(clock.clone()),
            RouterConfig {
                tick: Duration::from_millis(200),
                lock_retry: Duration::from_millis(50),
                max_batch: 100,
                catch_up: Duration::from_secs(5),
            },
        );
        Self {
            conversations: CommandService::new(store, 1_000),
            router,
        }
    }
}

struct World {
    store: PgEventStore,
    clock: ManualClock,
    projections: ProjectionRuntime,
    site: Uuid,
    sites: CommandService<PgEventStore, Site>,
    agents: CommandService<PgEventStore, Agent>,
    sessions: CommandService<PgEventStore, Session>,
}

fn context(site: Uuid) -> CommandContext {
    CommandContext {
        metadata: Metadata {
            site_id: Some(site),
            actor: Some(Actor::System),
            ..Metadata::default()
        },
    }
}

impl World {
    async fn new(pool: PgPool) -> Self {
        let store = PgEventStore::new(pool, PgStoreConfig::default());
        let projections = ProjectionRuntime::start(
            store.clone(),
            livedesk_projections::all_projectors()
                .into_iter()
                .filter(|p| ["agents", "inbox"].contains(&p.name()))
                .collect(),
            RuntimeConfig {
                max_batch: 100,
                lock_retry: Duration::from_millis(50),
            },
        );
        let world = Self {
            clock: ManualClock::new(Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0).single().expect("a date")),
            projections,
            site: Uuid::now_v7(),
            sites: CommandService::new(store.clone(), 10),
            agents: CommandService::new(store.clone(), 100),
            sessions: CommandService::new(store.clone(), 100),
            store,
        };
        world
            .site_command(SiteCommand::Create {
                site_id: SiteId(world.site),
                name: "Shop".into(),
                allowed_origins: vec!["https://shop.example".into()],
                widget_key: "shop-widget-key".into(),
                at: world.now(),
            })
            .await;
        world
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    fn tick(&self) {
        self.clock.advance(TimeDelta::seconds(1));
    }

    async fn site_command(&self, command: SiteCommand) {
        self.sites
            .execute(self.site, command, &context(self.site))
            .await
            .expect("a site command");
    }

    async fn agent_command(&self, agent: AgentId, command: AgentCommand) {
        self.agents
            .execute(agent.0, command, &context(self.site))
            .await
            .expect("an agent command");
    }

    /// A team of `count` activated agents with `capacity`, online in id
    /// order one second apart.
    async fn team(&self, name: &str, count: usize, capacity: u16) -> (TeamId, Vec<AgentId>) {
        let team = TeamId(Uuid::now_v7());
        self.site_command(SiteCommand::CreateTeam {
            team_id: team,
            name: name.into(),
            at: self.now(),
        })
        .await;
        let mut agents: Vec<AgentId> = (0..count).map(|_| AgentId(Uuid::now_v7())).collect();
        agents.sort();
        for (n, &agent) in agents.iter().enumerate() {
            let at = self.now();
            let invite = AgentCommand::Invite {
                agent_id: agent,
                email: format!("{name}{n}@shop.example"),
                name: format!("{name} {n}"),
                roles: BTreeMap::from([(SiteId(self.site), Role::Agent)]),
                at,
            };
            self.agent_command(agent, invite).await;
            self.agent_command(agent, AgentCommand::Activate { at }).await;
            self.agent_command(
                agent,
                AgentCommand::ChangeCapacity {
                    max_concurrent: capacity,
                    at,
                },
            )
            .await;
            self.agent_command(
                agent,
                AgentCommand::ChangePresence {
                    presence: Presence::Online,
                    at,
                },
            )
            .await;
            self.site_command(SiteCommand::AddAgentToTeam {
                team_id: team,
                agent_id: agent,
                at,
            })
            .await;
            self.tick();
        }
        (team, agents)
    }

    async fn rules(&self, rules: Vec<(RoutingConditions, TeamId)>) {
        let rules = rules
            .into_iter()
            .map(|(conditions, team_id)| RoutingRule {
                id: RoutingRuleId(Uuid::now_v7()),
                conditions,
                team_id,
            })
            .collect();
        self.site_command(SiteCommand::DefineRoutingRules { rules, at: self.now() })
            .await;
    }

    /// A web session on `path` with browser `languages`.
    async fn session(&self, visitor: VisitorId, path: &str, languages: &[&str]) -> SessionId {
        let session = SessionId(Uuid::now_v7());
        let start = SessionCommand::Start {
            session_id: session,
            site_id: SiteId(self.site),
            visitor_id: visitor,
            tab_id: "tab-1".into(),
            client: ClientInfo {
                browser: "Firefox 131".into(),
                device: DeviceClass::Desktop,
                os: "Linux".into(),
                country: None,
                languages: languages.iter().map(|l| (*l).to_owned()).collect(),
            },
            entry_path: path.into(),
            referrer: None,
            code: SessionCode::from_random(u64::from(session.0.as_u128() as u32)),
            max_duration_secs: 3600,
            at: self.now(),
        };
        self.sessions
            .execute(session.0, start, &context(self.site))
            .await
            .expect("a session");
        session
    }

    /// Opens a conversation through `process`; returns its id.
    async fn open(&self, process: &Process, session: Option<SessionId>, provider: Provider) -> Uuid {
        let id = Uuid::now_v7();
        let visitor = VisitorId(Uuid::now_v7());
        let command = ConversationCommand::open(
            ConversationId(id),
            SiteId(self.site),
            visitor,
            session,
            provider,
            self.now(),
        );
        process
            .conversations
            .execute(id, command, &context(self.site))
            .await
            .expect("an opening");
        id
    }

    /// Opens a web chat of `visitor` in `session` through `process`.
    async fn open_for(&self, process: &Process, visitor: VisitorId, session: Option<SessionId>) -> Uuid {
        let id = Uuid::now_v7();
        let command = ConversationCommand::open(
            ConversationId(id),
            SiteId(self.site),
            visitor,
            session,
            Provider::WebChat,
            self.now(),
        );
        process
            .conversations
            .execute(id, command, &context(self.site))
            .await
            .expect("an opening");
        id
    }

    /// Every `ConversationAssigned` of the log, in order.
    async fn assignments(&self) -> Vec<(Uuid, serde_json::Value)> {
        let filter = Filter {
            event_types: vec!["ConversationAssigned".into()],
            ..Filter::default()
        };
        let events = self.store.read_all(0, 100_000, &filter).await.expect("the log");
        events.iter().map(|e| (conversation_of(e), payload(e))).collect()
    }

    /// Each conversation's agent assignments: conversation -> agents.
    async fn agent_assignments(&self) -> HashMap<Uuid, Vec<Uuid>> {
        let mut by_conversation: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        for (conversation, payload) in self.assignments().await {
            if payload["assignee"]["type"] == "agent" {
                let agent = payload["assignee"]["agent"]["id"].as_str().expect("an agent id");
                by_conversation
                    .entry(conversation)
                    .or_default()
                    .push(agent.parse().expect("a uuid"));
            }
        }
        by_conversation
    }

    /// Waits until `count` conversations have an agent.
    async fn await_agent_assigned(&self, count: usize) -> HashMap<Uuid, Vec<Uuid>> {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let assigned = self.agent_assignments().await;
            if assigned.len() >= count {
                return assigned;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} of {count} conversations have an agent",
                assigned.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until `router` has reacted to the whole log (as it is now).
    async fn routed(&self, router: &Router) {
        let head = self.store.head().await.expect("the head");
        assert!(router.wait_for(head, PATIENCE).await, "the router reached {head}");
    }
}

fn conversation_of(event: &RecordedEvent) -> Uuid {
    event.stream.as_str()["conversation-".len()..]
        .parse()
        .expect("a conversation stream")
}

fn payload(event: &RecordedEvent) -> serde_json::Value {
    serde_json::from_str(event.payload.get()).expect("a JSON payload")
}

fn agents_of(assigned: &HashMap<Uuid, Vec<Uuid>>) -> HashMap<Uuid, usize> {
    let mut per_agent = HashMap::new();
    for agents in assigned.values() {
        for agent in agents {
            *per_agent.entry(*agent).or_default() += 1;
        }
    }
    per_agent
}

#[sqlx::test(migrator = "livedesk_eventstore::MIGRATOR")]
async fn each_condition_routes_to_its_team_and_the_first_matching_rule_wins(pool: PgPool) {
    let world = World::new(pool.clone()).await;
    let (sales, sales_agents) = world.team("sales", 1, 10).await;
    let (german, german_agents) = world.team("german", 1, 10).await;
    let (social, _) = world.team("social", 1, 10).await;
    let (vip, _) = world.team("vip", 1, 10).await;
    let (support, _) = world.team("support", 1, 10).await;
    world
        .rules(vec![
            (
                RoutingConditions {
                    page_path_prefixes: vec!["/pricing".into()],
                    ..RoutingConditions::default()
                },
                sales,
            ),
            (
                RoutingConditions {
                    languages: vec!["de".into()],
                    ..RoutingConditions::default()
                },
                german,
            ),
            (
                RoutingConditions {
                    providers: vec![Provider::Facebook],
                    ..RoutingConditions::default()
                },
                social,
            ),
            (
                RoutingConditions {
                    visitor_labels: vec!["vip".into()],
                    ..RoutingConditions::default()
                },
                vip,
            ),
            (RoutingConditions::default(), support),
        ])
        .await;
    let process = Process::new(&pool, &world.clock).await;
    let on_pricing = world
        .session(VisitorId(Uuid::now_v7()), "/pricing/plans", &["de-AT"])
        .await;
    let german_browser = world
        .session(VisitorId(Uuid::now_v7()), "/helpdesk", &["de-AT", "en"])
        .await;
    let english_first = world.session(VisitorId(Uuid::now_v7()), "/", &["en", "de"]).await;
    let tagged = VisitorId(Uuid::now_v7());
    let visitors: CommandService<PgEventStore, Visitor> = CommandService::new(world.store.clone(), 10);
    let first_seen = VisitorCommand::FirstSeen {
        visitor_id: tagged,
        site_id: SiteId(world.site),
        at: world.now(),
    };
    visitors
        .execute(tagged.0, first_seen, &context(world.site))
        .await
        .expect("a visitor");
    let tag = VisitorTag {
        labels: Some(vec![" VIP ".into()]),
        ..VisitorTag::default()
    };
    let tag = VisitorCommand::Tag { tag, at: world.now() };
    visitors
        .execute(tagged.0, tag, &context(world.site))
        .await
        .expect("a tag");
    let vip_session = world.session(tagged, "/", &["en"]).await;
    let cases = [
        (world.open(&process, Some(on_pricing), Provider::WebChat).await, sales),
        (
            world.open(&process, Some(german_browser), Provider::WebChat).await,
            german,
        ),
        (world.open(&process, None, Provider::Facebook).await, social),
        (
            world.open(&process, Some(english_first), Provider::WebChat).await,
            support,
        ),
        (world.open_for(&process, tagged, Some(vip_session)).await, vip),
    ];
    world.routed(&process.router).await;
    let assignments = world.assignments().await;
    for (conversation, team) in cases {
        let mine: Vec<&serde_json::Value> = assignments
            .iter()
            .filter(|(c, _)| *c == conversation)
            .map(|(_, p)| p)
            .collect();
        assert_eq!(mine.len(), 2, "{conversation}: a team, then an agent: {mine:?}");
        assert_eq!(mine[0]["assignee"]["team"]["id"], team.0.to_string());
        assert_eq!(mine[0]["reason"]["type"], "routing_rule");
        assert_eq!(mine[1]["assignee"]["type"], "agent");
        assert_eq!(mine[1]["reason"]["type"], "auto_assignment");
        assert_eq!(mine[1]["reason"]["team_id"], team.0.to_string());
    }
    let first_agent = |c: usize| {
        assignments
            .iter()
            .filter(|(x, _)| *x == cases[c].0)
            .nth(1)
            .map(|(_, p)| p.clone())
    };
    assert_eq!(
        first_agent(0).expect("assigned")["assignee"]["agent"]["id"],
        sales_agents[0].0.to_string()
    );
    assert_eq!(
        first_agent(1).expect("assigned")["assignee"]["agent"]["id"],
        german_agents[0].0.to_string()
    );
    process.router.shutdown().await;
}

#[sqlx::test(migrator = "livedesk_eventstore::MIGRATOR")]
async fn the_least_loaded_agent_idle_longest_gets_it_and_a_full_team_queues_oldest_first(pool: PgPool) {
    let world = World::new(pool.clone()).await;
    // Ana comes online first, so she has been idle longest.
    let (team, agents) = world.team("support", 2, 2).await;
    let (ana, ben) = (agents[0].0, agents[1].0);
    world.rules(vec![(RoutingConditions::default(), team)]).await;
    let process = Process::new(&pool, &world.clock).await;
    let mut opened = Vec::new();
    for _ in 0..6 {
        opened.push(world.open(&process, None, Provider::Api).await);
        world.routed(&process.router).await;
        world.tick();
    }
    let assigned = world.agent_assignments().await;
    let who = |n: usize| assigned.get(&opened[n]).map(|a| a[0]);
    // Fewest open first; on a tie the one idle longest (her last
    // assignment is older than his).
    assert_eq!(
        [who(0), who(1), who(2), who(3)],
        [Some(ana), Some(ben), Some(ana), Some(ben)]
    );
    assert_eq!((who(4), who(5)), (None, None), "both agents are at capacity");

    // Ana closes one: the oldest waiting conversation is hers.
    let done = ConversationCommand::ChangeStatus {
        status: ConversationStatus::Done,
        by: Staff::new(AgentRef::new(AgentId(ana), "Ana"), Role::Agent),
        at: world.now(),
    };
    process
        .conversations
        .execute(opened[0], done, &context(world.site))
        .await
        .expect("done");
    let assigned = world.await_agent_assigned(5).await;
    assert_eq!(assigned.get(&opened[4]).map(|a| a[0]), Some(ana));
    assert!(!assigned.contains_key(&opened[5]), "Ben is still full");

    // Ben gets room for one more: the last one goes to him.
    world
        .agent_command(
            AgentId(ben),
            AgentCommand::ChangeCapacity {
                max_concurrent: 3,
                at: world.now(),
            },
        )
        .await;
    let assigned = world.await_agent_assigned(6).await;
    assert_eq!(assigned.get(&opened[5]).map(|a| a[0]), Some(ben));
    assert!(
        assigned.values().all(|a| a.len() == 1),
        "each assigned once: {assigned:?}"
    );
    process.router.shutdown().await;
}

#[sqlx::test(migrator = "livedesk_eventstore::MIGRATOR")]
async fn two_hundred_conversations_opening_at_once_across_two_processes_are_each_assigned_once_within_capacity(
    pool: PgPool,
) {
    let world = World::new(pool.clone()).await;
    let (team, agents) = world.team("support", 5, 20).await;
    world.rules(vec![(RoutingConditions::default(), team)]).await;
    let (one, two) = (
        Process::new(&pool, &world.clock).await,
        Process::new(&pool, &world.clock).await,
    );

    // 100 openings through each process at once; the leading router is
    // killed half-way and the other takes over.
    let openings = futures::future::join_all((0..200).map(|n| {
        let process = if n % 2 == 0 { &one } else { &two };
        world.open(process, None, Provider::Api)
    }));
    let crash = async {
        world.await_agent_assigned(40).await;
        let (leader, survivor) = if one.router.is_leader() {
            (&one, &two)
        } else {
            (&two, &one)
        };
        leader.router.abort().await;
        survivor
    };
    let (opened, survivor) = futures::join!(openings, crash);
    let survivor = &survivor.router;
    world.routed(survivor).await;
    world.await_agent_assigned(100).await;
    // Give a wrong extra assignment time to show up before counting.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let assigned = world.agent_assignments().await;
    assert_eq!(assigned.len(), 100, "capacity is 5 x 20");
    assert!(assigned.values().all(|a| a.len() == 1), "nothing assigned twice");
    let per_agent = agents_of(&assigned);
    assert!(
        per_agent.values().all(|&n| n <= 20),
        "nobody over capacity: {per_agent:?}"
    );

    // Room for everyone: the queue is served oldest first.
    let waiting: Vec<Uuid> = opened.iter().copied().filter(|c| !assigned.contains_key(c)).collect();
    for agent in &agents {
        world
            .agent_command(
                *agent,
                AgentCommand::ChangeCapacity {
                    max_concurrent: 40,
                    at: world.now(),
                },
            )
            .await;
    }
    world.await_agent_assigned(200).await;
    world.routed(survivor).await;
    let assigned = world.agent_assignments().await;
    assert_eq!(assigned.len(), 200);
    assert!(
        assigned.values().all(|a| a.len() == 1),
        "each of the 200 assigned exactly once"
    );
    let per_agent = agents_of(&assigned);
    assert!(
        per_agent.values().all(|&n| n <= 40),
        "nobody over capacity: {per_agent:?}"
    );
    let order: Vec<Uuid> = world
        .assignments()
        .await
        .into_iter()
        .filter(|(c, p)| p["assignee"]["type"] == "agent" && waiting.contains(c))
        .map(|(c, _)| c)
        .collect();
    let mut oldest_first = waiting.clone();
    oldest_first.sort();
    assert_eq!(order, oldest_first, "the queue is served oldest first");
    one.router.shutdown().await;
    two.router.shutdown().await;
}

#[sqlx::test(migrator = "livedesk_eventstore::MIGRATOR")]
async fn an_agent_going_offline_or_leaving_a_visitor_unanswered_hands_the_conversation_to_a_teammate(pool: PgPool) {
    let world = World::new(pool.clone()).await;
    let (team, agents) = world.team("support", 2, 10).await;
    let (ana, ben) = (agents[0], agents[1]);
    world.rules(vec![(RoutingConditions::default(), team)]).await;
    world
        .site_command(SiteCommand::ConfigureAutoAssignment {
            enabled: true,
            reassign_after_secs: Some(60),
            reassign_when_offline: true,
            at: world.now(),
        })
        .await;
    let process = Process::new(&pool, &world.clock).await;
    let first = world.open(&process, None, Provider::Api).await;
    world.routed(&process.router).await;
    world.tick();
    let (second, visitor) = (Uuid::now_v7(), VisitorId(Uuid::now_v7()));
    let open = ConversationCommand::open(
        ConversationId(second),
        SiteId(world.site),
        visitor,
        None,
        Provider::Api,
        world.now(),
    );
    process
        .conversations
        .execute(second, open, &context(world.site))
        .await
        .expect("an opening");
    world.routed(&process.router).await;
    let holders = |assigned: &HashMap<Uuid, Vec<Uuid>>, c: Uuid| assigned.get(&c).cloned().unwrap_or_default();
    let assigned = world.agent_assignments().await;
    assert_eq!(
        (holders(&assigned, first), holders(&assigned, second)),
        (vec![ana.0], vec![ben.0])
    );

    // Ana goes offline: her conversation goes to Ben.
    let offline = AgentCommand::ChangePresence {
        presence: Presence::Offline,
        at: world.now(),
    };
    world.agent_command(ana, offline).await;
    world.routed(&process.router).await;
    let assigned = world.agent_assignments().await;
    assert_eq!(holders(&assigned, first), vec![ana.0, ben.0]);
    let reasons: Vec<serde_json::Value> = world
        .assignments()
        .await
        .into_iter()
        .map(|(_, p)| p["reason"]["type"].clone())
        .collect();
    assert_eq!(reasons.last().and_then(|r| r.as_str()), Some("agent_went_offline"));

    // Ana is back; the visitor of Ben's second conversation waits 61 s.
    world.tick();
    let online = AgentCommand::ChangePresence {
        presence: Presence::Online,
        at: world.now(),
    };
    world.agent_command(ana, online).await;
    let message = ConversationCommand::post_visitor_message(MessageId(Uuid::now_v7()), visitor, "Hello?", world.now());
    let posted = process
        .conversations
        .execute(second, message, &context(world.site))
        .await
        .expect("a message");
    let position = posted.append.expect("appended").last_position;
    world
        .projections
        .wait_for("inbox", position, PATIENCE)
        .await
        .expect("the inbox caught up");
    world.clock.advance(TimeDelta::seconds(61));
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let assigned = world.agent_assignments().await;
        if holders(&assigned, second).len() == 2 {
            assert_eq!(
                holders(&assigned, second),
                vec![ben.0, ana.0],
                "left unanswered by Ben, now Ana's"
            );
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the unanswered conversation was reassigned"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Once per unanswered stretch: further sweeps leave it with Ana.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(holders(&world.agent_assignments().await, second).len(), 2);
    process.router.shutdown().await;
}
