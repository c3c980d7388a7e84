//! Queries of the read models, for the APIs: the SQL beside the tables it
//! reads. Rows travel as `row_to_json(row)` into the row structs the
//! projectors write, so a column added there is read here without a second
//! list of columns. Lists page by keyset and order exactly as their indexes
//! do (see the migrations).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use sqlx::PgPool;
use sqlx::types::Json;
use uuid::Uuid;

pub use crate::models::agents::AgentRow;
pub use crate::models::directory::{SiteRow, TeamRow, TokenRow};
pub use crate::models::inbox::{ConversationRow, MessageRow, VisitorRow};
pub use crate::models::live_view::LiveSessionRow;
pub use crate::models::records::TextBlockRow;
pub use audit::{AuditEntryRow, AuditFilter, audit_log};
pub use exports::{conversations_opened_stream, transcript_stream};
pub use sla_report::{SlaReportGroup, SlaReportRow, sla_report, sla_report_stream};

mod audit;
mod exports;
mod sla_report;

/// One page of a list: at most `limit` rows after the row `after_id`
/// (whose sort time is `after_at`, for lists ordered by time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keyset {
    /// Rows to return (a caller asks for one more than it shows, to know
    /// whether a next page exists).
    pub limit: i64,
    /// The sort time of the last row of the previous page.
    pub after_at: Option<DateTime<Utc>>,
    /// The id of the last row of the previous page.
    pub after_id: Option<Uuid>,
}

/// The order of an inbox list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboxOrder {
    /// Most recently updated first.
    Newest,
    /// Nearest SLA due time first; conversations without one last.
    Sla,
}

/// A token by the hash of its secret, with what authenticating it needs of
/// its agent.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TokenLogin {
    /// The token.
    pub token_id: Uuid,
    /// Its name.
    pub name: String,
    /// Its site.
    pub site_id: Uuid,
    /// Its role (snake_case).
    pub role: String,
    /// The agent it acts as.
    pub agent_id: Option<Uuid>,
    /// Whether it was revoked.
    pub revoked: bool,
    /// The agent's display name, if the agent exists.
    pub display_name: Option<String>,
    /// The agent's current role on the token's site, if any.
    pub agent_site_role: Option<String>,
    /// The stream categories its history reads are limited to (snake_case);
    /// empty for all.
    pub event_categories: Vec<String>,
}

/// Which conversations an inbox list shows.
#[derive(Debug, Clone, Default)]
pub struct InboxFilter {
    /// `unread`, `unresolved`, `done`; `None` for all.
    pub status: Option<String>,
    /// Only those assigned to this agent.
    pub assigned_to: Option<Uuid>,
    /// `web_chat`, `facebook`, `api`.
    pub provider: Option<String>,
    /// Lower-case text the visitor's name or email contains.
    pub search: Option<String>,
}

impl InboxFilter {
    /// Whether `row` belongs in the list (what subscriptions check).
    pub fn matches(&self, row: &ConversationRow) -> bool {
        let contains =
            |text: &Option<String>, needle: &str| text.as_deref().is_some_and(|t| t.to_lowercase().contains(needle));
        self.status.as_ref().is_none_or(|s| *s == row.status)
            && self.assigned_to.is_none_or(|a| row.assignee_id == Some(a))
            && self.provider.as_ref().is_none_or(|p| *p == row.provider)
            && self
                .search
                .as_deref()
                .is_none_or(|s| contains(&row.visitor_name, s) || contains(&row.visitor_email, s))
    }
}

/// Which live sessions the Live View shows.
#[derive(Debug, Clone, Default)]
pub struct LiveFilter {
    /// `active` or `idle`.
    pub status: Option<String>,
    /// Text the current path contains.
    pub path: Option<String>,
    /// Text the browser contains.
    pub browser: Option<String>,
    /// `desktop`, `mobile`, `tablet`, `unknown`.
    pub device: Option<String>,
    /// Text the OS contains.
    pub os: Option<String>,
    /// ISO country code.
    pub country: Option<String>,
    /// A label the visitor has.
    pub tag: Option<String>,
}

type Rows<T> = Result<Vec<T>, sqlx::Error>;

async fn one<T: DeserializeOwned + Send + Unpin + 'static>(
    pool: &PgPool,
    sql: &'static str,
    id: Uuid,
) -> Result<Option<T>, sqlx::Error> {
    let row: Option<Json<T>> = sqlx::query_scalar(sql).bind(id).fetch_optional(pool).await?;
    Ok(row.map(|Json(row)| row))
}

/// The rows of `sql` (one `to_jsonb` column, `$1` the ids).
async fn by_ids<T: DeserializeOwned + Send + Unpin + 'static>(
    pool: &PgPool,
    sql: &'static str,
    ids: &[Uuid],
) -> Rows<T> {
    let rows = sqlx::query_scalar(sql).bind(ids).fetch_all(pool).await?;
    Ok(unwrap_rows(rows))
}

fn unwrap_rows<T>(rows: Vec<Json<T>>) -> Vec<T> {
    rows.into_iter().map(|Json(row)| row).collect()
}

/// `%text%` for `LIKE`, with `%`, `_` and `\` taken literally.
pub fn like(text: &str) -> String {
    format!("%{}%", escape_like(text))
}

fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// A site.
pub async fn site(pool: &PgPool, id: Uuid) -> Result<Option<SiteRow>, sqlx::Error> {
    one(pool, "SELECT row_to_json(s) FROM sites s WHERE site_id = $1", id).await
}

/// An agent.
pub async fn agent(pool: &PgPool, id: Uuid) -> Result<Option<AgentRow>, sqlx::Error> {
    one(pool, "SELECT row_to_json(a) FROM agents a WHERE agent_id = $1", id).await
}

/// Agents by id, by display name.
pub async fn agents_by_id(pool: &PgPool, ids: &[Uuid]) -> Rows<AgentRow> {
    let rows = sqlx::query_scalar("SELECT row_to_json(a) FROM agents a WHERE agent_id = ANY($1) ORDER BY display_name")
        .bind(ids)
        .fetch_all(pool)
        .await?;
    Ok(unwrap_rows(rows))
}

/// Agents with a role on `site`, by display name.
pub async fn agents_of_site(pool: &PgPool, site: Uuid) -> Rows<AgentRow> {
    let rows = sqlx::query_scalar(
        "SELECT row_to_json(a) FROM agents a WHERE roles ? $1::text ORDER BY display_name, agent_id LIMIT 1000",
    )
    .bind(site.to_string())
    .fetch_all(pool)
    .await?;
    Ok(unwrap_rows(rows))
}

/// Teams of `site`, by name.
pub async fn teams(pool: &PgPool, site: Uuid) -> Rows<TeamRow> {
    let rows = sqlx::query_scalar("SELECT row_to_json(t) FROM teams t WHERE site_id = $1 ORDER BY name, team_id")
        .bind(site)
        .fetch_all(pool)
        .await?;
    Ok(unwrap_rows(rows))
}

/// A team.
pub async fn team(pool: &PgPool, id: Uuid) -> Result<Option<TeamRow>, sqlx::Error> {
    one(pool, "SELECT row_to_json(t) FROM teams t WHERE team_id = $1", id).await
}

/// API tokens of `site`, newest first.
pub async fn tokens(pool: &PgPool, site: Uuid) -> Rows<TokenRow> {
    let rows = sqlx::query_scalar(
        "SELECT to_jsonb(t) - 'token_hash' FROM api_tokens t WHERE site_id = $1 ORDER BY issued_at DESC, token_id",
    )
    .bind(site)
    .fetch_all(pool)
    .await?;
    Ok(unwrap_rows(rows))
}

/// An API token.
pub async fn token(pool: &PgPool, id: Uuid) -> Result<Option<TokenRow>, sqlx::Error> {
    one(
        pool,
        "SELECT to_jsonb(t) - 'token_hash' FROM api_tokens t WHERE token_id = $1",
        id,
    )
    .await
}

/// Text blocks of `site` whose shortcut or title contains `search`
/// (shortcuts that start with it first), up to 50.
pub async fn text_blocks(pool: &PgPool, site: Uuid, search: Option<&str>) -> Rows<TextBlockRow> {
    let search = search.map(|s| s.trim_start_matches('#').to_lowercase());
    let rows = sqlx::query_scalar(
        "SELECT row_to_json(b) FROM text_blocks b WHERE site_id = $1 \
            AND ($2::text IS NULL OR lower(shortcut) LIKE $3 OR lower(title) LIKE $3) \
          ORDER BY (lower(shortcut) LIKE $4) DESC, shortcut LIMIT 50",
    )
    .bind(site)
    .bind(search.as_deref())
    .bind(like(search.as_deref().unwrap_or_default()))
    .bind(format!("{}%", escape_like(search.as_deref().unwrap_or_default())))
    .fetch_all(pool)
    .await?;
    Ok(unwrap_rows(rows))
}

/// A text block.
pub async fn text_block(pool: &PgPool, id: Uuid) -> Result<Option<TextBlockRow>, sqlx::Error> {
    one(
        pool,
        "SELECT row_to_json(b) FROM text_blocks b WHERE text_block_id = $1",
        id,
    )
    .await
}

/// A live session.
pub async fn live_session(pool: &PgPool, id: Uuid) -> Result<Option<LiveSessionRow>, sqlx::Error> {
    one(
        pool,
        "SELECT row_to_json(s) FROM live_sessions s WHERE session_id = $1",
        id,
    )
    .await
}

/// Live sessions by id (those that still exist).
pub async fn live_sessions_by_id(pool: &PgPool, ids: &[Uuid]) -> Rows<LiveSessionRow> {
    by_ids(
        pool,
        "SELECT row_to_json(s) FROM live_sessions s WHERE session_id = ANY($1)",
        ids,
    )
    .await
}

/// The live session of `site` with `code`, if its visitor shared it.
pub async fn session_by_code(pool: &PgPool, site: Uuid, code: &str) -> Result<Option<LiveSessionRow>, sqlx::Error> {
    let row: Option<Json<LiveSessionRow>> = sqlx::query_scalar(
        "SELECT row_to_json(s) FROM live_sessions s WHERE site_id = $1 AND code = $2 AND code_shared LIMIT 1",
    )
    .bind(site)
    .bind(code)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|Json(row)| row))
}

/// Sessions live on `site` now (kept by the `live_view` projector).
pub async fn online_count(pool: &PgPool, site: Uuid) -> Result<i64, sqlx::Error> {
    Ok(online_counts(pool, &[site]).await?.get(&site).copied().unwrap_or(0))
}

/// Sessions live on each of `sites` now (0 for a site without any).
pub async fn online_counts(pool: &PgPool, sites: &[Uuid]) -> Result<BTreeMap<Uuid, i64>, sqlx::Error> {
    let counted: Vec<(Uuid, i64)> =
        sqlx::query_as("SELECT site_id, online::bigint FROM live_view_sites WHERE site_id = ANY($1)")
            .bind(sites)
            .fetch_all(pool)
            .await?;
    let mut online: BTreeMap<Uuid, i64> = sites.iter().map(|s| (*s, 0)).collect();
    online.extend(counted);
    Ok(online)
}

/// The token whose secret hashes to `hash`.
pub async fn token_login(pool: &PgPool, hash: &str) -> Result<Option<TokenLogin>, sqlx::Error> {
    sqlx::query_as(
        "SELECT t.token_id, t.name, t.site_id, t.role, t.agent_id, t.revoked_at IS NOT NULL AS revoked, \
                a.display_name, a.roles ->> t.site_id::text AS agent_site_role, t.event_categories \
           FROM api_tokens t LEFT JOIN agents a ON a.agent_id = t.agent_id \
          WHERE t.token_hash = $1",
    )
    .bind(hash)
    .fetch_optional(pool)
    .await
}

/// A page of the Live View, newest sessions first.
pub async fn live_sessions(pool: &PgPool, site: Uuid, filter: &LiveFilter, page: &Keyset) -> Rows<LiveSessionRow> {
    let contains = |s: &Option<String>| s.as_deref().map(|s| like(&s.to_lowercase()));
    let rows = sqlx::query_scalar(
        "SELECT row_to_json(s) FROM live_sessions s WHERE site_id = $1 \
            AND ($2::text IS NULL OR status = $2) \
            AND ($3::text IS NULL OR lower(current_path) LIKE $3) \
            AND ($4::text IS NULL OR lower(browser) LIKE $4) \
            AND ($5::text IS NULL OR device = $5) \
            AND ($6::text IS NULL OR lower(os) LIKE $6) \
            AND ($7::text IS NULL OR upper(country) = upper($7)) \
            AND ($8::text IS NULL OR labels ? $8) \
            AND ($9::timestamptz IS NULL OR (started_at, session_id) < ($9, $10)) \
          ORDER BY started_at DESC, session_id DESC LIMIT $11",
    )
    .bind(site)
    .bind(filter.status.as_deref())
    .bind(contains(&filter.path))
    .bind(contains(&filter.browser))
    .bind(filter.device.as_deref())
    .bind(contains(&filter.os))
    .bind(filter.country.as_deref())
    .bind(filter.tag.as_deref())
    .bind(page.after_at)
    .bind(page.after_id)
    .bind(page.limit)
    .fetch_all(pool)
    .await?;
    Ok(unwrap_rows(rows))
}

/// A conversation.
pub async fn conversation(pool: &PgPool, id: Uuid) -> Result<Option<ConversationRow>, sqlx::Error> {
    one(
        pool,
        "SELECT row_to_json(c) FROM conversations c WHERE conversation_id = $1",
        id,
    )
    .await
}

/// Conversations by id (those that exist).
pub async fn conversations_by_id(pool: &PgPool, ids: &[Uuid]) -> Rows<ConversationRow> {
    by_ids(
        pool,
        "SELECT row_to_json(c) FROM conversations c WHERE conversation_id = ANY($1)",
        ids,
    )
    .await
}

/// A page of the inbox of `site`.
pub async fn conversations(
    pool: &PgPool,
    site: Uuid,
    filter: &InboxFilter,
    order: InboxOrder,
    page: &Keyset,
) -> Rows<ConversationRow> {
    // Rows are turned into JSON after the sort and limit: a search sorts
    // a few hundred conversations, and converting them all first took
    // most of its time.
    const FILTER: &str = "SELECT c.* FROM conversations c WHERE site_id = $1 \
        AND ($2::text IS NULL OR status = $2) \
        AND ($3::uuid IS NULL OR assignee_id = $3) \
        AND ($4::text IS NULL OR provider = $4) ";
    // Search finds the visitors first (trigram index on `visitors`), then
    // their conversations. Materialised, the matching visitors are counted
    // before the plan is chosen: a few go through the visitor index, many
    // through the list's order index. (Inlined, PostgreSQL walked the order
    // index for a name that 40 visitors have: 200 ms instead of 6.)
    const SEARCH: (&str, &str) = (
        "WITH found AS MATERIALIZED (SELECT visitor_id FROM visitors WHERE site_id = $1 AND search LIKE $5) ",
        "AND visitor_id IN (SELECT visitor_id FROM found) ",
    );
    let (with, search) = if filter.search.is_some() {
        SEARCH
    } else {
        ("", "AND $5::text IS NULL ")
    };
    let (keyset, order) = match order {
        InboxOrder::Newest => (
            "AND ($6::timestamptz IS NULL OR (updated_at, conversation_id) < ($6, $7))",
            "updated_at DESC, conversation_id DESC",
        ),
        InboxOrder::Sla => (
            "AND ($7::uuid IS NULL \
                 OR ($6::timestamptz IS NOT NULL AND (sla_due_at > $6 OR (sla_due_at = $6 AND conversation_id > $7) \
                     OR sla_due_at IS NULL)) \
                 OR ($6::timestamptz IS NULL AND sla_due_at IS NULL AND conversation_id > $7))",
            "sla_due_at ASC NULLS LAST, conversation_id ASC",
        ),
    };
    let sql = format!(
        "SELECT row_to_json(p) FROM ({with}{FILTER}{search} {keyset} ORDER BY {order} LIMIT $8) p ORDER BY {order}"
    );
    let rows = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(site)
        .bind(filter.status.as_deref())
        .bind(filter.assigned_to)
        .bind(filter.provider.as_deref())
        .bind(filter.search.as_deref().map(like))
        .bind(page.after_at)
        .bind(page.after_id)
        .bind(page.limit)
        .fetch_all(pool)
        .await?;
    Ok(unwrap_rows(rows))
}

/// A page of a transcript, oldest first; notes only if `notes`.
pub async fn messages(pool: &PgPool, conversation: Uuid, notes: bool, page: &Keyset) -> Rows<MessageRow> {
    let rows = sqlx::query_scalar(
        "SELECT row_to_json(m) FROM messages m WHERE conversation_id = $1 AND ($2 OR NOT internal) \
            AND position > coalesce((SELECT position FROM messages WHERE message_id = $3 AND conversation_id = $1), 0) \
          ORDER BY position LIMIT $4",
    )
    .bind(conversation)
    .bind(notes)
    .bind(page.after_id)
    .bind(page.limit)
    .fetch_all(pool)
    .await?;
    Ok(unwrap_rows(rows))
}

/// Messages and notes of `conversations` appended after `after` up to
/// `upto` (positions), oldest first.
pub async fn messages_between(pool: &PgPool, conversations: &[Uuid], after: u64, upto: u64) -> Rows<MessageRow> {
    let rows = sqlx::query_scalar(
        "SELECT row_to_json(m) FROM messages m WHERE conversation_id = ANY($1) AND position > $2 AND position <= $3 \
          ORDER BY position",
    )
    .bind(conversations)
    .bind(after as i64)
    .bind(upto as i64)
    .fetch_all(pool)
    .await?;
    Ok(unwrap_rows(rows))
}

/// The newest `limit` messages and notes of a conversation, oldest first.
pub async fn latest_messages(pool: &PgPool, conversation: Uuid, limit: i64) -> Rows<MessageRow> {
    let rows = sqlx::query_scalar(
        "SELECT row_to_json(m) FROM (SELECT * FROM messages WHERE conversation_id = $1 \
            ORDER BY position DESC LIMIT $2) m ORDER BY position",
    )
    .bind(conversation)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(unwrap_rows(rows))
}

/// A visitor.
pub async fn visitor(pool: &PgPool, id: Uuid) -> Result<Option<VisitorRow>, sqlx::Error> {
    one(pool, "SELECT row_to_json(v) FROM visitors v WHERE visitor_id = $1", id).await
}

/// A page of a visitor's conversations, newest first.
pub async fn visitor_conversations(pool: &PgPool, visitor: Uuid, page: &Keyset) -> Rows<ConversationRow> {
    let rows = sqlx::query_scalar(
        "SELECT row_to_json(c) FROM conversations c WHERE visitor_id = $1 \
            AND ($2::timestamptz IS NULL OR (created_at, conversation_id) < ($2, $3)) \
          ORDER BY created_at DESC, conversation_id DESC LIMIT $4",
    )
    .bind(visitor)
    .bind(page.after_at)
    .bind(page.after_id)
    .bind(page.limit)
    .fetch_all(pool)
    .await?;
    Ok(unwrap_rows(rows))
}

/// A message or note.
pub async fn message(pool: &PgPool, id: Uuid) -> Result<Option<MessageRow>, sqlx::Error> {
    one(pool, "SELECT row_to_json(m) FROM messages m WHERE message_id = $1", id).await
}

/// The message of `conversation` sent with `client_id`.
pub async fn message_by_client_id(
    pool: &PgPool,
    conversation: Uuid,
    client_id: &str,
) -> Result<Option<MessageRow>, sqlx::Error> {
    let row: Option<Json<MessageRow>> = sqlx::query_scalar(
        "SELECT row_to_json(m) FROM messages m WHERE conversation_id = $1 AND client_message_id = $2 LIMIT 1",
    )
    .bind(conversation)
    .bind(client_id)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|Json(row)| row))
}

/// The whole transcript of a conversation, oldest first, internal notes
/// only if `notes` ([`transcript_stream`], collected).
pub async fn all_messages(pool: &PgPool, conversation: Uuid, notes: bool) -> Rows<MessageRow> {
    futures::TryStreamExt::try_collect(transcript_stream(pool, conversation, notes)).await
}

/// The visitors of `site` tagged with the site's user id `external` (the
/// logged-in person's identities across sessions and devices).
pub async fn visitors_by_external_id(pool: &PgPool, site: Uuid, external: &str) -> Rows<VisitorRow> {
    let rows = sqlx::query_scalar(
        "SELECT row_to_json(v) FROM visitors v WHERE site_id = $1 AND external_user_id = $2 ORDER BY visitor_id LIMIT 100",
    )
    .bind(site)
    .bind(external)
    .fetch_all(pool)
    .await?;
    Ok(unwrap_rows(rows))
}

/// How many conversations of `site` each status holds, for the assignee
/// and provider of `filter` (its status and search are not applied): the
/// inbox's folder counts.
pub async fn conversation_counts(
    pool: &PgPool,
    site: Uuid,
    filter: &InboxFilter,
) -> Result<BTreeMap<String, i64>, sqlx::Error> {
    let counted: Vec<(String, i64)> = sqlx::query_as(
        "SELECT status, count(*) FROM conversations WHERE site_id = $1 \
            AND ($2::uuid IS NULL OR assignee_id = $2) \
            AND ($3::text IS NULL OR provider = $3) \
          GROUP BY status",
    )
    .bind(site)
    .bind(filter.assigned_to)
    .bind(filter.provider.as_deref())
    .fetch_all(pool)
    .await?;
    Ok(counted.into_iter().collect())
}
