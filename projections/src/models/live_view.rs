//! The Live View: `live_sessions`, one row per active session, deleted
//! when the session ends, and `live_view_sites`, the online count of each
//! site (the number of its rows in `live_sessions`, kept in the same
//! transaction).
//!
//! Two helper tables keep what the rows need from other streams:
//! `live_view_visitors` (the identity a visitor was tagged with, shown on
//! every session of theirs) and `live_view_conversations` (which active
//! session a conversation belongs to, for message counts and previews;
//! rows go with their session).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use livedesk_domain::RecordedEvent;
use livedesk_domain::conversation::ConversationEvent;
use livedesk_domain::session::SessionEvent;
use livedesk_domain::visitor::VisitorEvent;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

use super::inbox::{full_name, variant};
use super::{Folded, decode, preview, stream_id, tag_field, tag_labels};
use crate::as_of::stored_session;
use crate::table::{CopyRows, Reads, Table, Writes};
use crate::{Changes, ProjectionError, Projector, Replay, Rows};

/// The `live_view` projector.
#[derive(Debug, Clone, Copy, Default)]
pub struct LiveViewProjector;

pub(crate) const SESSIONS: Table = Table {
    name: "live_sessions",
    key: "session_id",
    columns: &[
        "session_id",
        "site_id",
        "visitor_id",
        "code",
        "code_shared",
        "status",
        "current_path",
        "current_title",
        "referrer",
        "browser",
        "device",
        "os",
        "country",
        "visitor_email",
        "visitor_name",
        "labels",
        "external_user_id",
        "tabs",
        "page_views",
        "connected_agent",
        "co_browsing_agent",
        "conversation_id",
        "message_count",
        "last_message_preview",
        "last_message_at",
        "started_at",
        "last_activity_at",
        "expires_at",
        "position",
    ],
    json: &["labels", "connected_agent", "co_browsing_agent"],
};

pub(crate) const VISITORS: Table = Table {
    name: "live_view_visitors",
    key: "visitor_id",
    columns: &[
        "visitor_id",
        "email",
        "first_name",
        "last_name",
        "labels",
        "external_user_id",
    ],
    json: &["labels"],
};

pub(crate) const CONVERSATIONS: Table = Table {
    name: "live_view_conversations",
    key: "conversation_id",
    columns: &["conversation_id", "session_id"],
    json: &[],
};

pub(crate) const SITES: Table = Table {
    name: "live_view_sites",
    key: "site_id",
    columns: &["site_id", "online"],
    json: &[],
};

/// A row of `live_view_sites`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct SiteRow {
    site_id: Uuid,
    online: i32,
}

/// A row of `live_sessions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveSessionRow {
    /// The session.
    pub session_id: Uuid,
    /// Its site.
    pub site_id: Uuid,
    /// Its visitor.
    pub visitor_id: Uuid,
    /// The code for "connect by code".
    pub code: String,
    /// Whether the visitor was shown the code.
    pub code_shared: bool,
    /// `active` or `idle`.
    pub status: String,
    /// The page the visitor is on.
    pub current_path: String,
    /// Its title.
    pub current_title: Option<String>,
    /// Where the visitor came from.
    pub referrer: Option<String>,
    /// Browser.
    pub browser: String,
    /// `desktop`, `mobile`, `tablet` or `unknown`.
    pub device: String,
    /// Operating system.
    pub os: String,
    /// ISO country code.
    pub country: Option<String>,
    /// Tagged email.
    pub visitor_email: Option<String>,
    /// Tagged name.
    pub visitor_name: Option<String>,
    /// Tagged labels.
    pub labels: Vec<String>,
    /// The site's user id.
    pub external_user_id: Option<String>,
    /// Tabs joined.
    pub tabs: i32,
    /// Pages viewed, the entry page included.
    pub page_views: i32,
    /// The agent connected (by code or accepted request): `{"id", "display_name"}`.
    pub connected_agent: Option<serde_json::Value>,
    /// The agent co-browsing.
    pub co_browsing_agent: Option<serde_json::Value>,
    /// The newest conversation of the session.
    pub conversation_id: Option<Uuid>,
    /// Messages in the session's conversations (notes excluded).
    pub message_count: i32,
    /// The start of the last message.
    pub last_message_preview: Option<String>,
    /// When it was posted.
    pub last_message_at: Option<DateTime<Utc>>,
    /// When the session started.
    pub started_at: DateTime<Utc>,
    /// The last sign of the visitor.
    pub last_activity_at: DateTime<Utc>,
    /// When it ends at the latest.
    pub expires_at: DateTime<Utc>,
    /// The last event applied.
    pub position: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct VisitorRow {
    visitor_id: Uuid,
    email: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    labels: Vec<String>,
    external_user_id: Option<String>,
}

impl LiveSessionRow {
    /// Shows `visitor`'s identity on the row (what [`retag_sessions`] does
    /// in SQL).
    fn show(&mut self, visitor: &VisitorRow) {
        self.visitor_email.clone_from(&visitor.email);
        self.visitor_name = full_name(visitor.first_name.as_deref(), visitor.last_name.as_deref());
        self.labels.clone_from(&visitor.labels);
        self.external_user_id.clone_from(&visitor.external_user_id);
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ConversationRow {
    conversation_id: Uuid,
    session_id: Uuid,
}

impl Projector for LiveViewProjector {
    fn name(&self) -> &'static str {
        "live_view"
    }

    fn event_types(&self) -> Vec<String> {
        super::types_of(SessionEvent::EVENT_TYPES)
            .chain(["VisitorTagged", "ConversationOpened", "MessagePosted"].map(String::from))
            .collect()
    }

    fn tables(&self) -> &'static [&'static str] {
        &[
            "live_sessions",
            "live_view_sites",
            "live_view_visitors",
            "live_view_conversations",
        ]
    }

    fn apply<'a>(
        &'a self,
        tx: &'a mut PgConnection,
        events: &'a [RecordedEvent],
        changes: &'a mut Changes,
    ) -> BoxFuture<'a, Result<(), ProjectionError>> {
        Box::pin(apply(tx, events, changes))
    }

    fn replay(&self) -> Option<Box<dyn Replay>> {
        Some(Box::new(LiveViewReplay(LiveView::default())))
    }
}

enum Decoded {
    Session(Uuid, SessionEvent),
    Visitor(Uuid, VisitorEvent),
    Conversation(Uuid, ConversationEvent),
}

/// The keys a batch touches, per table.
#[derive(Default)]
struct Keys {
    sessions: BTreeSet<Uuid>,
    visitors: BTreeSet<Uuid>,
    conversations: BTreeSet<Uuid>,
}

fn keys(v: BTreeSet<Uuid>) -> Vec<Uuid> {
    v.into_iter().collect()
}

impl Decoded {
    /// The event decoded, and the keys it needs loaded.
    fn new(event: &RecordedEvent, keys: &mut Keys) -> Result<Self, ProjectionError> {
        let id = stream_id(event)?;
        Ok(match event.stream.category() {
            "session" => {
                let e: SessionEvent = decode(event)?;
                if let SessionEvent::Started(s) = &e {
                    keys.visitors.insert(s.visitor_id.0);
                }
                keys.sessions.insert(id);
                Decoded::Session(id, e)
            }
            "visitor" => {
                keys.visitors.insert(id);
                Decoded::Visitor(id, decode(event)?)
            }
            "conversation" => {
                let e: ConversationEvent = decode(event)?;
                if let ConversationEvent::Opened(o) = &e
                    && let Some(session) = o.session_id
                {
                    keys.sessions.insert(session.0);
                }
                keys.conversations.insert(id);
                Decoded::Conversation(id, e)
            }
            other => {
                return Err(ProjectionError::Invalid {
                    position: event.position,
                    reason: format!("the live view reads no {other} events"),
                });
            }
        })
    }
}

/// The rows a batch folds: loaded ones for a live batch, all of them for a
/// replay.
#[derive(Debug, Default)]
struct LiveView {
    sessions: Folded<LiveSessionRow>,
    visitors: Folded<VisitorRow>,
    conversations: Folded<ConversationRow>,
    /// Sessions that ended: their conversation rows go away.
    ended: BTreeSet<Uuid>,
    /// Visitors tagged: their identity goes onto their sessions.
    tagged: BTreeSet<Uuid>,
    /// Per site, sessions started minus sessions ended.
    online: BTreeMap<Uuid, i32>,
}

impl LiveView {
    fn fold(&mut self, event: &RecordedEvent, decoded: Decoded, changes: &mut Changes) -> Result<(), ProjectionError> {
        if let Some(site) = event.metadata.site_id {
            changes.sites.insert(site);
        }
        let position = event.position as i64;
        match decoded {
            Decoded::Session(id, e) => {
                changes.sessions.insert(id);
                let existed = self.sessions.get(id).map(|row| row.site_id);
                match (&e, existed) {
                    (SessionEvent::Started(s), None) => *self.online.entry(s.site_id.0).or_default() += 1,
                    (SessionEvent::Ended(_), Some(site)) => *self.online.entry(site).or_default() -= 1,
                    _ => {}
                }
                if matches!(e, SessionEvent::Ended(_)) {
                    self.ended.insert(id);
                }
                fold_session(&mut self.sessions, &self.visitors, event, id, e)?;
            }
            Decoded::Visitor(id, VisitorEvent::Tagged(t)) => {
                let mut row = self.visitors.get(id).cloned().unwrap_or(VisitorRow {
                    visitor_id: id,
                    email: None,
                    first_name: None,
                    last_name: None,
                    labels: Vec::new(),
                    external_user_id: None,
                });
                tag_field(&mut row.email, &t.tag.email);
                tag_field(&mut row.first_name, &t.tag.first_name);
                tag_field(&mut row.last_name, &t.tag.last_name);
                tag_field(&mut row.external_user_id, &t.tag.external_user_id);
                tag_labels(&mut row.labels, &t.tag.labels);
                self.visitors.put(id, row);
                self.tagged.insert(id);
            }
            Decoded::Visitor(..) => {}
            Decoded::Conversation(id, ConversationEvent::Opened(o)) => {
                let Some(session) = o.session_id.map(|s| s.0) else {
                    return Ok(());
                };
                if let Some(row) = self.sessions.get_mut(session) {
                    row.conversation_id = Some(id);
                    row.position = position;
                    self.conversations.put(
                        id,
                        ConversationRow {
                            conversation_id: id,
                            session_id: session,
                        },
                    );
                    changes.sessions.insert(session);
                }
            }
            Decoded::Conversation(id, ConversationEvent::MessagePosted(m)) => {
                let Some(session) = self.conversations.get(id).map(|c| c.session_id) else {
                    return Ok(());
                };
                if let Some(row) = self.sessions.get_mut(session) {
                    row.message_count += 1;
                    row.last_message_preview = Some(preview(&m.body));
                    row.last_message_at = Some(m.at);
                    row.position = position;
                    changes.sessions.insert(session);
                }
            }
            Decoded::Conversation(..) => {}
        }
        Ok(())
    }

    /// Puts each visitor's current identity on their sessions: what a live
    /// batch does in SQL after its fold ([`retag_sessions`]), done in
    /// memory by a replay once at the end.
    fn show_visitors(&mut self) {
        for row in self.sessions.values_mut() {
            if let Some(v) = self.visitors.get(row.visitor_id) {
                row.show(v);
            }
        }
    }
}

/// Session `id` as the Live View holds it after `events`, folded from an
/// empty Live View exactly as a rebuild folds the whole log
/// ([`LiveViewReplay`]). `events` are in position order and of the
/// projector's types; `None` when they never start `id` or end it.
///
/// # Errors
///
/// [`ProjectionError`] naming an event that cannot be decoded or applied.
pub(crate) fn replay_session(id: Uuid, events: &[RecordedEvent]) -> Result<Option<LiveSessionRow>, ProjectionError> {
    let mut view = LiveView::default();
    let (mut keys, mut changes) = (Keys::default(), Changes::default());
    for event in events {
        view.fold(event, Decoded::new(event, &mut keys)?, &mut changes)?;
    }
    view.show_visitors();
    Ok(view.sessions.get(id).cloned())
}

async fn apply(tx: &mut PgConnection, events: &[RecordedEvent], changes: &mut Changes) -> Result<(), ProjectionError> {
    let mut decoded = Vec::with_capacity(events.len());
    let mut k = Keys::default();
    for event in events {
        decoded.push((event, Decoded::new(event, &mut k)?));
    }
    // A conversation names its session: read conversations first, then
    // sessions and visitors (and the online counts of the batch's sites,
    // for the rows handed on).
    let mut reads = Reads::default();
    let conversations = reads.rows(&CONVERSATIONS, k.conversations);
    let loaded: Vec<ConversationRow> = reads.fetch(tx).await?.take(conversations)?;
    k.sessions.extend(loaded.iter().map(|c| c.session_id));
    let conversations = Folded::loaded(loaded.into_iter().map(|c| (c.conversation_id, c)));
    let sites: BTreeSet<Uuid> = events.iter().filter_map(|e| e.metadata.site_id).collect();
    let mut reads = Reads::default();
    let (sessions, visitors) = (reads.rows(&SESSIONS, k.sessions), reads.rows(&VISITORS, k.visitors));
    let counts = reads.rows(&SITES, sites.iter().copied());
    let mut fetched = reads.fetch(tx).await?;
    let sessions: Vec<LiveSessionRow> = fetched.take(sessions)?;
    let visitors: Vec<VisitorRow> = fetched.take(visitors)?;
    let counted: Vec<SiteRow> = fetched.take(counts)?;
    let mut view = LiveView {
        sessions: Folded::loaded(sessions.into_iter().map(|s| (s.session_id, s))),
        visitors: Folded::loaded(visitors.into_iter().map(|v| (v.visitor_id, v))),
        conversations,
        ..LiveView::default()
    };
    for (event, d) in decoded {
        view.fold(event, d, changes)?;
    }
    // The rows as they will be committed, unless SQL changes them after
    // the fold (a visitor's new identity onto their sessions).
    let carried: Option<(Vec<LiveSessionRow>, Vec<Uuid>)> = view.tagged.is_empty().then(|| {
        let (mut rows, mut ended) = (Vec::new(), Vec::new());
        for id in &changes.sessions {
            match view.sessions.get(*id) {
                Some(row) => rows.push(stored_session(row.clone())),
                None => ended.push(*id),
            }
        }
        (rows, ended)
    });
    let mut writes = Writes::default();
    let (rows, gone) = view.sessions.into_writes();
    changes.sites.extend(rows.iter().map(|r| r.site_id));
    writes.delete(&SESSIONS, gone);
    writes.upsert(&SESSIONS, &rows)?;
    let (rows, _) = view.visitors.into_writes();
    writes.upsert(&VISITORS, &rows)?;
    // An ended session's conversations go away (and are not written: one
    // statement may not touch a row twice).
    let (mut rows, _) = view.conversations.into_writes();
    rows.retain(|c| !view.ended.contains(&c.session_id));
    writes.upsert(&CONVERSATIONS, &rows)?;
    writes.delete_where(&CONVERSATIONS, "session_id", view.ended);
    writes.execute(tx).await?;
    if !view.tagged.is_empty() {
        retag_sessions(tx, &keys(view.tagged), changes).await?;
    }
    count_online(tx, &view.online).await?;
    if let Some((sessions, ended)) = carried
        && let Some(online) = online_after(&changes.sites, &sites, &counted, &view.online)
    {
        changes.rows = Some(Rows::LiveView {
            sessions,
            ended,
            online,
        });
    }
    Ok(())
}

/// The online count of each of `touched` after the batch: what was read
/// plus the batch's change; `None` when a site was not among those `read`.
fn online_after(
    touched: &BTreeSet<Uuid>,
    read: &BTreeSet<Uuid>,
    counted: &[SiteRow],
    deltas: &BTreeMap<Uuid, i32>,
) -> Option<BTreeMap<Uuid, i64>> {
    let before: BTreeMap<Uuid, i32> = counted.iter().map(|c| (c.site_id, c.online)).collect();
    let count = |site: &Uuid| before.get(site).copied().unwrap_or(0) + deltas.get(site).copied().unwrap_or(0);
    touched
        .iter()
        .map(|site| read.contains(site).then(|| (*site, i64::from(count(site)))))
        .collect()
}

/// Adds each site's change of sessions to its online count; a count that
/// reaches 0 goes away.
async fn count_online(tx: &mut PgConnection, online: &BTreeMap<Uuid, i32>) -> Result<(), sqlx::Error> {
    let (sites, deltas): (Vec<Uuid>, Vec<i32>) = online.iter().filter(|(_, d)| **d != 0).map(|(s, d)| (*s, *d)).unzip();
    if sites.is_empty() {
        return Ok(());
    }
    // A site with no session has no row (as after a rebuild). Each row is
    // deleted or upserted, never both: a statement that updates a row and
    // then deletes it in another part deletes nothing.
    sqlx::query(
        "WITH counted AS ( \
             SELECT d.site_id, coalesce(s.online, 0) + d.delta AS online \
               FROM unnest($1::uuid[], $2::int[]) AS d(site_id, delta) \
               LEFT JOIN live_view_sites s ON s.site_id = d.site_id), \
         gone AS (DELETE FROM live_view_sites s USING counted c WHERE s.site_id = c.site_id AND c.online = 0) \
         INSERT INTO live_view_sites (site_id, online) SELECT site_id, online FROM counted WHERE online <> 0 \
         ON CONFLICT (site_id) DO UPDATE SET online = excluded.online",
    )
    .bind(sites)
    .bind(deltas)
    .execute(tx)
    .await?;
    Ok(())
}

/// The Live View of the whole history in memory. What a live batch does
/// in SQL after its fold is done once at the end: the conversations of
/// ended sessions go away, and each session carries its visitor's current
/// identity (as [`retag_sessions`] keeps it live).
struct LiveViewReplay(LiveView);

impl Replay for LiveViewReplay {
    fn apply(&mut self, events: &[&RecordedEvent]) -> Result<Vec<CopyRows>, ProjectionError> {
        let (mut keys, mut changes) = (Keys::default(), Changes::default());
        for event in events {
            self.0.fold(event, Decoded::new(event, &mut keys)?, &mut changes)?;
        }
        self.0.ended.clear();
        self.0.tagged.clear();
        self.0.online.clear();
        Ok(Vec::new())
    }

    fn finish(mut self: Box<Self>) -> Result<Vec<CopyRows>, ProjectionError> {
        self.0.show_visitors();
        let LiveView {
            sessions,
            visitors,
            mut conversations,
            ..
        } = self.0;
        conversations.retain(|c| sessions.get(c.session_id).is_some());
        let mut online: BTreeMap<Uuid, i32> = BTreeMap::new();
        for row in sessions.values() {
            *online.entry(row.site_id).or_default() += 1;
        }
        let sites: Vec<SiteRow> = online
            .into_iter()
            .map(|(site_id, online)| SiteRow { site_id, online })
            .collect();
        Ok(vec![
            SESSIONS.encode(sessions.values())?,
            SITES.encode(&sites)?,
            VISITORS.encode(visitors.values())?,
            CONVERSATIONS.encode(conversations.values())?,
        ])
    }
}

/// Copies the identity of `visitors` onto their active sessions.
async fn retag_sessions(tx: &mut PgConnection, visitors: &[Uuid], changes: &mut Changes) -> Result<(), sqlx::Error> {
    let touched: Vec<(Uuid, Uuid)> = sqlx::query_as(
        "UPDATE live_sessions s SET visitor_email = v.email, \
                visitor_name = nullif(concat_ws(' ', v.first_name, v.last_name), ''), \
                labels = v.labels, external_user_id = v.external_user_id \
           FROM live_view_visitors v \
          WHERE v.visitor_id = ANY($1) AND s.visitor_id = v.visitor_id \
         RETURNING s.session_id, s.site_id",
    )
    .bind(visitors)
    .fetch_all(tx)
    .await?;
    for (session, site) in touched {
        changes.sessions.insert(session);
        changes.sites.insert(site);
    }
    Ok(())
}

fn fold_session(
    sessions: &mut Folded<LiveSessionRow>,
    visitors: &Folded<VisitorRow>,
    event: &RecordedEvent,
    id: Uuid,
    e: SessionEvent,
) -> Result<(), ProjectionError> {
    let position = event.position as i64;
    if let SessionEvent::Started(s) = &e {
        let mut row = LiveSessionRow {
            session_id: id,
            site_id: s.site_id.0,
            visitor_id: s.visitor_id.0,
            code: s.code.to_string(),
            code_shared: false,
            status: "active".into(),
            current_path: s.entry_path.clone(),
            current_title: None,
            referrer: s.referrer.clone(),
            browser: s.client.browser.clone(),
            device: variant(&s.client.device),
            os: s.client.os.clone(),
            country: s.client.country.clone(),
            visitor_email: None,
            visitor_name: None,
            labels: Vec::new(),
            external_user_id: None,
            tabs: 1,
            page_views: 1,
            connected_agent: None,
            co_browsing_agent: None,
            conversation_id: None,
            message_count: 0,
            last_message_preview: None,
            last_message_at: None,
            started_at: s.at,
            last_activity_at: s.at,
            expires_at: s.expires_at,
            position,
        };
        if let Some(visitor) = visitors.get(s.visitor_id.0) {
            row.show(visitor);
        }
        sessions.put(id, row);
        return Ok(());
    }
    if let SessionEvent::Ended(_) = e {
        sessions.remove(id);
        return Ok(());
    }
    let Some(row) = sessions.get_mut(id) else {
        // The session already ended, or started before this model existed.
        return Ok(());
    };
    row.position = position;
    row.last_activity_at = row.last_activity_at.max(e.at());
    let agent = |a: &livedesk_domain::AgentRef| serde_json::to_value(a).ok();
    match e {
        SessionEvent::Started(_) | SessionEvent::Ended(_) => {}
        SessionEvent::TabJoined(_) => row.tabs += 1,
        SessionEvent::PageViewed(p) => {
            row.current_path = p.path;
            row.current_title = p.title;
            row.page_views += 1;
        }
        SessionEvent::BecameIdle(_) => row.status = "idle".into(),
        SessionEvent::BecameActive(_) => row.status = "active".into(),
        SessionEvent::CodeShared(c) => {
            row.code = c.code.to_string();
            row.code_shared = true;
        }
        SessionEvent::AgentConnectedByCode(c) => row.connected_agent = agent(&c.agent),
        SessionEvent::ConnectionAccepted(c) => row.connected_agent = agent(&c.agent),
        SessionEvent::CoBrowsingStarted(c) => row.co_browsing_agent = agent(&c.agent),
        SessionEvent::CoBrowsingEnded(_) => row.co_browsing_agent = None,
        SessionEvent::ConnectionRequested(_)
        | SessionEvent::ConnectionDeclined(_)
        | SessionEvent::ConnectionExpired(_) => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use sqlx::PgPool;
    use uuid::Uuid;

    use super::count_online;

    async fn online(pool: &PgPool) -> Vec<(Uuid, i32)> {
        sqlx::query_as("SELECT site_id, online FROM live_view_sites ORDER BY site_id")
            .fetch_all(pool)
            .await
            .expect("online counts")
    }

    #[sqlx::test(migrator = "livedesk_eventstore::MIGRATOR")]
    async fn a_site_whose_last_session_ends_loses_its_online_row(pool: PgPool) {
        let (a, b) = {
            let (x, y) = (Uuid::now_v7(), Uuid::now_v7());
            (x.min(y), x.max(y))
        };
        let mut conn = pool.acquire().await.expect("connection");
        count_online(&mut conn, &BTreeMap::from([(a, 1), (b, 2)]))
            .await
            .expect("count");
        assert_eq!(online(&pool).await, vec![(a, 1), (b, 2)]);
        count_online(&mut conn, &BTreeMap::from([(a, -1), (b, 1)]))
            .await
            .expect("count");
        assert_eq!(online(&pool).await, vec![(b, 3)], "a site with no session keeps no row");
    }
}
