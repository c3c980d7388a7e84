//! The widget routes, the rate limit in front of them, CORS, and what
//! every handler extracts (the caller's token and client).

mod activity;
mod chat;
mod identity;
mod start;
mod typing;
mod web;
pub use web::DEMO_WIDGET_KEY;
mod ws;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower_http::cors::{Any, CorsLayer};

use crate::Widget;
use crate::client::client_ip;
use crate::error::WidgetError;
use crate::session::Client;

pub(crate) fn router<S: Clone + Send + Sync + 'static>(widget: Widget) -> Router<S> {
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
        .max_age(Duration::from_secs(3600));
    Router::new()
        .route("/widget/v1/sessions", post(start::start))
        .route("/widget/v1/page", post(activity::page))
        .route("/widget/v1/visibility", post(activity::visibility))
        .route("/widget/v1/heartbeat", post(activity::heartbeat))
        .route("/widget/v1/leave", post(activity::leave))
        .route("/widget/v1/code", post(activity::share_code))
        .route(
            "/widget/v1/connection-requests/{request_id}",
            post(activity::answer_connection),
        )
        .route("/widget/v1/messages", post(chat::send))
        .route("/widget/v1/human", post(chat::request_human))
        .route("/widget/v1/history", get(chat::history))
        .route("/widget/v1/typing", post(typing::typing))
        .route("/widget/v1/tag", post(identity::tag))
        .route("/widget/v1/reset", post(identity::reset))
        .route("/widget/v1/ws", get(ws::upgrade))
        .layer(middleware::from_fn_with_state(widget.clone(), rate_limit))
        .layer(cors)
        // Static files: no rate limit.
        .route("/widget.js", get(web::script))
        .route("/demo", get(web::demo))
        .route("/demo/{page}", get(web::demo_page))
        .with_state(widget)
}

/// 429 with `Retry-After` once an address spends its burst.
async fn rate_limit(State(widget): State<Widget>, request: Request, next: Next) -> Response {
    if request.method() == Method::OPTIONS {
        return next.run(request).await;
    }
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
    let ip = client_ip(request.headers(), peer, widget.config.client_ip_header.as_deref());
    if let Some(ip) = ip
        && !widget.config.rate_exempt.contains(&ip)
        && let Err(retry_after) = widget.limiter.check(ip, Instant::now())
    {
        return WidgetError::RateLimited(retry_after).into_response();
    }
    next.run(request).await
}

impl FromRequestParts<Widget> for Client {
    type Rejection = WidgetError;

    async fn from_request_parts(parts: &mut Parts, widget: &Widget) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
        let ip = client_ip(&parts.headers, peer, widget.config.client_ip_header.as_deref());
        Ok(Self {
            headers: parts.headers.clone(),
            ip,
        })
    }
}

/// The token of a request: `Authorization: Bearer`, else the body's
/// `token` field (sendBeacon cannot set headers).
pub(crate) fn token<'a>(headers: &'a HeaderMap, body: Option<&'a str>) -> Option<&'a str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .or(body)
}
