//! What SLA policies and routing rules look at, loaded from the streams
//! (the write side, never behind): the site's settings and teams, the
//! visitor's labels, the session the chat started in.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use livedesk_domain::TeamId;
use livedesk_domain::session::{LiveSession, Session, SessionEvent, SessionState};
use livedesk_domain::site::{Site, SlaAndRouting, Team};
use livedesk_domain::visitor::{Visitor, VisitorState, VisitorTag};
use livedesk_domain::{Aggregate, StreamName};
use livedesk_eventstore::{CommandService, Direction, EventStore, PgEventStore};
use uuid::Uuid;

/// Events read per page of a session stream.
const PAGE: usize = 1000;

/// A site's settings as the automation processes need them.
#[derive(Debug, Default)]
pub(crate) struct SiteFacts {
    /// SLA policies, business hours, routing rules, auto-assignment.
    pub config: SlaAndRouting,
    /// Its teams with their members.
    pub teams: BTreeMap<TeamId, Team>,
}

/// Reads sites, visitors and sessions, keeping each site's settings until
/// a site event changes them.
#[derive(Debug)]
pub(crate) struct Facts {
    store: PgEventStore,
    sites: CommandService<PgEventStore, Site>,
    visitors: CommandService<PgEventStore, Visitor>,
    cache: Mutex<HashMap<Uuid, Arc<SiteFacts>>>,
}

impl Facts {
    pub fn new(store: PgEventStore) -> Self {
        Self {
            sites: CommandService::new(store.clone(), 16),
            visitors: CommandService::new(store.clone(), 16),
            store,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The site's settings and teams (defaults for an unknown site).
    pub async fn site(&self, site: Uuid) -> anyhow::Result<Arc<SiteFacts>> {
        if let Some(cached) = self.cache.lock().unwrap_or_else(PoisonError::into_inner).get(&site) {
            return Ok(cached.clone());
        }
        let state = self.sites.load(site).await?;
        let config = Arc::new(
            state
                .active()
                .map(|s| SiteFacts {
                    config: s.sla_and_routing.clone(),
                    teams: s.teams.clone(),
                })
                .unwrap_or_default(),
        );
        self.cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(site, config.clone());
        Ok(config)
    }

    /// Forgets the cached settings of `site` (a site event changed them);
    /// all of them with `None`.
    pub fn forget(&self, site: Option<Uuid>) {
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        match site {
            Some(site) => _ = cache.remove(&site),
            None => cache.clear(),
        }
    }

    /// The visitor's labels now.
    pub async fn labels(&self, visitor: Uuid) -> anyhow::Result<Vec<String>> {
        Ok(self.tag(visitor).await?.labels.unwrap_or_default())
    }

    /// The visitor's tag now (empty for an unknown visitor).
    pub async fn tag(&self, visitor: Uuid) -> anyhow::Result<VisitorTag> {
        Ok(match self.visitors.load(visitor).await? {
            VisitorState::Known(p) | VisitorState::Reset(p) => p.tag,
            VisitorState::Unknown => VisitorTag::default(),
        })
    }

    /// The page the session was on just before global position `before`
    /// (where the chat started), if it was live then.
    pub async fn page_path(&self, session: Uuid, before: u64) -> anyhow::Result<Option<String>> {
        Ok(self.session_at(session, before).await?.map(|live| live.current_path))
    }

    /// The session as it was just before global position `before`, if it
    /// was live then.
    pub async fn session_at(&self, session: Uuid, before: u64) -> anyhow::Result<Option<LiveSession>> {
        let stream = StreamName::for_id(Session::CATEGORY, session)?;
        let mut state = SessionState::default();
        let mut from = 0;
        'pages: loop {
            let page = self.store.read_stream(&stream, from, Direction::Forward, PAGE).await?;
            let done = page.len() < PAGE;
            for recorded in &page {
                if recorded.position >= before {
                    break 'pages;
                }
                state = Session::evolve(state, &recorded.decode::<SessionEvent>()?);
                from = recorded.stream_version + 1;
            }
            if done {
                break;
            }
        }
        Ok(match state {
            SessionState::Live(live) => Some(*live),
            SessionState::NotStarted | SessionState::Ended(_) => None,
        })
    }
}
