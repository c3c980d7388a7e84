//! Generated domain histories for tests and benchmarks: commands decided by
//! the domain's aggregates (so every event is one the product could
//! record), spread over sites, agents, visitors, sessions and
//! conversations, appended to the PostgreSQL store.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use livedesk_domain::agent::{Agent, AgentCommand, Presence};
use livedesk_domain::conversation::*;
use livedesk_domain::session::{ClientInfo, DeviceClass, EndReason, Session, SessionCode, SessionCommand};
use livedesk_domain::site::{Site, SiteCommand};
use livedesk_domain::visitor::{Visitor, VisitorCommand, VisitorTag};
use livedesk_domain::{Actor, AgentRef, Aggregate, Initiator, Metadata, NewEvent, Role, Staff, StreamName, TeamRef};
use livedesk_eventstore::{EventStore, ExpectedVersion, PgEventStore};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

#[derive(Debug)]
struct Stream<S> {
    state: S,
    version: Option<u64>,
    site: Uuid,
}

/// Generates commands, decides them, and keeps what to append.
#[derive(Debug)]
pub struct History {
    rng: StdRng,
    now: DateTime<Utc>,
    sites: Vec<Uuid>,
    agents: Vec<(Staff, Uuid)>,
    visitors: Vec<(Uuid, Uuid)>,
    live_sessions: Vec<(Uuid, Uuid, Uuid)>,
    /// Open conversations and their visitors.
    conversations: Vec<(Uuid, Uuid)>,
    site_streams: HashMap<Uuid, Stream<<Site as Aggregate>::State>>,
    agent_streams: HashMap<Uuid, Stream<<Agent as Aggregate>::State>>,
    visitor_streams: HashMap<Uuid, Stream<<Visitor as Aggregate>::State>>,
    session_streams: HashMap<Uuid, Stream<<Session as Aggregate>::State>>,
    conversation_streams: HashMap<Uuid, Stream<<Conversation as Aggregate>::State>>,
    /// What to append, in order.
    pub appends: Vec<(StreamName, ExpectedVersion, Vec<NewEvent>)>,
    /// Events generated.
    pub events: usize,
    n: u64,
}

fn decide_into<A: Aggregate>(
    streams: &mut HashMap<Uuid, Stream<A::State>>,
    appends: &mut Vec<(StreamName, ExpectedVersion, Vec<NewEvent>)>,
    events_count: &mut usize,
    id: Uuid,
    site: Uuid,
    command: A::Command,
) -> bool {
    let stream = streams.entry(id).or_insert_with(|| Stream {
        state: A::State::default(),
        version: None,
        site,
    });
    let Ok(events) = A::decide(&stream.state, command) else {
        return false;
    };
    if events.is_empty() {
        return false;
    }
    let metadata = Metadata {
        site_id: Some(stream.site),
        actor: Some(Actor::System),
        ..Metadata::default()
    };
    let envelopes = events
        .iter()
        .map(|e| NewEvent::encode(Uuid::now_v7(), e, metadata.clone()).expect("encodable"))
        .collect::<Vec<_>>();
    let name = StreamName::for_id(A::CATEGORY, id).expect("stream name");
    appends.push((name, ExpectedVersion::after(stream.version), envelopes));
    let count = events.len() as u64;
    *events_count += events.len();
    stream.version = Some(stream.version.map_or(count - 1, |v| v + count));
    stream.state = events.iter().fold(std::mem::take(&mut stream.state), A::evolve);
    true
}

macro_rules! exec {
    ($self:ident, $agg:ty, $streams:ident, $id:expr, $site:expr, $cmd:expr) => {
        decide_into::<$agg>(
            &mut $self.$streams,
            &mut $self.appends,
            &mut $self.events,
            $id,
            $site,
            $cmd,
        )
    };
}

impl History {
    pub fn new(seed: u64, sites: usize, agents_per_site: usize) -> Self {
        let mut h = Self {
            rng: StdRng::seed_from_u64(seed),
            now: Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).single().expect("date"),
            sites: Vec::new(),
            agents: Vec::new(),
            visitors: Vec::new(),
            live_sessions: Vec::new(),
            conversations: Vec::new(),
            site_streams: HashMap::new(),
            agent_streams: HashMap::new(),
            visitor_streams: HashMap::new(),
            session_streams: HashMap::new(),
            conversation_streams: HashMap::new(),
            appends: Vec::new(),
            events: 0,
            n: 0,
        };
        for s in 0..sites {
            let site = Uuid::now_v7();
            let at = h.tick();
            exec!(
                h,
                Site,
                site_streams,
                site,
                site,
                SiteCommand::Create {
                    site_id: site.into(),
                    name: format!("Site {s}"),
                    allowed_origins: vec![format!("https://site{s}.example")],
                    widget_key: format!("widgetkey{s}abcdef"),
                    at,
                }
            );
            h.sites.push(site);
            for a in 0..agents_per_site {
                let agent = Uuid::now_v7();
                let role = if a == 0 { Role::Supervisor } else { Role::Agent };
                let name = format!("Agent {s}.{a}");
                let at = h.tick();
                exec!(
                    h,
                    Agent,
                    agent_streams,
                    agent,
                    site,
                    AgentCommand::Invite {
                        agent_id: agent.into(),
                        email: format!("agent{s}.{a}@example.com"),
                        name: name.clone(),
                        roles: BTreeMap::from([(site.into(), role)]),
                        at,
                    }
                );
                let at = h.tick();
                exec!(h, Agent, agent_streams, agent, site, AgentCommand::Activate { at });
                h.agents
                    .push((Staff::new(AgentRef::new(agent.into(), name), role), site));
            }
            for b in 0..3u128 {
                let block = Uuid::now_v7();
                let at = h.tick();
                exec!(
                    h,
                    Site,
                    site_streams,
                    site,
                    site,
                    SiteCommand::AddTextBlock {
                        text_block_id: block.into(),
                        shortcut: format!("hello{b}"),
                        title: format!("Hello {b}"),
                        body: "Hello! How can I help?".into(),
                        at,
                    }
                );
                let at = h.tick();
                let change = if b == 0 {
                    SiteCommand::RemoveTextBlock {
                        text_block_id: block.into(),
                        at,
                    }
                } else {
                    SiteCommand::ChangeTextBlock {
                        text_block_id: block.into(),
                        shortcut: format!("hi{b}"),
                        title: format!("Hi {b}"),
                        body: "Hi! How can I help?".into(),
                        at,
                    }
                };
                exec!(h, Site, site_streams, site, site, change);
            }
        }
        h
    }

    fn tick(&mut self) -> DateTime<Utc> {
        self.now += TimeDelta::milliseconds(self.rng.random_range(1..3_000));
        self.now
    }

    fn pick<T: Clone>(rng: &mut StdRng, items: &[T]) -> Option<T> {
        (!items.is_empty()).then(|| items[rng.random_range(0..items.len())].clone())
    }

    /// Adds random steps until at least `events` events exist.
    pub fn grow(&mut self, events: usize) {
        while self.events < events {
            self.step();
        }
    }

    fn step(&mut self) {
        let roll = self.rng.random_range(0..100);
        self.n += 1;
        let n = self.n;
        let at = self.tick();
        match roll {
            0 if self.rng.random_bool(0.5) => {
                let Some((staff, site)) = Self::pick(&mut self.rng, &self.agents) else {
                    return;
                };
                let presence = [Presence::Online, Presence::Away, Presence::Offline][(n % 3) as usize];
                let agent = staff.agent.id.0;
                exec!(
                    self,
                    Agent,
                    agent_streams,
                    agent,
                    site,
                    AgentCommand::ChangePresence { presence, at }
                );
            }
            0..4 => {
                let site = Self::pick(&mut self.rng, &self.sites).expect("sites");
                let visitor = Uuid::now_v7();
                exec!(
                    self,
                    Visitor,
                    visitor_streams,
                    visitor,
                    site,
                    VisitorCommand::FirstSeen {
                        visitor_id: visitor.into(),
                        site_id: site.into(),
                        at,
                    }
                );
                self.visitors.push((visitor, site));
            }
            4..7 => {
                let Some((visitor, site)) = Self::pick(&mut self.rng, &self.visitors) else {
                    return;
                };
                let tag = VisitorTag {
                    email: Some(format!("v{n}@example.com")),
                    first_name: Some(format!("Vi{n}")),
                    last_name: self.rng.random_bool(0.5).then(|| format!("Sitor{n}")),
                    labels: Some(vec![format!("l{}", n % 5)]),
                    ..VisitorTag::default()
                };
                exec!(
                    self,
                    Visitor,
                    visitor_streams,
                    visitor,
                    site,
                    VisitorCommand::Tag { tag, at }
                );
            }
            7..12 => {
                let Some((visitor, site)) = Self::pick(&mut self.rng, &self.visitors) else {
                    return;
                };
                let session = Uuid::now_v7();
                let started = exec!(
                    self,
                    Session,
                    session_streams,
                    session,
                    site,
                    SessionCommand::Start {
                        session_id: session.into(),
                        site_id: site.into(),
                        visitor_id: visitor.into(),
                        tab_id: format!("tab{n}"),
                        client: ClientInfo {
                            browser: "Firefox 131".into(),
                            device: DeviceClass::Desktop,
                            os: "Linux".into(),
                            country: Some("DE".into()),
                            languages: Vec::new(),
                        },
                        entry_path: "/".into(),
                        referrer: None,
                        code: SessionCode::from_random(n * 7919),
                        max_duration_secs: 3600,
                        at,
                    }
                );
                if started {
                    self.live_sessions.push((session, visitor, site));
                }
            }
            12..30 => {
                let Some((session, _, site)) = Self::pick(&mut self.rng, &self.live_sessions) else {
                    return;
                };
                let command = match self.rng.random_range(0..10) {
                    0..5 => SessionCommand::ViewPage {
                        path: format!("/page/{}", n % 17),
                        title: Some(format!("Page {n}")),
                        at,
                    },
                    5 => SessionCommand::BecomeIdle { at },
                    6 => SessionCommand::BecomeActive { at },
                    7 => SessionCommand::ShareCode { at },
                    8 => SessionCommand::JoinTab {
                        tab_id: format!("tab{n}"),
                        at,
                    },
                    _ => SessionCommand::End {
                        reason: EndReason::Closed,
                        at,
                    },
                };
                let end = matches!(command, SessionCommand::End { .. });
                let done = exec!(self, Session, session_streams, session, site, command);
                if end && done {
                    self.live_sessions.retain(|(s, _, _)| *s != session);
                }
            }
            30..36 => {
                let Some((session, visitor, site)) = Self::pick(&mut self.rng, &self.live_sessions) else {
                    return;
                };
                let conversation = Uuid::now_v7();
                let open = ConversationCommand::open(
                    conversation.into(),
                    site.into(),
                    visitor.into(),
                    Some(session.into()),
                    Provider::WebChat,
                    at,
                );
                if exec!(self, Conversation, conversation_streams, conversation, site, open) {
                    self.conversations.push((conversation, visitor));
                }
            }
            36..38 => {
                let Some((visitor, site)) = Self::pick(&mut self.rng, &self.visitors) else {
                    return;
                };
                let conversation = Uuid::now_v7();
                let open = ConversationCommand::open(
                    conversation.into(),
                    site.into(),
                    visitor.into(),
                    None,
                    Provider::Api,
                    at,
                );
                if exec!(self, Conversation, conversation_streams, conversation, site, open) {
                    self.conversations.push((conversation, visitor));
                }
            }
            _ => {
                let Some((conversation, visitor)) = Self::pick(&mut self.rng, &self.conversations) else {
                    return;
                };
                let site = self.conversation_streams[&conversation].site;
                let command = self.conversation_command(site, visitor, n, at);
                exec!(self, Conversation, conversation_streams, conversation, site, command);
            }
        }
    }

    /// A command on a conversation of `site` whose visitor is `visitor`.
    fn conversation_command(&mut self, site: Uuid, visitor: Uuid, n: u64, at: DateTime<Utc>) -> ConversationCommand {
        let staff: Vec<Staff> = self
            .agents
            .iter()
            .filter(|(_, s)| *s == site)
            .map(|(a, _)| a.clone())
            .collect();
        let by = Self::pick(&mut self.rng, &staff).expect("agents on every site");
        let message_id = Uuid::now_v7().into();
        match self.rng.random_range(0..20) {
            0..5 => ConversationCommand::post_visitor_message(message_id, visitor.into(), format!("hello {n}"), at),
            5..8 => ConversationCommand::post_agent_message(message_id, by.agent, format!("reply {n}"), at)
                .with_attachments(vec![Attachment {
                    kind: AttachmentKind::Article,
                    reference: format!("kb-{n}"),
                }]),
            8..10 => ConversationCommand::post_bot_message(message_id, "builtin", format!("bot {n}"), at),
            10 => ConversationCommand::post_note(message_id, by.agent, format!("note {n}"), at),
            11 => ConversationCommand::ChangeStatus {
                status: [ConversationStatus::Unresolved, ConversationStatus::Done][(n % 2) as usize],
                by,
                at,
            },
            12 => ConversationCommand::AssignToMe { by, at },
            13 => ConversationCommand::Assign {
                assignee: Assignee::Team {
                    team: TeamRef {
                        id: Uuid::from_u128(u128::from(n % 3) + 1).into(),
                        name: "Support".into(),
                    },
                },
                by,
                reassign: true,
                at,
            },
            14 => ConversationCommand::Unassign {
                by: Initiator::System,
                at,
            },
            15 => ConversationCommand::TakeOver { by, at },
            16 => ConversationCommand::Release {
                by: Initiator::System,
                reason: ReleaseReason::TimedOut,
                at,
            },
            17 => ConversationCommand::RequestHuman {
                by: HumanRequester::Visitor,
                at,
            },
            18 => ConversationCommand::ApplySla {
                policy_id: Uuid::from_u128(77).into(),
                targets: vec![SlaDue {
                    target: SlaTarget::FirstResponse,
                    due_at: at + TimeDelta::minutes(5),
                }],
                at,
            },
            _ => {
                if self.rng.random_bool(0.5) {
                    ConversationCommand::FulfilSla {
                        target: SlaTarget::FirstResponse,
                        at,
                    }
                } else {
                    ConversationCommand::BreachSla {
                        target: SlaTarget::FirstResponse,
                        at: at + TimeDelta::minutes(6),
                    }
                }
            }
        }
    }

    /// Appends everything generated so far and forgets it: in windows of
    /// up to 256 concurrent appends to distinct streams (group commit
    /// makes that fast), one window after the other, so every stream gets
    /// its appends in order.
    pub async fn append_to(&mut self, store: &PgEventStore) -> u64 {
        let appends = std::mem::take(&mut self.appends);
        let mut windows: Vec<Vec<(StreamName, ExpectedVersion, Vec<NewEvent>)>> = vec![Vec::new()];
        for append in appends {
            let window = windows.last_mut().expect("a window");
            if window.len() >= 256 || window.iter().any(|(s, _, _)| *s == append.0) {
                windows.push(vec![append]);
            } else {
                window.push(append);
            }
        }
        let mut head = 0;
        for window in windows {
            let results = futures::future::join_all(
                window
                    .into_iter()
                    .map(|(stream, expected, events)| async move { store.append(&stream, expected, events).await }),
            )
            .await;
            for result in results {
                head = head.max(result.expect("a valid history appends").last_position);
            }
        }
        head
    }
}
