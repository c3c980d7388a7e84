//! Subscriptions: each first pushes the current state (`snapshot: true`),
//! then every change from the feed that the caller may see. Subscribing to
//! the feed happens before the snapshot is read, so nothing falls between
//! them; a change the snapshot already shows is not pushed again (rows and
//! messages carry the position of their last event).

use std::collections::BTreeMap;

use async_graphql::{Context, ID, SimpleObject, Subscription};
use futures::Stream;
use futures::stream::{self, StreamExt};
use livedesk_projections::models::inbox::ConversationRow;
use sqlx::PgPool;
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;
use uuid::Uuid;

use super::query::ConversationFilter;
use super::types::{Conversation, LiveSession, Message, NotificationKind, Page, parse_id, stored};
use super::{api, principal};
use crate::auth::Permission;
use crate::error::{ApiError, ApiResult};
use crate::feed::FeedEvent;
use crate::reads::{self, InboxFilter, InboxOrder, LiveFilter};

/// Sessions and conversations a snapshot holds at most.
const SNAPSHOT_ROWS: i32 = 100;
/// Messages a conversation snapshot holds (the newest).
const SNAPSHOT_MESSAGES: i64 = 50;

/// A change to a site's Live View.
#[derive(Debug, SimpleObject)]
pub struct LiveSessionsUpdate {
    /// The first push: every live session (up to 100, newest first).
    pub snapshot: bool,
    /// Sessions live on the site now.
    pub online_count: i64,
    /// Sessions that started or changed, as they are now.
    pub upserted: Vec<LiveSession>,
    /// Sessions that ended.
    pub removed: Vec<ID>,
}

/// A change to an inbox list.
#[derive(Debug, SimpleObject)]
pub struct ConversationsUpdate {
    /// The first push: the list's first 100 rows, newest first.
    pub snapshot: bool,
    /// Rows that entered the list or changed, as they are now.
    pub upserted: Vec<Conversation>,
    /// Rows that left the list (another status, assignee, ...).
    pub removed: Vec<ID>,
}

/// A change to one conversation.
#[derive(Debug, SimpleObject)]
pub struct ConversationUpdate {
    /// The first push: the conversation and its newest 50 messages.
    pub snapshot: bool,
    /// The conversation as it is now: status, assignee, take-over, SLA.
    pub conversation: Conversation,
    /// Messages and notes new since the last push, oldest first.
    pub messages: Vec<Message>,
}

/// Something an agent should hear about.
#[derive(Debug, SimpleObject)]
pub struct Notification {
    /// A new conversation or a new message.
    pub kind: NotificationKind,
    /// The conversation.
    pub conversation: Conversation,
    /// The visitor's message.
    pub message: Message,
}

/// The subscriptions to read-model changes (the integrator feed of raw
/// events is [`super::history::HistorySubscription`]).
#[derive(Debug, Default)]
pub struct ChangesSubscription;

type Updates<T> = std::pin::Pin<Box<dyn Stream<Item = ApiResult<T>> + Send>>;

/// Turns feed events into pushes with `step`, after `first`.
fn pushes<S, T, F, Fut>(first: Option<T>, rx: broadcast::Receiver<FeedEvent>, state: S, step: F) -> Updates<T>
where
    S: Send + 'static,
    T: Send + 'static,
    F: FnMut(S, Option<FeedEvent>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = (S, ApiResult<Vec<T>>)> + Send,
{
    let initial = stream::iter(first.map(Ok));
    let later = stream::unfold((rx, state, step), |(mut rx, mut state, mut step)| async move {
        loop {
            let event = match rx.recv().await {
                Ok(event) => Some(event),
                Err(RecvError::Lagged(_)) => None,
                Err(RecvError::Closed) => return None,
            };
            let (next, out) = step(state, event).await;
            state = next;
            match out {
                Ok(items) if items.is_empty() => {}
                Ok(items) => return Some((items.into_iter().map(Ok).collect::<Vec<_>>(), (rx, state, step))),
                Err(error) => return Some((vec![Err(error)], (rx, state, step))),
            }
        }
    });
    initial.chain(later.flat_map(stream::iter)).boxed()
}

#[Subscription]
impl ChangesSubscription {
    /// The Live View of a site: sessions that start, change and end, and
    /// the online count.
    async fn live_sessions_changed(
        &self,
        ctx: &Context<'_>,
        site_id: ID,
    ) -> async_graphql::Result<Updates<LiveSessionsUpdate>> {
        let result: ApiResult<_> = async {
            let site = parse_id("siteId", &site_id)?;
            principal(ctx)?.require_on(site, Permission::Read)?;
            let api = api(ctx);
            let rx = api.feed.subscribe();
            let pool = api.pool.clone();
            let (snapshot, known) = live_snapshot(&pool, site).await?;
            let step = move |mut known: BTreeMap<Uuid, i64>, event: Option<FeedEvent>| {
                let pool = pool.clone();
                async move {
                    let batch = match event {
                        Some(FeedEvent::Sessions(batch)) => batch,
                        Some(_) => return (known, Ok(Vec::new())),
                        None => {
                            return match live_snapshot(&pool, site).await {
                                Ok((update, ids)) => (ids, Ok(vec![update])),
                                Err(e) => (known, Err(e)),
                            };
                        }
                    };
                    let upserted: Vec<LiveSession> = batch
                        .rows
                        .iter()
                        .filter(|r| r.site_id == site && newer(&mut known, r.session_id, r.position))
                        .map(|r| LiveSession::live(r.clone()))
                        .collect();
                    let removed: Vec<ID> = batch
                        .gone
                        .iter()
                        .filter(|id| known.remove(id).is_some())
                        .map(|id| ID(id.to_string()))
                        .collect();
                    let Some(online_count) = batch.online.get(&site).copied() else {
                        return (known, Ok(Vec::new()));
                    };
                    if upserted.is_empty() && removed.is_empty() {
                        return (known, Ok(Vec::new()));
                    }
                    let update = LiveSessionsUpdate {
                        snapshot: false,
                        online_count,
                        upserted,
                        removed,
                    };
                    (known, Ok(vec![update]))
                }
            };
            Ok(pushes(Some(snapshot), rx, known, step))
        }
        .await;
        Ok(result?)
    }

    /// An inbox list of a site as its rows change (the same filter as
    /// `conversations`; Unread when no status is given).
    async fn conversations_changed(
        &self,
        ctx: &Context<'_>,
        site_id: ID,
        filter: Option<ConversationFilter>,
    ) -> async_graphql::Result<Updates<ConversationsUpdate>> {
        let result: ApiResult<_> = async {
            let site = parse_id("siteId", &site_id)?;
            principal(ctx)?.require_on(site, Permission::Read)?;
            let filter = filter.unwrap_or_default().read(ctx)?;
            let api = api(ctx);
            let rx = api.feed.subscribe();
            let pool = api.pool.clone();
            let (snapshot, known) = inbox_snapshot(&pool, site, &filter).await?;
            let step = move |mut known: BTreeMap<Uuid, i64>, event: Option<FeedEvent>| {
                let pool = pool.clone();
                let filter = filter.clone();
                async move {
                    let batch = match event {
                        Some(FeedEvent::Conversations(batch)) => batch,
                        Some(_) => return (known, Ok(Vec::new())),
                        None => {
                            return match inbox_snapshot(&pool, site, &filter).await {
                                Ok((update, ids)) => (ids, Ok(vec![update])),
                                Err(e) => (known, Err(e)),
                            };
                        }
                    };
                    let (mut upserted, mut removed) = (Vec::new(), Vec::new());
                    for row in batch.rows.iter().filter(|r| r.site_id == site) {
                        if filter.matches(row) {
                            if newer(&mut known, row.conversation_id, row.position) {
                                upserted.push(Conversation(row.clone()));
                            }
                        } else if known.remove(&row.conversation_id).is_some() {
                            removed.push(ID(row.conversation_id.to_string()));
                        }
                    }
                    if upserted.is_empty() && removed.is_empty() {
                        return (known, Ok(Vec::new()));
                    }
                    let update = ConversationsUpdate {
                        snapshot: false,
                        upserted,
                        removed,
                    };
                    (known, Ok(vec![update]))
                }
            };
            Ok(pushes(Some(snapshot), rx, known, step))
        }
        .await;
        Ok(result?)
    }

    /// One conversation: messages, notes (not for integrators), status,
    /// assignment and take-over as they happen.
    async fn conversation_events(
        &self,
        ctx: &Context<'_>,
        conversation_id: ID,
    ) -> async_graphql::Result<Updates<ConversationUpdate>> {
        let result: ApiResult<_> = async {
            let id = parse_id("conversationId", &conversation_id)?;
            let principal = principal(ctx)?;
            let api = api(ctx);
            let rx = api.feed.subscribe();
            let pool = api.pool.clone();
            let row = reads::conversation(&pool, id)
                .await?
                .ok_or_else(|| ApiError::NotFound("no such conversation".into()))?;
            principal.require_on(row.site_id, Permission::Read)?;
            let notes = principal.require(Permission::ReadNotes).is_ok();
            let messages = reads::latest_messages(&pool, id, SNAPSHOT_MESSAGES).await?;
            let last = messages.last().map_or(0, |m| m.position);
            let seen = row.position;
            let snapshot = ConversationUpdate {
                snapshot: true,
                conversation: Conversation(row),
                messages: messages
                    .into_iter()
                    .filter(|m| notes || !m.internal)
                    .map(Message)
                    .collect(),
            };
            let step = move |(last, seen): (i64, i64), event: Option<FeedEvent>| {
                let pool = pool.clone();
                async move {
                    let (row, fresh) = match event {
                        Some(FeedEvent::Conversations(batch)) => {
                            let Some(row) = batch.rows.iter().find(|r| r.conversation_id == id) else {
                                return ((last, seen), Ok(Vec::new()));
                            };
                            let fresh: Vec<_> = batch
                                .messages
                                .iter()
                                .filter(|m| m.conversation_id == id && m.position > last)
                                .cloned()
                                .collect();
                            (row.clone(), fresh)
                        }
                        Some(_) => return ((last, seen), Ok(Vec::new())),
                        None => {
                            let reread = async {
                                let row = reads::conversation(&pool, id).await?;
                                let fresh =
                                    reads::messages_between(&pool, &[id], last.max(0) as u64, i64::MAX as u64).await?;
                                Ok::<_, sqlx::Error>((row, fresh))
                            };
                            match reread.await {
                                Ok((Some(row), fresh)) => (row, fresh),
                                Ok((None, _)) => return ((last, seen), Ok(Vec::new())),
                                Err(e) => return ((last, seen), Err(e.into())),
                            }
                        }
                    };
                    if row.position <= seen && fresh.is_empty() {
                        return ((last, seen), Ok(Vec::new()));
                    }
                    let seen = seen.max(row.position);
                    let last = fresh.last().map_or(last, |m| m.position.max(last));
                    let update = ConversationUpdate {
                        snapshot: false,
                        conversation: Conversation(row),
                        messages: fresh
                            .into_iter()
                            .filter(|m| notes || !m.internal)
                            .map(Message)
                            .collect(),
                    };
                    ((last, seen), Ok(vec![update]))
                }
            };
            Ok(pushes(Some(snapshot), rx, (last, seen), step))
        }
        .await;
        Ok(result?)
    }

    /// Visitor messages on conversations assigned to the caller's agent or
    /// to nobody, per the agent's notification preference (every message,
    /// new conversations only, none), read when each message arrives.
    async fn notifications(&self, ctx: &Context<'_>) -> async_graphql::Result<Updates<Notification>> {
        let result: ApiResult<_> = async {
            let principal = principal(ctx)?;
            let agent = principal.staff(Permission::HandleConversations)?.agent.id.0;
            let site = principal.site_id;
            let api = api(ctx);
            let rx = api.feed.subscribe();
            let pool = api.pool.clone();
            let step = move |(): (), event: Option<FeedEvent>| {
                let pool = pool.clone();
                async move {
                    match event {
                        Some(FeedEvent::Conversations(batch)) => {
                            ((), notifications_of(&pool, agent, site, &batch).await)
                        }
                        _ => ((), Ok(Vec::new())),
                    }
                }
            };
            Ok(pushes(None, rx, (), step))
        }
        .await;
        Ok(result?)
    }
}

/// Records `position` for `id`; whether it is newer than what was pushed.
fn newer(known: &mut BTreeMap<Uuid, i64>, id: Uuid, position: i64) -> bool {
    match known.get(&id) {
        Some(seen) if *seen >= position => false,
        _ => {
            known.insert(id, position);
            true
        }
    }
}

async fn live_snapshot(pool: &PgPool, site: Uuid) -> ApiResult<(LiveSessionsUpdate, BTreeMap<Uuid, i64>)> {
    let page = Page::new(Some(SNAPSHOT_ROWS), None, SNAPSHOT_ROWS)?;
    let rows = reads::live_sessions(pool, site, &LiveFilter::default(), &page.keyset()).await?;
    let online_count = reads::online_count(pool, site).await?;
    let known = rows.iter().map(|r| (r.session_id, r.position)).collect();
    let update = LiveSessionsUpdate {
        snapshot: true,
        online_count,
        upserted: rows.into_iter().map(LiveSession::live).collect(),
        removed: Vec::new(),
    };
    Ok((update, known))
}

async fn inbox_snapshot(
    pool: &PgPool,
    site: Uuid,
    filter: &InboxFilter,
) -> ApiResult<(ConversationsUpdate, BTreeMap<Uuid, i64>)> {
    let page = Page::new(Some(SNAPSHOT_ROWS), None, SNAPSHOT_ROWS)?;
    let rows = reads::conversations(pool, site, filter, InboxOrder::Newest, &page.keyset()).await?;
    let known = rows.iter().map(|r| (r.conversation_id, r.position)).collect();
    let update = ConversationsUpdate {
        snapshot: true,
        upserted: rows.into_iter().map(Conversation).collect(),
        removed: Vec::new(),
    };
    Ok((update, known))
}

async fn notifications_of(
    pool: &PgPool,
    agent: Uuid,
    site: Uuid,
    batch: &crate::feed::ConversationBatch,
) -> ApiResult<Vec<Notification>> {
    let mine = |row: &&ConversationRow| row.site_id == site && row.assignee_id.is_none_or(|a| a == agent);
    let rows: Vec<&ConversationRow> = batch.rows.iter().filter(mine).collect();
    let visitor_messages = |id: Uuid| {
        batch
            .messages
            .iter()
            .filter(move |m| m.conversation_id == id && m.author_type == "visitor")
    };
    if rows
        .iter()
        .all(|r| visitor_messages(r.conversation_id).next().is_none())
    {
        return Ok(Vec::new());
    }
    let preference: super::types::NotificationPreference = match reads::agent(pool, agent).await? {
        Some(row) => stored(&row.notification_preference)?,
        None => return Ok(Vec::new()),
    };
    let mut out = Vec::new();
    for row in rows {
        let in_batch = batch
            .messages
            .iter()
            .filter(|m| m.conversation_id == row.conversation_id && !m.internal)
            .count();
        let mut first = in_batch as i32 >= row.message_count;
        for message in visitor_messages(row.conversation_id) {
            let kind = if first {
                NotificationKind::NewConversation
            } else {
                NotificationKind::NewMessage
            };
            first = false;
            let wanted = match preference {
                super::types::NotificationPreference::EveryMessage => true,
                super::types::NotificationPreference::NewConversationsOnly => kind == NotificationKind::NewConversation,
                super::types::NotificationPreference::None => false,
            };
            if wanted {
                out.push(Notification {
                    kind,
                    conversation: Conversation(row.clone()),
                    message: Message(message.clone()),
                });
            }
        }
    }
    Ok(out)
}
