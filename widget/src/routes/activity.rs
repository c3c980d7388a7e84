//! What a tab reports: pages, visibility, heartbeats, leaving, sharing the
//! session code, answering an agent's connection request.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use chrono::Utc;
use livedesk_domain::RequestId;
use livedesk_domain::session::{EndReason, SessionCommand, SessionError, SessionState};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::token;
use crate::Widget;
use crate::body::JsonBody;
use crate::error::{WidgetError, WidgetResult};
use crate::session::{Client, Renewal, check_page};
use livedesk_projections::liveness;

/// A body with only the token (for callers that cannot set headers).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TokenOnly {
    #[serde(default)]
    token: Option<String>,
}

impl TokenOnly {
    pub(crate) fn token_ref(&self) -> Option<&str> {
        self.token.as_deref()
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct PageRequest {
    path: String,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    token: Option<String>,
}

/// `{"ok": true, "renewed": null | SessionInfo}`.
#[derive(Debug, Serialize)]
pub(crate) struct Done {
    ok: bool,
    #[serde(flatten)]
    renewal: Renewal,
}

fn done(renewal: Renewal) -> Json<Done> {
    Json(Done { ok: true, renewal })
}

pub(crate) async fn page(
    State(widget): State<Widget>,
    headers: HeaderMap,
    client: Client,
    JsonBody(request): JsonBody<PageRequest>,
) -> WidgetResult<Json<Done>> {
    let caller = widget.caller(token(&headers, request.token.as_deref())).await?;
    check_page(&caller.claims.tab_id, &request.path, request.title.as_deref())?;
    let view = SessionCommand::ViewPage {
        path: request.path.clone(),
        title: request.title,
        at: Utc::now(),
    };
    let (_, renewal) = widget
        .activity(&caller, &client, Some(&request.path), Some(view))
        .await?;
    Ok(done(renewal))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Visibility {
    Active,
    Idle,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct VisibilityRequest {
    state: Visibility,
    #[serde(default)]
    token: Option<String>,
}

pub(crate) async fn visibility(
    State(widget): State<Widget>,
    headers: HeaderMap,
    client: Client,
    JsonBody(request): JsonBody<VisibilityRequest>,
) -> WidgetResult<Json<Done>> {
    let caller = widget.caller(token(&headers, request.token.as_deref())).await?;
    let at = Utc::now();
    let command = match request.state {
        Visibility::Active => SessionCommand::BecomeActive { at },
        Visibility::Idle => SessionCommand::BecomeIdle { at },
    };
    let (_, renewal) = widget.activity(&caller, &client, None, Some(command)).await?;
    Ok(done(renewal))
}

pub(crate) async fn heartbeat(
    State(widget): State<Widget>,
    headers: HeaderMap,
    client: Client,
    JsonBody(request): JsonBody<TokenOnly>,
) -> WidgetResult<Json<Done>> {
    let caller = widget.caller(token(&headers, request.token.as_deref())).await?;
    let (_, renewal) = widget.activity(&caller, &client, None, None).await?;
    Ok(done(renewal))
}

/// The tab is closing (sent with `navigator.sendBeacon`). The session
/// ends unless other tabs of a kept session are still open; those end it
/// by leaving or by going silent.
pub(crate) async fn leave(
    State(widget): State<Widget>,
    headers: HeaderMap,
    JsonBody(request): JsonBody<TokenOnly>,
) -> WidgetResult<Json<Done>> {
    let caller = widget.caller(token(&headers, request.token.as_deref())).await?;
    let session = caller.claims.session_id;
    if liveness::tab_left(&widget.pool, session).await? == 0 {
        widget.end(&caller, session, EndReason::Closed).await?;
    }
    Ok(done(Renewal::default()))
}

#[derive(Debug, Serialize)]
pub(crate) struct CodeShared {
    code: String,
    #[serde(flatten)]
    renewal: Renewal,
}

/// The visitor opts in to "connect by code": the answer is the code to
/// read out to an agent.
pub(crate) async fn share_code(
    State(widget): State<Widget>,
    headers: HeaderMap,
    client: Client,
    JsonBody(request): JsonBody<TokenOnly>,
) -> WidgetResult<Json<CodeShared>> {
    let caller = widget.caller(token(&headers, request.token.as_deref())).await?;
    let share = SessionCommand::ShareCode { at: Utc::now() };
    let (session, renewal) = widget.activity(&caller, &client, None, Some(share)).await?;
    let SessionState::Live(live) = widget.sessions.load(session).await? else {
        return Err(WidgetError::Conflict("the session has ended".into()));
    };
    Ok(Json(CodeShared {
        code: live.code.to_string(),
        renewal,
    }))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Answer {
    Accept,
    Decline,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct AnswerRequest {
    answer: Answer,
    #[serde(default)]
    token: Option<String>,
}

/// Accept or decline an agent's request to connect to this session.
pub(crate) async fn answer_connection(
    State(widget): State<Widget>,
    headers: HeaderMap,
    Path(request_id): Path<String>,
    JsonBody(request): JsonBody<AnswerRequest>,
) -> WidgetResult<Json<Done>> {
    let caller = widget.caller(token(&headers, request.token.as_deref())).await?;
    let request_id = Uuid::parse_str(&request_id)
        .map(RequestId)
        .map_err(|_| WidgetError::InvalidInput("the request id is not a UUID".into()))?;
    let at = Utc::now();
    let command = match request.answer {
        Answer::Accept => SessionCommand::AcceptConnection { request_id, at },
        Answer::Decline => SessionCommand::DeclineConnection { request_id, at },
    };
    let ctx = crate::session::context(
        caller.site.id.0,
        livedesk_domain::Actor::Visitor(caller.claims.visitor_id),
    );
    match widget.sessions.execute(caller.claims.session_id, command, &ctx).await {
        Ok(_) => Ok(done(Renewal::default())),
        Err(livedesk_eventstore::CommandError::Rejected(SessionError::UnknownConnectionRequest(_))) => Err(
            WidgetError::NotFound("no such connection request in this session".into()),
        ),
        Err(error) => Err(error.into()),
    }
}
