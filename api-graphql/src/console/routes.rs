//! The handlers of `/console/api/`: sign in and out.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use livedesk_projections::accounts;
use serde::Deserialize;
use uuid::Uuid;

use super::session::{self, Started};
use super::{cookie, invite, password, setup};
use crate::GraphQl;
use crate::error::{ApiError, ApiResult};

/// The routes of `/console/api/`.
pub fn router<S: Clone + Send + Sync + 'static>(graphql: GraphQl) -> Router<S> {
    Router::new()
        .route("/console/api/session", get(current).post(sign_in).delete(sign_out))
        .route("/console/api/sessions/revoke-all", post(sign_out_everywhere))
        .route("/console/api/invitations/accept", post(invite::accept))
        .route("/console/api/invitations/{token}", get(invite::show))
        .route("/console/api/setup", get(setup::needed).post(setup::run))
        .with_state(graphql)
}

/// The JSON error answer, with the status its code calls for.
pub(super) fn refuse(error: &ApiError) -> Response {
    refuse_with(error, serde_json::Map::new())
}

/// [`refuse`] with more fields in the error object.
pub(super) fn refuse_with(error: &ApiError, extra: serde_json::Map<String, serde_json::Value>) -> Response {
    let status = match error {
        ApiError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
        ApiError::NotFound(_) => StatusCode::NOT_FOUND,
        ApiError::Conflict { .. } => StatusCode::CONFLICT,
        ApiError::BadInput(_) => StatusCode::BAD_REQUEST,
        ApiError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
        ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let mut body = serde_json::Map::new();
    body.insert("code".into(), error.code().into());
    body.insert("message".into(), error.message().into());
    body.extend(extra);
    let mut response = (status, Json(serde_json::json!({ "error": body }))).into_response();
    no_store(&mut response);
    response
}

fn no_store(response: &mut Response) {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// The answer to a sign-in: the session, with its cookie.
pub(super) fn signed_in(state: &GraphQl, started: Started, headers: &HeaderMap) -> Response {
    let config = &state.api.config.console;
    let mut response = Json(started.view).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        cookie::set(
            &started.secret,
            config.session_lifetime.as_secs(),
            config.secure_cookies,
            headers,
        ),
    );
    no_store(&mut response);
    response
}

/// The JSON body of a same-origin console request.
pub(super) fn read<T: serde::de::DeserializeOwned>(headers: &HeaderMap, bytes: &[u8]) -> ApiResult<T> {
    cookie::require_same_origin(headers)?;
    if bytes.len() > 16 * 1024 {
        return Err(ApiError::BadInput("the request body is over 16 KiB".into()));
    }
    serde_json::from_slice(bytes).map_err(|e| ApiError::BadInput(format!("the body is not valid: {e}")))
}

/// `GET /console/api/session`.
async fn current(State(state): State<GraphQl>, headers: HeaderMap) -> Response {
    let answer = async {
        cookie::require_same_origin(&headers)?;
        let secret =
            cookie::session_secret(&headers).ok_or_else(|| ApiError::Unauthenticated("not signed in".into()))?;
        session::resolve(&state.api.pool, &state.api.config.console, secret).await
    };
    match answer.await {
        Ok((_, view)) => {
            let mut response = Json(view).into_response();
            no_store(&mut response);
            response
        }
        Err(error) => refuse(&error),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SignIn {
    email: String,
    password: String,
    #[serde(default)]
    site_id: Option<Uuid>,
}

/// `POST /console/api/session`.
async fn sign_in(
    State(state): State<GraphQl>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    bytes: axum::body::Bytes,
) -> Response {
    let request: SignIn = match read(&headers, &bytes) {
        Ok(request) => request,
        Err(error) => return refuse(&error),
    };
    match attempt(&state, peer, &headers, request).await {
        Ok(started) => signed_in(&state, started, &headers),
        Err(Refusal::Error(error)) => refuse(&error),
        Err(Refusal::RateLimited { retry_after_secs }) => {
            let error = ApiError::RateLimited("too many failed sign-ins; try again later".into());
            let mut extra = serde_json::Map::new();
            extra.insert("retryAfterSecs".into(), retry_after_secs.into());
            let mut response = refuse_with(&error, extra);
            if let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
        Err(Refusal::ChooseSite(sites)) => {
            let error = ApiError::Conflict {
                message: "you work on several sites: choose one".into(),
                holder: None,
            };
            let mut extra = serde_json::Map::new();
            extra.insert("code".into(), "CHOOSE_SITE".into());
            extra.insert(
                "sites".into(),
                sites
                    .into_iter()
                    .map(|(id, name)| serde_json::json!({ "id": id, "name": name }))
                    .collect(),
            );
            refuse_with(&error, extra)
        }
    }
}

enum Refusal {
    Error(ApiError),
    RateLimited { retry_after_secs: i64 },
    ChooseSite(Vec<(Uuid, String)>),
}

impl From<ApiError> for Refusal {
    fn from(error: ApiError) -> Self {
        Self::Error(error)
    }
}

/// Checks the rate limit, the password and the site, and starts the
/// session. Unknown emails and wrong passwords get the same answer, after
/// the same work.
async fn attempt(state: &GraphQl, peer: SocketAddr, headers: &HeaderMap, request: SignIn) -> Result<Started, Refusal> {
    let api = &state.api;
    let config = &api.config.console;
    let wrong = || Refusal::Error(ApiError::Unauthenticated("wrong email or password".into()));
    if request.email.len() > 320 || request.password.chars().count() > password::MAX_PASSWORD_CHARS {
        return Err(wrong());
    }
    let account_key = format!("account:{}", request.email.trim().to_lowercase());
    let keys = vec![account_key.clone(), format!("ip:{}", peer.ip())];
    let failures = accounts::sign_in_failures(&api.pool, &keys, config.sign_in_window)
        .await
        .map_err(ApiError::from)?;
    for (key, count, oldest) in &failures {
        let limit = if *key == account_key {
            config.max_failures_per_account
        } else {
            config.max_failures_per_address
        };
        if *count >= limit {
            let window = chrono::Duration::from_std(config.sign_in_window).unwrap_or_default();
            let retry_after_secs = (*oldest + window - Utc::now()).num_seconds().max(1);
            return Err(Refusal::RateLimited { retry_after_secs });
        }
    }
    let account = accounts::account_by_email(&api.pool, request.email.trim())
        .await
        .map_err(ApiError::from)?;
    let stored = account.as_ref().and_then(|a| a.password_hash.clone());
    let matches = password::verify(request.password, stored).await?;
    let Some(account) = account.filter(|_| matches) else {
        accounts::record_sign_in_failure(&api.pool, &keys, config.sign_in_window)
            .await
            .map_err(ApiError::from)?;
        tracing::info!(peer = %peer.ip(), "console sign-in refused");
        return Err(wrong());
    };
    accounts::clear_sign_in_failures(&api.pool, &keys[..1])
        .await
        .map_err(ApiError::from)?;
    let site_id = match request.site_id {
        Some(site) if account.roles.contains_key(&site) => site,
        Some(_) => return Err(ApiError::Forbidden("you have no access to that site".into()).into()),
        None => {
            let sites = accounts::agent_sites(&api.pool, account.agent_id)
                .await
                .map_err(ApiError::from)?;
            match sites.as_slice() {
                [] => return Err(ApiError::Forbidden("you have no access to any site".into()).into()),
                [(site, _, _)] => *site,
                _ => {
                    return Err(Refusal::ChooseSite(
                        sites.into_iter().map(|(id, name, _)| (id, name)).collect(),
                    ));
                }
            }
        }
    };
    tracing::info!(agent = %account.agent_id, site = %site_id, "console sign-in");
    Ok(session::start(&api.pool, config, account.agent_id, site_id, headers).await?)
}

/// `DELETE /console/api/session`.
async fn sign_out(State(state): State<GraphQl>, headers: HeaderMap) -> Response {
    let answer = async {
        cookie::require_same_origin(&headers)?;
        if let Some(secret) = cookie::session_secret(&headers) {
            accounts::revoke_session(&state.api.pool, &crate::auth::hash(secret)).await?;
            state.api.sessions_ended.send_modify(|n| *n += 1);
        }
        ApiResult::Ok(())
    };
    match answer.await {
        Ok(()) => signed_out(),
        Err(error) => refuse(&error),
    }
}

/// `POST /console/api/sessions/revoke-all`.
async fn sign_out_everywhere(State(state): State<GraphQl>, headers: HeaderMap) -> Response {
    let answer = async {
        cookie::require_same_origin(&headers)?;
        let secret =
            cookie::session_secret(&headers).ok_or_else(|| ApiError::Unauthenticated("not signed in".into()))?;
        let (principal, _) = session::resolve(&state.api.pool, &state.api.config.console, secret).await?;
        let agent = principal
            .agent_id()
            .ok_or_else(|| ApiError::internal("a session without an agent"))?;
        let ended = accounts::revoke_agent_sessions(&state.api.pool, agent.0).await?;
        state.api.sessions_ended.send_modify(|n| *n += 1);
        tracing::info!(agent = %agent.0, sessions = ended, "console signed out everywhere");
        ApiResult::Ok(())
    };
    match answer.await {
        Ok(()) => signed_out(),
        Err(error) => refuse(&error),
    }
}

fn signed_out() -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie::clear());
    no_store(&mut response);
    response
}
