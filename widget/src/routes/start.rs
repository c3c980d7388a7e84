//! `POST /widget/v1/sessions`: start, resume or join a session.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use chrono::Utc;
use livedesk_domain::Actor;
use livedesk_domain::session::{SessionCommand, SessionState};
use livedesk_domain::site::SiteProfile;
use serde::Deserialize;
use uuid::Uuid;

use crate::Widget;
use crate::body::JsonBody;
use crate::error::{WidgetError, WidgetResult};
use crate::session::{Client, SessionInfo, check_page, context};
use livedesk_projections::liveness;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct StartRequest {
    widget_key: String,
    tab_id: String,
    #[serde(default)]
    visitor_id: Option<Uuid>,
    /// The token the tab (or, with keep session, another tab) holds.
    #[serde(default)]
    token: Option<String>,
    path: String,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    referrer: Option<String>,
}

pub(crate) async fn start(
    State(widget): State<Widget>,
    client: Client,
    JsonBody(request): JsonBody<StartRequest>,
) -> WidgetResult<Json<SessionInfo>> {
    let site = widget.sites.by_key(&request.widget_key).await?;
    check_origin(&site, &client)?;
    check_page(&request.tab_id, &request.path, request.title.as_deref())?;
    if request.referrer.as_deref().is_some_and(|r| r.chars().count() > 2048) {
        return Err(WidgetError::InvalidInput(
            "referrer must be at most 2048 characters".into(),
        ));
    }
    // A token from this site's tab or another tab of the same visitor.
    let previous = request
        .token
        .as_deref()
        .and_then(|t| widget.signer.verify(t, Utc::now()).ok())
        .filter(|claims| claims.site_id == site.id.0);
    let wanted = request.visitor_id.or(previous.as_ref().map(|c| c.visitor_id));
    let visitor = widget.visitor_for(&site, wanted).await?;
    if let Some(previous) = previous.filter(|c| c.visitor_id == visitor)
        && let Some(info) = continue_session(&widget, &site, visitor, previous.session_id, &request).await?
    {
        return Ok(Json(info));
    }
    let info = widget
        .start_session(
            &site,
            visitor,
            &request.tab_id,
            &request.path,
            request.referrer,
            &client,
        )
        .await?;
    Ok(Json(info))
}

/// Resumes the session in the same tab, or joins it from another tab when
/// the site keeps sessions across tabs; `None` when a new one is needed.
async fn continue_session(
    widget: &Widget,
    site: &SiteProfile,
    visitor: Uuid,
    session: Uuid,
    request: &StartRequest,
) -> WidgetResult<Option<SessionInfo>> {
    let SessionState::Live(live) = widget.sessions.load(session).await? else {
        return Ok(None);
    };
    let now = Utc::now();
    if now >= live.expires_at || liveness::heartbeat(&widget.pool, session).await?.is_none() {
        return Ok(None);
    }
    let same_tab = live.tabs.contains(&request.tab_id);
    if !same_tab && !site.settings.keep_session_across_tabs {
        return Ok(None);
    }
    let ctx = context(site.id.0, Actor::Visitor(visitor));
    if !same_tab {
        let join = SessionCommand::JoinTab {
            tab_id: request.tab_id.clone(),
            at: now,
        };
        widget.sessions.execute(session, join, &ctx).await?;
        liveness::tab_joined(&widget.pool, session).await?;
    }
    if live.current_path != request.path || !same_tab {
        let view = SessionCommand::ViewPage {
            path: request.path.clone(),
            title: request.title.clone(),
            at: now,
        };
        widget.sessions.execute(session, view, &ctx).await?;
    }
    let outcome = if same_tab { "resumed" } else { "joined" };
    Ok(Some(
        widget.info(site, visitor, session, &request.tab_id, outcome).await?,
    ))
}

/// A browser page's `Origin` must be one of the site's allowed origins
/// (when the site lists any); requests without one (servers, tests) pass.
fn check_origin(site: &SiteProfile, client: &Client) -> WidgetResult<()> {
    let Some(origin) = client.headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return Ok(());
    };
    if site.allowed_origins.is_empty() || site.allowed_origins.iter().any(|o| o.eq_ignore_ascii_case(origin)) {
        Ok(())
    } else {
        Err(WidgetError::OriginNotAllowed)
    }
}
