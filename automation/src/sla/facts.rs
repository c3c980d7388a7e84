//! What a policy's conditions look at, loaded from the other streams: the
//! site's policies and hours, the visitor's labels, the page the chat
//! started on.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use livedesk_domain::session::{Session, SessionEvent, SessionState};
use livedesk_domain::site::{Site, SlaAndRouting};
use livedesk_domain::visitor::{Visitor, VisitorState};
use livedesk_domain::{Aggregate, StreamName};
use livedesk_eventstore::{CommandService, Direction, EventStore, PgEventStore};
use uuid::Uuid;

/// Events read per page of a session stream.
const PAGE: usize = 1000;

/// Reads sites, visitors and sessions, keeping each site's SLA settings
/// until a site event changes them.
#[derive(Debug)]
pub(crate) struct Facts {
    store: PgEventStore,
    sites: CommandService<PgEventStore, Site>,
    visitors: CommandService<PgEventStore, Visitor>,
    cache: Mutex<HashMap<Uuid, Arc<SlaAndRouting>>>,
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

    /// The site's SLA policies and business hours (defaults for an unknown
    /// site).
    pub async fn site(&self, site: Uuid) -> anyhow::Result<Arc<SlaAndRouting>> {
        if let Some(cached) = self.cache.lock().unwrap_or_else(PoisonError::into_inner).get(&site) {
            return Ok(cached.clone());
        }
        let state = self.sites.load(site).await?;
        let config = Arc::new(state.active().map(|s| s.sla_and_routing.clone()).unwrap_or_default());
        self.cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(site, config.clone());
        Ok(config)
    }

    /// Forgets the cached settings of `site` (its policies or hours
    /// changed); all of them with `None`.
    pub fn forget(&self, site: Option<Uuid>) {
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        match site {
            Some(site) => _ = cache.remove(&site),
            None => cache.clear(),
        }
    }

    /// The visitor's labels now.
    pub async fn labels(&self, visitor: Uuid) -> anyhow::Result<Vec<String>> {
        let state = self.visitors.load(visitor).await?;
        let profile = match state {
            VisitorState::Known(p) | VisitorState::Reset(p) => p,
            VisitorState::Unknown => return Ok(Vec::new()),
        };
        Ok(profile.tag.labels.unwrap_or_default())
    }

    /// The page the session was on just before global position `before`
    /// (where the chat started), if it was live then.
    pub async fn page_path(&self, session: Uuid, before: u64) -> anyhow::Result<Option<String>> {
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
            SessionState::Live(live) => Some(live.current_path),
            SessionState::NotStarted | SessionState::Ended(_) => None,
        })
    }
}
