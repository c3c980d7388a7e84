//! Console sessions: started by a sign-in, an accepted invitation or the
//! first-run set-up; resolved to a [`Principal`] like an API token; ended
//! by signing out, "sign out everywhere", idleness or their absolute
//! expiry.

use std::time::Duration;

use axum::http::{HeaderMap, header};
use chrono::{DateTime, Utc};
use livedesk_domain::{AgentId, AgentRef};
use livedesk_projections::accounts::{self, NewSession, SessionLogin};
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use super::ConsoleConfig;
use crate::auth::{NewToken, Principal, hash, parse_role};
use crate::error::{ApiError, ApiResult};

/// The name sessions go by where a token's name would be shown.
const SESSION_NAME: &str = "console session";

/// How often a session's last use is written (the idle expiry is counted
/// from it, so it is at most this much early).
const TOUCH_EVERY: Duration = Duration::from_secs(60);

/// What the console is told about its session.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionView {
    /// The agent signed in.
    pub agent: AgentView,
    /// The site of this session.
    pub site: SiteView,
    /// The agent's role on it.
    pub role: String,
    /// When the session ends at the latest.
    pub expires_at: DateTime<Utc>,
}

/// The agent of a session.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentView {
    /// Id.
    pub id: Uuid,
    /// The name visitors see.
    pub display_name: String,
    /// Email.
    pub email: String,
}

/// The site of a session.
#[derive(Debug, Clone, Serialize)]
pub struct SiteView {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: String,
}

/// A session just started: what to answer, and the cookie's secret.
#[derive(Debug)]
pub struct Started {
    /// The answer.
    pub view: SessionView,
    /// The secret for the cookie (stored only hashed).
    pub secret: String,
}

/// Starts a session for `agent_id` on `site_id`, revoking the one the
/// browser came with (if any): a sign-in always rotates the session.
///
/// # Errors
///
/// Internal on a database failure, or when the new session cannot be read
/// back (the agent lost the site meanwhile).
pub async fn start(
    pool: &PgPool,
    config: &ConsoleConfig,
    agent_id: Uuid,
    site_id: Uuid,
    headers: &HeaderMap,
) -> ApiResult<Started> {
    let token = NewToken::generate();
    let lifetime = chrono::Duration::from_std(config.session_lifetime)
        .map_err(|e| ApiError::internal(format!("session lifetime: {e}")))?;
    let session = NewSession {
        session_id: Uuid::now_v7(),
        secret_hash: token.hash,
        agent_id,
        site_id,
        expires_at: Utc::now() + lifetime,
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(256).collect()),
    };
    let replaces = super::cookie::session_secret(headers).map(hash);
    accounts::start_session(pool, &session, replaces.as_deref()).await?;
    let login = accounts::session_login(pool, &session.secret_hash, config.session_idle)
        .await?
        .ok_or_else(|| ApiError::internal("a session just started cannot be read"))?;
    let view = view(&login)?;
    Ok(Started {
        view,
        secret: token.secret,
    })
}

/// The live session of `secret`, with its principal.
///
/// # Errors
///
/// [`ApiError::Unauthenticated`] for an unknown, revoked, idle or expired
/// session, or one whose agent no longer has a role on its site.
pub async fn resolve(pool: &PgPool, config: &ConsoleConfig, secret: &str) -> ApiResult<(Principal, SessionView)> {
    let ended = || ApiError::Unauthenticated("your console session has ended; sign in again".into());
    let login = accounts::session_login(pool, &hash(secret), config.session_idle)
        .await?
        .ok_or_else(ended)?;
    let role = login.site_role.as_deref().and_then(parse_role).ok_or_else(ended)?;
    if Utc::now() - login.last_seen_at > chrono::Duration::from_std(TOUCH_EVERY).unwrap_or_default() {
        accounts::touch_session(pool, login.session_id).await?;
    }
    let principal = Principal {
        token_id: login.session_id,
        token_name: SESSION_NAME.into(),
        site_id: login.site_id,
        role,
        agent: Some(AgentRef::new(AgentId(login.agent_id), login.display_name.clone())),
        event_categories: Vec::new(),
    };
    Ok((principal, view(&login)?))
}

fn view(login: &SessionLogin) -> ApiResult<SessionView> {
    Ok(SessionView {
        agent: AgentView {
            id: login.agent_id,
            display_name: login.display_name.clone(),
            email: login.email.clone(),
        },
        site: SiteView {
            id: login.site_id,
            name: login.site_name.clone().unwrap_or_default(),
        },
        role: login
            .site_role
            .as_deref()
            .map(str::to_uppercase)
            .ok_or_else(|| ApiError::Unauthenticated("you no longer have access to this site".into()))?,
        expires_at: login.expires_at,
    })
}
