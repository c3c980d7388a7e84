//! Console sign-in state: password hashes, signed-in browsers, one-time
//! invitation links and failed attempts (`migrations/…_console_accounts`).
//!
//! This is process state kept beside the read models, not a read model:
//! secrets are not derived from the log, so these tables are never
//! rebuilt and never exported. The log records the facts only
//! (`AgentPasswordSet`). Secrets arrive here already hashed.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use sqlx::types::Json;
use uuid::Uuid;

type Result<T> = std::result::Result<T, sqlx::Error>;

/// An agent found by email, with what signing in needs.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Account {
    /// The agent.
    pub agent_id: Uuid,
    /// Their email as invited.
    pub email: String,
    /// The name visitors see.
    pub display_name: String,
    /// Role per site (`{"<site id>": "agent"}`).
    pub roles: Json<std::collections::BTreeMap<Uuid, String>>,
    /// The Argon2id hash of their password; `None` until they set one.
    pub password_hash: Option<String>,
}

/// The agent invited with `email` (any case) who has a password, else any
/// agent invited with it.
///
/// # Errors
///
/// A database failure.
pub async fn account_by_email(pool: &PgPool, email: &str) -> Result<Option<Account>> {
    sqlx::query_as(
        "SELECT a.agent_id, a.email, a.display_name, a.roles, c.password_hash \
           FROM agents a LEFT JOIN agent_credentials c ON c.agent_id = a.agent_id \
          WHERE lower(a.email) = lower($1) \
          ORDER BY c.password_hash IS NULL, a.agent_id LIMIT 1",
    )
    .bind(email)
    .fetch_optional(pool)
    .await
}

/// Stores (or replaces) an agent's password hash.
///
/// # Errors
///
/// A database failure.
pub async fn set_password_hash(pool: &PgPool, agent_id: Uuid, hash: &str, at: DateTime<Utc>) -> Result<()> {
    sqlx::query(
        "INSERT INTO agent_credentials (agent_id, password_hash, set_at) VALUES ($1, $2, $3) \
         ON CONFLICT (agent_id) DO UPDATE SET password_hash = EXCLUDED.password_hash, set_at = EXCLUDED.set_at",
    )
    .bind(agent_id)
    .bind(hash)
    .bind(at)
    .execute(pool)
    .await?;
    Ok(())
}

/// Whether an agent has a password.
///
/// # Errors
///
/// A database failure.
pub async fn has_password(pool: &PgPool, agent_id: Uuid) -> Result<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM agent_credentials WHERE agent_id = $1)")
        .bind(agent_id)
        .fetch_one(pool)
        .await
}

/// A session to start.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// Its id.
    pub session_id: Uuid,
    /// The SHA-256 (hex) of the cookie's secret.
    pub secret_hash: String,
    /// Who signed in.
    pub agent_id: Uuid,
    /// The site they work on in this session.
    pub site_id: Uuid,
    /// When it ends at the latest.
    pub expires_at: DateTime<Utc>,
    /// The browser, for "where am I signed in".
    pub user_agent: Option<String>,
}

/// Starts a session; revokes `replaces` (the secret hash of the cookie
/// the browser came with, if any) in the same transaction, so a sign-in
/// always rotates the session.
///
/// # Errors
///
/// A database failure.
pub async fn start_session(pool: &PgPool, session: &NewSession, replaces: Option<&str>) -> Result<()> {
    let mut tx = pool.begin().await?;
    if let Some(old) = replaces {
        sqlx::query("UPDATE console_sessions SET revoked_at = now() WHERE secret_hash = $1 AND revoked_at IS NULL")
            .bind(old)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query(
        "INSERT INTO console_sessions \
           (session_id, secret_hash, agent_id, site_id, created_at, last_seen_at, expires_at, user_agent) \
         VALUES ($1, $2, $3, $4, now(), now(), $5, $6)",
    )
    .bind(session.session_id)
    .bind(&session.secret_hash)
    .bind(session.agent_id)
    .bind(session.site_id)
    .bind(session.expires_at)
    .bind(session.user_agent.as_deref())
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// A live session by the hash of its secret, with what authenticating it
/// needs of its agent.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SessionLogin {
    /// The session.
    pub session_id: Uuid,
    /// The agent.
    pub agent_id: Uuid,
    /// The site.
    pub site_id: Uuid,
    /// The agent's email.
    pub email: String,
    /// The name visitors see.
    pub display_name: String,
    /// The agent's role on the site now (`None`: removed from it).
    pub site_role: Option<String>,
    /// The site's name.
    pub site_name: Option<String>,
    /// The absolute expiry.
    pub expires_at: DateTime<Utc>,
    /// Last use, before this one.
    pub last_seen_at: DateTime<Utc>,
}

/// The session whose secret hashes to `secret_hash`, unless revoked,
/// expired or idle for longer than `idle`.
///
/// # Errors
///
/// A database failure.
pub async fn session_login(pool: &PgPool, secret_hash: &str, idle: Duration) -> Result<Option<SessionLogin>> {
    sqlx::query_as(
        "SELECT s.session_id, s.agent_id, s.site_id, a.email, a.display_name, \
                a.roles ->> s.site_id::text AS site_role, t.name AS site_name, s.expires_at, s.last_seen_at \
           FROM console_sessions s \
           JOIN agents a ON a.agent_id = s.agent_id \
           LEFT JOIN sites t ON t.site_id = s.site_id \
          WHERE s.secret_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now() \
            AND s.last_seen_at > now() - make_interval(secs => $2)",
    )
    .bind(secret_hash)
    .bind(idle.as_secs_f64())
    .fetch_optional(pool)
    .await
}

/// Records that a session was used now (for the idle expiry).
///
/// # Errors
///
/// A database failure.
pub async fn touch_session(pool: &PgPool, session_id: Uuid) -> Result<()> {
    sqlx::query("UPDATE console_sessions SET last_seen_at = now() WHERE session_id = $1")
        .bind(session_id)
        .execute(pool)
        .await?;
    Ok(())
}

/// Revokes the session whose secret hashes to `secret_hash`.
///
/// # Errors
///
/// A database failure.
pub async fn revoke_session(pool: &PgPool, secret_hash: &str) -> Result<()> {
    sqlx::query("UPDATE console_sessions SET revoked_at = now() WHERE secret_hash = $1 AND revoked_at IS NULL")
        .bind(secret_hash)
        .execute(pool)
        .await?;
    Ok(())
}

/// Revokes every session of an agent ("sign out everywhere"); returns how
/// many were live.
///
/// # Errors
///
/// A database failure.
pub async fn revoke_agent_sessions(pool: &PgPool, agent_id: Uuid) -> Result<u64> {
    let done = sqlx::query("UPDATE console_sessions SET revoked_at = now() WHERE agent_id = $1 AND revoked_at IS NULL")
        .bind(agent_id)
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}

/// A one-time link to set a password.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Invitation {
    /// The site it gives access to.
    pub site_id: Uuid,
    /// With this role (snake_case).
    pub role: String,
    /// The invited agent; `None` for a site's first admin, who names
    /// themselves.
    pub agent_id: Option<Uuid>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// When it was used.
    pub used_at: Option<DateTime<Utc>>,
}

/// Stores an invitation by the hash of its secret.
///
/// # Errors
///
/// A database failure.
pub async fn create_invitation(pool: &PgPool, secret_hash: &str, invitation: &Invitation) -> Result<()> {
    sqlx::query(
        "INSERT INTO console_invitations (secret_hash, site_id, role, agent_id, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, now(), $5)",
    )
    .bind(secret_hash)
    .bind(invitation.site_id)
    .bind(&invitation.role)
    .bind(invitation.agent_id)
    .bind(invitation.expires_at)
    .execute(pool)
    .await?;
    Ok(())
}

/// The invitation whose secret hashes to `secret_hash`, used or not.
///
/// # Errors
///
/// A database failure.
pub async fn invitation(pool: &PgPool, secret_hash: &str) -> Result<Option<Invitation>> {
    sqlx::query_as(
        "SELECT site_id, role, agent_id, expires_at, used_at FROM console_invitations WHERE secret_hash = $1",
    )
    .bind(secret_hash)
    .fetch_optional(pool)
    .await
}

/// Uses the invitation (once, before it expires) for `agent_id` and stores
/// the agent's password hash, in one transaction. `false` when the
/// invitation was used, expired or unknown: nothing is stored then.
///
/// # Errors
///
/// A database failure.
pub async fn accept_invitation(pool: &PgPool, secret_hash: &str, agent_id: Uuid, password_hash: &str) -> Result<bool> {
    let mut tx = pool.begin().await?;
    let used = sqlx::query(
        "UPDATE console_invitations SET used_at = now(), agent_id = coalesce(agent_id, $2) \
          WHERE secret_hash = $1 AND used_at IS NULL AND expires_at > now() \
            AND (agent_id IS NULL OR agent_id = $2)",
    )
    .bind(secret_hash)
    .bind(agent_id)
    .execute(&mut *tx)
    .await?;
    if used.rows_affected() != 1 {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO agent_credentials (agent_id, password_hash, set_at) VALUES ($1, $2, now()) \
         ON CONFLICT (agent_id) DO UPDATE SET password_hash = EXCLUDED.password_hash, set_at = EXCLUDED.set_at",
    )
    .bind(agent_id)
    .bind(password_hash)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Records a failed sign-in under each key (`account:…`, `ip:…`) and
/// forgets failures older than `window`.
///
/// # Errors
///
/// A database failure.
pub async fn record_sign_in_failure(pool: &PgPool, keys: &[String], window: Duration) -> Result<()> {
    sqlx::query(
        "WITH gone AS (DELETE FROM sign_in_failures WHERE key = ANY($1) AND at < now() - make_interval(secs => $2)) \
         INSERT INTO sign_in_failures (key, at) SELECT k, now() FROM unnest($1::text[]) AS k",
    )
    .bind(keys)
    .bind(window.as_secs_f64())
    .execute(pool)
    .await?;
    Ok(())
}

/// Failed sign-ins per key within `window`, with the oldest one's time
/// (when the first of them stops counting).
///
/// # Errors
///
/// A database failure.
pub async fn sign_in_failures(
    pool: &PgPool,
    keys: &[String],
    window: Duration,
) -> Result<Vec<(String, i64, DateTime<Utc>)>> {
    sqlx::query_as(
        "SELECT key, count(*), min(at) FROM sign_in_failures \
          WHERE key = ANY($1) AND at > now() - make_interval(secs => $2) GROUP BY key",
    )
    .bind(keys)
    .bind(window.as_secs_f64())
    .fetch_all(pool)
    .await
}

/// Forgets the failures under `keys` (after a successful sign-in, the
/// account's own).
///
/// # Errors
///
/// A database failure.
pub async fn clear_sign_in_failures(pool: &PgPool, keys: &[String]) -> Result<()> {
    sqlx::query("DELETE FROM sign_in_failures WHERE key = ANY($1)")
        .bind(keys)
        .execute(pool)
        .await?;
    Ok(())
}

/// The sites an agent has a role on, with their names, by name.
///
/// # Errors
///
/// A database failure.
pub async fn agent_sites(pool: &PgPool, agent_id: Uuid) -> Result<Vec<(Uuid, String, String)>> {
    sqlx::query_as(
        "SELECT s.site_id, s.name, r.value FROM agents a \
           CROSS JOIN LATERAL jsonb_each_text(a.roles) r \
           JOIN sites s ON s.site_id::text = r.key \
          WHERE a.agent_id = $1 ORDER BY s.name, s.site_id",
    )
    .bind(agent_id)
    .fetch_all(pool)
    .await
}
