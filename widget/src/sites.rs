//! The sites as the widget API needs them (widget key, settings, identity
//! secret, text blocks), folded in memory from the site streams of the
//! log with the domain's own `Site::evolve`. A background task follows the
//! log; a lookup that misses reads the newer site events first, so a site
//! created a moment ago is found.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use livedesk_domain::Aggregate;
use livedesk_domain::site::{Site, SiteEvent, SiteProfile, SiteState};
use livedesk_eventstore::{EventStore, Filter, PgEventStore};
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::error::{WidgetError, WidgetResult};

/// Site events read per page while catching up.
const PAGE: usize = 1000;

#[derive(Debug, Default)]
struct Known {
    position: u64,
    sites: HashMap<Uuid, SiteState>,
    profiles: HashMap<Uuid, Arc<SiteProfile>>,
    by_key: HashMap<String, Uuid>,
}

/// The widget's view of every site.
#[derive(Debug, Clone)]
pub struct Sites {
    store: PgEventStore,
    known: Arc<RwLock<Known>>,
    catching_up: Arc<Mutex<()>>,
}

fn filter() -> Filter {
    Filter {
        categories: vec![Site::CATEGORY.to_owned()],
        ..Filter::default()
    }
}

impl Sites {
    /// An empty view over `store`; call [`follow`](Self::follow) to keep it
    /// current.
    pub fn new(store: PgEventStore) -> Self {
        Self {
            store,
            known: Arc::default(),
            catching_up: Arc::default(),
        }
    }

    /// Reads every site event after the last one folded.
    ///
    /// # Errors
    ///
    /// When the store cannot be read.
    pub async fn catch_up(&self) -> WidgetResult<()> {
        let _one_at_a_time = self.catching_up.lock().await;
        loop {
            let after = self.read().position;
            let page = self
                .store
                .read_all(after, PAGE, &filter())
                .await
                .map_err(WidgetError::internal)?;
            let done = page.len() < PAGE;
            let mut known = self.known.write().unwrap_or_else(std::sync::PoisonError::into_inner);
            for recorded in page {
                known.position = recorded.position;
                let Ok(site_id) = Uuid::parse_str(recorded.stream.id()) else {
                    continue;
                };
                let Ok(event) = recorded.decode::<SiteEvent>() else {
                    tracing::warn!(stream = %recorded.stream, "unreadable site event skipped by the widget");
                    continue;
                };
                let state = known.sites.remove(&site_id).unwrap_or_default();
                let state = Site::evolve(state, &event);
                if let Some(site) = state.active() {
                    let key = site.widget_key.clone();
                    known.by_key.insert(key, site_id);
                    known.profiles.insert(site_id, Arc::new(site.clone()));
                }
                known.sites.insert(site_id, state);
            }
            if done {
                return Ok(());
            }
        }
    }

    /// Follows the log until the process ends: every new site event is
    /// folded within milliseconds (the store's LISTEN/NOTIFY).
    pub fn follow(&self) -> tokio::task::JoinHandle<()> {
        let sites = self.clone();
        tokio::spawn(async move {
            use futures::StreamExt;
            loop {
                if let Err(error) = sites.catch_up().await {
                    tracing::warn!(%error, "widget site view cannot catch up; retrying");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    continue;
                }
                let after = sites.read().position;
                let mut stream = sites.store.subscribe_all(after, filter());
                // Each event wakes a catch-up, which reads it (and any
                // others) under the same lock as lookups that missed.
                while let Some(next) = stream.next().await {
                    if next.is_err() || sites.catch_up().await.is_err() {
                        break;
                    }
                }
            }
        })
    }

    /// The site whose widget key is `key`, if its widget is enabled.
    ///
    /// # Errors
    ///
    /// [`WidgetError::UnknownSite`] or [`WidgetError::SiteDisabled`].
    pub async fn by_key(&self, key: &str) -> WidgetResult<Arc<SiteProfile>> {
        if key.is_empty() || key.len() > 128 {
            return Err(WidgetError::UnknownSite);
        }
        let found = self.read().by_key.get(key).copied();
        let site_id = match found {
            Some(id) => id,
            None => {
                self.catch_up().await?;
                self.read().by_key.get(key).copied().ok_or(WidgetError::UnknownSite)?
            }
        };
        let site = self.by_id(site_id).await?;
        // A rotated key no longer names the site.
        if site.widget_key != key {
            return Err(WidgetError::UnknownSite);
        }
        Ok(site)
    }

    /// The site `id`, if its widget is enabled.
    ///
    /// # Errors
    ///
    /// [`WidgetError::UnknownSite`] or [`WidgetError::SiteDisabled`].
    pub async fn by_id(&self, id: Uuid) -> WidgetResult<Arc<SiteProfile>> {
        let found = self.profile(id);
        let site = match found {
            Some(site) => site,
            None => {
                self.catch_up().await?;
                self.profile(id).ok_or(WidgetError::UnknownSite)?
            }
        };
        if site.widget_enabled {
            Ok(site)
        } else {
            Err(WidgetError::SiteDisabled)
        }
    }

    fn profile(&self, id: Uuid) -> Option<Arc<SiteProfile>> {
        self.read().profiles.get(&id).cloned()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Known> {
        self.known.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
