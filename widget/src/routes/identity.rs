//! `Livedesk.user.tag(...)` and `Livedesk.user.reset()`.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use chrono::Utc;
use livedesk_domain::Actor;
use livedesk_domain::session::EndReason;
use livedesk_domain::visitor::{VisitorCommand, VisitorError, VisitorTag};
use livedesk_eventstore::CommandError;
use serde::{Deserialize, Serialize};

use super::token;
use crate::Widget;
use crate::body::JsonBody;
use crate::error::{WidgetError, WidgetResult};
use crate::session::{Client, SessionInfo, context, conversation_of};
use crate::token::identity_signature_matches;

/// How long `tag` waits for the inbox to show it (so `history` does).
const READ_YOUR_WRITES: Duration = Duration::from_secs(5);

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct TagRequest {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    last_name: Option<String>,
    #[serde(default)]
    labels: Option<Vec<String>>,
    #[serde(default)]
    assigned_user: Option<String>,
    #[serde(default)]
    external_user_id: Option<String>,
    /// Hex HMAC-SHA256 of `externalUserId` with the site's identity secret.
    #[serde(default)]
    signature: Option<String>,
    #[serde(default)]
    token: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Tagged {
    ok: bool,
    /// The external user id was signed and the signature matched.
    verified: bool,
    /// The conversation was assigned to `assignedUser`.
    assigned: bool,
}

pub(crate) async fn tag(
    State(widget): State<Widget>,
    headers: HeaderMap,
    JsonBody(request): JsonBody<TagRequest>,
) -> WidgetResult<Json<Tagged>> {
    let caller = widget.caller(token(&headers, request.token.as_deref())).await?;
    let site = &caller.site;
    let verified = match (&request.external_user_id, &request.signature) {
        (Some(user), Some(signature)) => {
            let secret = site.identity_secret.as_deref().ok_or(WidgetError::InvalidSignature)?;
            if !identity_signature_matches(secret, user, signature) {
                return Err(WidgetError::InvalidSignature);
            }
            true
        }
        (Some(_), None) if site.require_signed_identity => return Err(WidgetError::SignatureRequired),
        _ => false,
    };
    let visitor = caller.claims.visitor_id;
    let assigned_user = request.assigned_user.clone();
    let command = VisitorCommand::Tag {
        tag: VisitorTag {
            email: request.email,
            first_name: request.first_name,
            last_name: request.last_name,
            labels: request.labels,
            assigned_user: request.assigned_user,
            external_user_id: request.external_user_id,
        },
        at: Utc::now(),
    };
    let ctx = context(site.id.0, Actor::Visitor(visitor));
    let executed = widget.visitors.execute(visitor, command, &ctx).await?;
    let assigned = match assigned_user {
        Some(email) => super::chat::assign_to(&widget, &caller, conversation_of(visitor), &email).await?,
        None => false,
    };
    if let Some(append) = executed.append {
        widget
            .projections
            .wait_for("inbox", append.last_position, READ_YOUR_WRITES)
            .await
            .map_err(WidgetError::internal)?;
    }
    Ok(Json(Tagged {
        ok: true,
        verified,
        assigned,
    }))
}

/// Logout: the visitor identity is retired, the session ends, and a new
/// anonymous visitor starts a new session in the same tab.
pub(crate) async fn reset(
    State(widget): State<Widget>,
    headers: HeaderMap,
    client: Client,
    JsonBody(request): JsonBody<super::activity::TokenOnly>,
) -> WidgetResult<Json<SessionInfo>> {
    let caller = widget.caller(token(&headers, request.token_ref())).await?;
    let visitor = caller.claims.visitor_id;
    let ctx = context(caller.site.id.0, Actor::Visitor(visitor));
    match widget
        .visitors
        .execute(visitor, VisitorCommand::Reset { at: Utc::now() }, &ctx)
        .await
    {
        Ok(_) | Err(CommandError::Rejected(VisitorError::WasReset)) => {}
        Err(error) => return Err(error.into()),
    }
    let path = match widget.sessions.load(caller.claims.session_id).await? {
        livedesk_domain::session::SessionState::Live(s) => s.current_path.clone(),
        _ => "/".to_owned(),
    };
    widget.end(&caller, caller.claims.session_id, EndReason::Reset).await?;
    let fresh = widget.visitor_for(&caller.site, None).await?;
    let info = widget
        .start_session(&caller.site, fresh, &caller.claims.tab_id, &path, None, &client)
        .await?;
    Ok(Json(info))
}
