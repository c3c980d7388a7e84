//! The event history, for analysts and integrators: the global log as a
//! connection (`events`), one stream (`stream`), the audit log
//! (`auditLog`), and the resumable `events` subscription. Every read is
//! limited to the token's site and its category scope; agents get none of
//! it ([`Permission::ReadHistory`]).
//!
//! A cursor is an event's position in decimal: strictly increasing in log
//! order, so a consumer that stores the cursor of the last event it handled
//! and resumes after it misses nothing and sees nothing twice.

use async_graphql::connection::{Connection, CursorType, Edge, EmptyFields};
use async_graphql::{Context, ID, InputObject, Json, Object, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt};
use livedesk_domain::{RecordedEvent, StreamCategory, StreamName};
use livedesk_eventstore::{Direction, EventStore, Filter};

use super::types::{EventCategory, parse_id};
use super::{api, principal};
use crate::auth::{Permission, Principal};
use crate::error::{ApiError, ApiResult};
use crate::reads::{self, AuditEntryRow, AuditFilter};

/// Most events one page of `events` or `stream` returns.
pub const MAX_EVENTS_PAGE: i32 = 1000;
/// Most events one push of the `events` subscription carries.
pub const MAX_EVENTS_PUSH: usize = 500;
/// Most event types one filter names.
const MAX_TYPES: usize = 100;
/// Longest stream prefix or actor a filter names.
const MAX_FILTER_CHARS: usize = 200;

/// An event's position (or, in `stream`, its version) as a cursor:
/// decimal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position(pub u64);

impl CursorType for Position {
    type Error = std::num::ParseIntError;

    fn decode_cursor(s: &str) -> Result<Self, Self::Error> {
        s.parse().map(Self)
    }

    fn encode_cursor(&self) -> String {
        self.0.to_string()
    }
}

/// Reads an optional cursor argument.
fn cursor(argument: &str, value: Option<&str>) -> ApiResult<Option<u64>> {
    value
        .map(|v| {
            Position::decode_cursor(v)
                .map(|p| p.0)
                .map_err(|_| ApiError::BadInput(format!("{argument} is not a cursor (an event position)")))
        })
        .transpose()
}

/// Reads `first` (1 to [`MAX_EVENTS_PAGE`], 100 by default).
fn page_size(first: Option<i32>) -> ApiResult<usize> {
    let first = first.unwrap_or(100);
    if !(1..=MAX_EVENTS_PAGE).contains(&first) {
        return Err(ApiError::BadInput(format!("first must be 1 to {MAX_EVENTS_PAGE}")));
    }
    Ok(first as usize)
}

/// One event of the log, exactly as stored.
#[derive(Debug, Clone)]
pub struct Event(pub RecordedEvent);

/// One event of the log, exactly as stored.
#[Object]
impl Event {
    /// Its place in the global log (decimal; the cursor of `events`).
    async fn position(&self) -> String {
        self.0.position.to_string()
    }
    /// Its id.
    async fn event_id(&self) -> ID {
        ID(self.0.event_id.to_string())
    }
    /// Its stream (`conversation-{id}`, ...).
    async fn stream_id(&self) -> &str {
        self.0.stream.as_str()
    }
    /// Its stream's category.
    async fn category(&self) -> Option<EventCategory> {
        StreamCategory::parse(self.0.stream.category()).map(Into::into)
    }
    /// Its version in the stream: 0 for the first, gap-free.
    async fn stream_version(&self) -> u64 {
        self.0.stream_version
    }
    /// What happened (`ConversationAssigned`, ...): see docs/events.md.
    #[graphql(name = "type")]
    async fn event_type(&self) -> &str {
        &self.0.event_type
    }
    /// The version of its payload's schema.
    async fn schema_version(&self) -> u32 {
        self.0.schema_version
    }
    /// The payload, as written (an `ApiTokenIssued`'s token hash left
    /// out).
    async fn payload(&self) -> ApiResult<Json<serde_json::Value>> {
        let mut payload = serde_json::from_str(self.0.payload.get())
            .map_err(|e| ApiError::internal(format!("event {} has a bad payload: {e}", self.0.position)))?;
        redact(&self.0.event_type, &mut payload);
        Ok(Json(payload))
    }
    /// Its site.
    async fn site_id(&self) -> Option<ID> {
        self.0.metadata.site_id.map(|id| ID(id.to_string()))
    }
    /// Who caused it: `visitor:{id}`, `agent:{id}`, `bot:{name}`,
    /// `integrator:{token id}` or `system`.
    async fn actor(&self) -> Option<String> {
        self.0.metadata.actor.as_ref().map(ToString::to_string)
    }
    /// The request or flow it belongs to.
    async fn correlation_id(&self) -> Option<ID> {
        self.0.metadata.correlation_id.map(|id| ID(id.to_string()))
    }
    /// The event or command that caused it.
    async fn causation_id(&self) -> Option<ID> {
        self.0.metadata.causation_id.map(|id| ID(id.to_string()))
    }
    /// The command that wrote it (retries of it write nothing new).
    async fn command_id(&self) -> Option<ID> {
        self.0.metadata.command_id.map(|id| ID(id.to_string()))
    }
    /// When it was stored.
    async fn recorded_at(&self) -> DateTime<Utc> {
        self.0.recorded_at
    }
}

/// Leaves out what history readers must not see: the hash of a token's
/// secret (it identifies the token to the server; nobody needs to read it)
/// and the site's identity-verification secret (whoever holds it can sign
/// any visitor's identity).
fn redact(event_type: &str, payload: &mut serde_json::Value) {
    let secret = match event_type {
        "ApiTokenIssued" => "token_hash",
        "IdentityVerificationConfigured" => "secret",
        _ => return,
    };
    if let Some(fields) = payload.as_object_mut() {
        fields.remove(secret);
    }
}

/// Which events of the log a history read wants. Left-out fields match
/// all.
#[derive(Debug, Clone, InputObject)]
pub struct EventFilter {
    /// The site (the token's).
    pub site_id: ID,
    /// Only streams of these categories (within the token's scope; the
    /// whole scope when left out).
    pub categories: Option<Vec<EventCategory>>,
    /// Only streams whose id starts with this; a whole id
    /// (`conversation-0193…`) picks one stream.
    pub stream_prefix: Option<String>,
    /// Only these event types.
    pub types: Option<Vec<String>>,
    /// Only events recorded at or after this.
    pub from: Option<DateTime<Utc>>,
    /// Only events recorded before this.
    pub to: Option<DateTime<Utc>>,
    /// Only events of this actor (`agent:{id}`, `system`, ...).
    pub actor: Option<String>,
}

impl EventFilter {
    /// The store's filter for `principal`, checked.
    fn read(self, principal: &Principal) -> ApiResult<Filter> {
        let site = parse_id("filter.siteId", &self.site_id)?;
        principal.require_on(site, Permission::ReadHistory)?;
        let asked: Vec<StreamCategory> = self
            .categories
            .unwrap_or_default()
            .into_iter()
            .map(Into::into)
            .collect();
        let categories = principal.history_categories(&asked)?;
        let types = self.types.unwrap_or_default();
        let hidden = principal.hidden_event_types();
        if let Some(hidden) = types.iter().find(|t| hidden.contains(t)) {
            return Err(ApiError::Forbidden(format!("this token may not read {hidden} events")));
        }
        if types.len() > MAX_TYPES {
            return Err(ApiError::BadInput(format!(
                "filter.types names at most {MAX_TYPES} types"
            )));
        }
        let text = |argument: &str, value: Option<String>| match value {
            Some(v) if v.is_empty() || v.chars().count() > MAX_FILTER_CHARS => Err(ApiError::BadInput(format!(
                "{argument} must be 1 to {MAX_FILTER_CHARS} characters"
            ))),
            other => Ok(other),
        };
        if let (Some(from), Some(to)) = (self.from, self.to)
            && from >= to
        {
            return Err(ApiError::BadInput("filter.from must be before filter.to".into()));
        }
        Ok(Filter {
            event_types: types,
            excluded_types: hidden,
            categories,
            site_id: Some(site),
            stream_prefix: text("filter.streamPrefix", self.stream_prefix)?,
            actor: text("filter.actor", self.actor)?,
            recorded_from: self.from,
            recorded_to: self.to,
        })
    }
}

/// One stream: its version and its events.
#[derive(Debug)]
pub struct StreamHistory {
    name: StreamName,
    site: uuid::Uuid,
    version: u64,
    /// Event types the reader may not see.
    hidden: Vec<String>,
}

/// One stream: its version and its events.
#[Object]
impl StreamHistory {
    /// The stream's id.
    async fn id(&self) -> &str {
        self.name.as_str()
    }
    /// The version of its last event (its event count minus one).
    async fn version(&self) -> u64 {
        self.version
    }
    /// Its events, oldest first; the cursor is the stream version. Events
    /// the token may not read (internal notes, for an integrator) are left
    /// out, so versions can skip and a page can hold fewer than `first`.
    async fn events(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        first: Option<i32>,
    ) -> ApiResult<Connection<Position, Event, EmptyFields, EmptyFields>> {
        let first = page_size(first)?;
        let from = cursor("after", after.as_deref())?.map_or(0, |v| v.saturating_add(1));
        let mut events = api(ctx)
            .store
            .read_stream(&self.name, from, Direction::Forward, first + 1)
            .await
            .map_err(ApiError::internal)?;
        let more = events.len() > first;
        events.truncate(first);
        let mut connection = Connection::new(after.is_some(), more);
        connection.edges.extend(
            events
                .into_iter()
                .filter(|e| e.metadata.site_id == Some(self.site) && !self.hidden.contains(&e.event_type))
                .map(|e| Edge::new(Position(e.stream_version), Event(e))),
        );
        Ok(connection)
    }
}

/// One entry of the audit log.
#[derive(Debug, Clone, SimpleObject)]
pub struct AuditEntry {
    /// The event's position (the cursor).
    pub position: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Who: `agent:{id}`, `integrator:{token id}`, `system`, ...
    pub actor: Option<String>,
    /// The agent's display name now, when an agent did it.
    pub actor_name: Option<String>,
    /// What happened: the event type (`ConversationAssigned`,
    /// `ConversationTakenOver`, `ConversationWatched`,
    /// `TranscriptExported`, `ApiTokenIssued`, `SiteSettingsChanged`, ...).
    pub action: String,
    /// Where: the stream (`conversation-{id}`, `site-{id}`, ...).
    pub stream_id: String,
    /// The event's payload.
    pub details: Json<serde_json::Value>,
}

impl From<AuditEntryRow> for AuditEntry {
    fn from(mut row: AuditEntryRow) -> Self {
        redact(&row.event_type, &mut row.details.0);
        Self {
            position: row.position.to_string(),
            at: row.recorded_at,
            actor: row.actor,
            actor_name: row.actor_name,
            action: row.event_type,
            stream_id: row.stream_id,
            details: Json(row.details.0),
        }
    }
}

/// Which audit entries to list. Left-out fields match all.
#[derive(Debug, Clone, Default, InputObject)]
pub struct AuditLogFilter {
    /// Only this actor (`agent:{id}`, ...).
    pub actor: Option<String>,
    /// Only these actions (event types).
    pub actions: Option<Vec<String>>,
    /// Only this stream (`conversation-{id}`, ...).
    pub stream_id: Option<String>,
    /// Only entries at or after this.
    pub from: Option<DateTime<Utc>>,
    /// Only entries before this.
    pub to: Option<DateTime<Utc>>,
}

/// History queries.
#[derive(Debug, Default)]
pub struct HistoryQuery;

#[Object]
impl HistoryQuery {
    /// The global event log of a site, oldest first: `first` events (1 to
    /// 1000, 100 by default) after the cursor `after` (a position; the
    /// start when left out).
    async fn events(
        &self,
        ctx: &Context<'_>,
        filter: EventFilter,
        after: Option<String>,
        first: Option<i32>,
    ) -> ApiResult<Connection<Position, Event, EmptyFields, EmptyFields>> {
        let filter = filter.read(principal(ctx)?)?;
        let first = page_size(first)?;
        let from = cursor("after", after.as_deref())?.unwrap_or(0);
        let mut events = api(ctx)
            .store
            .read_all(from, first + 1, &filter)
            .await
            .map_err(ApiError::internal)?;
        let more = events.len() > first;
        events.truncate(first);
        let mut connection = Connection::new(after.is_some(), more);
        connection
            .edges
            .extend(events.into_iter().map(|e| Edge::new(Position(e.position), Event(e))));
        Ok(connection)
    }

    /// One stream of the token's site, or `null` when it has no events
    /// there.
    async fn stream(&self, ctx: &Context<'_>, site_id: ID, id: String) -> ApiResult<Option<StreamHistory>> {
        let site = parse_id("siteId", &site_id)?;
        let principal = principal(ctx)?;
        principal.require_on(site, Permission::ReadHistory)?;
        let name = StreamName::parse(&id).map_err(|e| ApiError::BadInput(format!("id: {e}")))?;
        let category = StreamCategory::parse(name.category())
            .ok_or_else(|| ApiError::BadInput(format!("id: there are no {} streams", name.category())))?;
        principal.history_categories(&[category])?;
        let store = &api(ctx).store;
        let first = store
            .read_stream(&name, 0, Direction::Forward, 1)
            .await
            .map_err(ApiError::internal)?;
        if first.first().is_none_or(|e| e.metadata.site_id != Some(site)) {
            return Ok(None);
        }
        let last = store
            .read_stream(&name, u64::MAX, Direction::Backward, 1)
            .await
            .map_err(ApiError::internal)?;
        let version = last.first().map_or(0, |e| e.stream_version);
        Ok(Some(StreamHistory {
            name,
            site,
            version,
            hidden: principal.hidden_event_types(),
        }))
    }

    /// Who did what and when on a site, newest first: assignments, status
    /// changes, take-overs, silent watches, notes, exports, tokens and
    /// settings (the `audit_log` read model). `after` is the cursor of the
    /// last entry seen (a position).
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        site_id: ID,
        filter: Option<AuditLogFilter>,
        after: Option<String>,
        first: Option<i32>,
    ) -> ApiResult<Connection<Position, AuditEntry, EmptyFields, EmptyFields>> {
        let site = parse_id("siteId", &site_id)?;
        let principal = principal(ctx)?;
        principal.require_on(site, Permission::ReadHistory)?;
        let first = page_size(first)?;
        let before = cursor("after", after.as_deref())?.map(|p| i64::try_from(p).unwrap_or(i64::MAX));
        let filter = filter.unwrap_or_default();
        let read = AuditFilter {
            actor: filter.actor,
            event_types: filter.actions.unwrap_or_default(),
            excluded_types: principal.hidden_event_types(),
            stream_id: filter.stream_id,
            categories: principal.history_categories(&[])?,
            from: filter.from,
            to: filter.to,
        };
        let mut rows = reads::audit_log(&api(ctx).pool, site, &read, before, first as i64 + 1).await?;
        let more = rows.len() > first;
        rows.truncate(first);
        let mut connection = Connection::new(after.is_some(), more);
        connection.edges.extend(
            rows.into_iter()
                .map(|row| Edge::new(Position(row.position as u64), AuditEntry::from(row))),
        );
        Ok(connection)
    }
}

/// One push of the `events` subscription.
#[derive(Debug, SimpleObject)]
pub struct EventsPush {
    /// The events committed since the last push that pass the filter, in
    /// position order (at most 500).
    pub events: Vec<Event>,
    /// The position of the last of them: resume with `after: cursor`.
    pub cursor: String,
}

/// The integrator feed.
#[derive(Debug, Default)]
pub struct HistorySubscription;

#[Subscription]
impl HistorySubscription {
    /// Every event of a site that passes `filter`, after the cursor `after`
    /// (a position; the start when left out): first the history, as fast
    /// as the client reads it, then live. Positions strictly increase;
    /// resuming with the last cursor received misses nothing and repeats
    /// nothing. A client that reads nothing for the send timeout is closed
    /// with 4413 and resumes from its cursor. `filter.to` is refused: a
    /// live feed has no end (use the `events` query for a closed period).
    async fn events(
        &self,
        ctx: &Context<'_>,
        filter: EventFilter,
        after: Option<String>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<EventsPush>> + use<>> {
        let result: ApiResult<_> = async {
            if filter.to.is_some() {
                return Err(ApiError::BadInput(
                    "filter.to is not for the live feed; use the events query for a closed period".into(),
                ));
            }
            let filter = filter.read(principal(ctx)?)?;
            let from = cursor("after", after.as_deref())?.unwrap_or(0);
            let events = api(ctx).store.subscribe_all(from, filter);
            Ok(pushes(events))
        }
        .await;
        Ok(result?)
    }
}

/// Groups what the store has ready into pushes. A store failure ends the
/// feed after the events before it, with an error: the client resumes
/// from its cursor.
fn pushes(events: livedesk_eventstore::EventStream) -> impl Stream<Item = async_graphql::Result<EventsPush>> {
    let push = |events: Vec<RecordedEvent>| {
        let cursor = events.last()?.position.to_string();
        Some(EventsPush {
            cursor,
            events: events.into_iter().map(Event).collect(),
        })
    };
    events
        .ready_chunks(MAX_EVENTS_PUSH)
        .flat_map(move |chunk| {
            let mut ready = Vec::with_capacity(chunk.len());
            let mut out = Vec::with_capacity(2);
            for item in chunk {
                match item {
                    Ok(event) => ready.push(event),
                    Err(error) => {
                        out.extend(push(std::mem::take(&mut ready)).map(Ok));
                        out.push(Err(ApiError::internal(error).into()));
                        break;
                    }
                }
            }
            out.extend(push(ready).map(Ok));
            futures::stream::iter(out)
        })
        .scan(false, |failed, item| {
            let next = (!*failed).then(|| {
                *failed = item.is_err();
                item
            });
            futures::future::ready(next)
        })
}
