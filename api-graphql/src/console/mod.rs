//! Signing in to the console: email and password, cookie sessions,
//! invitations and the first-run set-up, as JSON under `/console/api/`.
//!
//! | request | answer |
//! | --- | --- |
//! | `GET /console/api/session` | the session (agent, site, role, expiry) or 401 |
//! | `POST /console/api/session` `{email, password, siteId?}` | signs in: the session and its cookie; 401, 429 `RATE_LIMITED`, 409 `CHOOSE_SITE` |
//! | `DELETE /console/api/session` | signs this browser out (204) |
//! | `POST /console/api/sessions/revoke-all` | signs the agent out everywhere (204) |
//! | `GET /console/api/invitations/{token}` | who the link is for, or 404 |
//! | `POST /console/api/invitations/accept` `{token, password, name?, email?}` | sets the password, signs in |
//! | `GET /console/api/setup` | `{needed}`: whether no site exists yet |
//! | `POST /console/api/setup` `{setupToken, siteName, name, email, password}` | the first site and its admin, signed in |
//!
//! Errors are `{"error": {"code", "message"}}`. Every request must pass
//! [`cookie::require_same_origin`]. A session authenticates GraphQL over
//! HTTP and WebSocket like an API token of the agent's role on the site
//! ([`authenticate_request`]).

pub mod cookie;
pub mod invite;
pub mod password;
mod routes;
pub mod session;
pub mod setup;

use std::sync::Mutex;
use std::time::Duration;

use axum::http::HeaderMap;
use sqlx::PgPool;

pub use routes::router;

use crate::auth::{Principal, authenticate, bearer};
use crate::error::{ApiError, ApiResult};

/// Settings of console sign-in.
#[derive(Debug, Clone)]
pub struct ConsoleConfig {
    /// A session unused this long ends.
    pub session_idle: Duration,
    /// A session ends this long after sign-in, used or not.
    pub session_lifetime: Duration,
    /// The window failed sign-ins are counted over.
    pub sign_in_window: Duration,
    /// Failed sign-ins per account (email) within the window before
    /// further attempts are refused.
    pub max_failures_per_account: i64,
    /// Failed sign-ins per client address within the window.
    pub max_failures_per_address: i64,
    /// How long an invitation link works.
    pub invitation_lifetime: Duration,
    /// The address people open the console at, for the links printed and
    /// shown (`http://127.0.0.1:8080`).
    pub public_url: String,
    /// Mark the cookie `Secure` (also done for requests through a proxy
    /// saying `X-Forwarded-Proto: https`).
    pub secure_cookies: bool,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        Self {
            session_idle: Duration::from_secs(8 * 3600),
            session_lifetime: Duration::from_secs(7 * 24 * 3600),
            sign_in_window: Duration::from_secs(15 * 60),
            max_failures_per_account: 5,
            max_failures_per_address: 30,
            invitation_lifetime: Duration::from_secs(7 * 24 * 3600),
            public_url: "http://127.0.0.1:8080".into(),
            secure_cookies: false,
        }
    }
}

/// The one-time token that guards the first-run set-up of this process:
/// drawn at start, printed in the log while no site exists, gone once
/// used.
#[derive(Debug)]
pub struct SetupToken(Mutex<Option<String>>);

impl SetupToken {
    /// A fresh token.
    pub fn generate() -> Self {
        Self(Mutex::new(Some(crate::auth::NewToken::generate().secret)))
    }

    /// The token, unless used.
    pub fn peek(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Puts back a token taken by a set-up that then failed on its input.
    fn restore(&self, token: &str) {
        let mut slot = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if slot.is_none() {
            *slot = Some(token.to_owned());
        }
    }

    /// Uses the token if `offered` is it: `true` once.
    fn take(&self, offered: &str) -> bool {
        let mut token = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let matches = token.as_deref().is_some_and(|t| {
            t.len() == offered.len() && t.bytes().zip(offered.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
        });
        if matches {
            *token = None;
        }
        matches
    }
}

/// Who sent a request: an API token (`Authorization: Bearer`), else the
/// console's session cookie, which must come from this origin
/// ([`cookie::require_same_origin`]).
///
/// # Errors
///
/// [`ApiError::Unauthenticated`] without valid credentials;
/// [`ApiError::Forbidden`] for a cookie sent from another site.
pub async fn authenticate_request(pool: &PgPool, config: &ConsoleConfig, headers: &HeaderMap) -> ApiResult<Principal> {
    let authorization = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if let Some(value) = authorization {
        return authenticate(pool, bearer(value)).await;
    }
    match cookie::session_secret(headers) {
        Some(secret) => {
            cookie::require_same_origin(headers)?;
            session::resolve(pool, config, secret)
                .await
                .map(|(principal, _)| principal)
        }
        None => Err(ApiError::Unauthenticated(
            "missing credentials: send `Authorization: Bearer <token>`, or sign in to the console".into(),
        )),
    }
}
