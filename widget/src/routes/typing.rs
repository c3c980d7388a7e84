//! `POST /widget/v1/typing`: the visitor started or stopped typing. Relayed
//! to agents (GraphQL `typing`) through [`livedesk_eventstore::TypingRelay`],
//! never written to the log.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use chrono::Utc;
use livedesk_domain::conversation::ConversationState;
use livedesk_eventstore::{TypingNotice, Typist};
use serde::Deserialize;
use uuid::Uuid;

use super::chat::own_conversation;
use super::token;
use crate::Widget;
use crate::body::JsonBody;
use crate::error::{WidgetError, WidgetResult};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct TypingRequest {
    typing: bool,
    #[serde(default)]
    conversation_id: Option<Uuid>,
    #[serde(default)]
    token: Option<String>,
}

/// `{"ok": true}` once the notice is sent; `not_found` before the
/// visitor's conversation exists (its first message opens it).
pub(crate) async fn typing(
    State(widget): State<Widget>,
    headers: HeaderMap,
    JsonBody(request): JsonBody<TypingRequest>,
) -> WidgetResult<Json<serde_json::Value>> {
    let caller = widget.caller(token(&headers, request.token.as_deref())).await?;
    let conversation = own_conversation(&widget, &caller, request.conversation_id).await?;
    if !matches!(
        widget.conversations.load(conversation).await?,
        ConversationState::Open(_)
    ) {
        return Err(WidgetError::NotFound(
            "the conversation does not exist yet; its first message opens it".into(),
        ));
    }
    let notice = TypingNotice {
        site_id: caller.site.id.0,
        conversation_id: conversation,
        who: Typist::Visitor,
        typing: request.typing,
        at: Utc::now(),
    };
    widget.typing.publish(&notice).await.map_err(WidgetError::internal)?;
    Ok(Json(serde_json::json!({ "ok": true, "conversationId": conversation })))
}
