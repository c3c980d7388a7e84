//! The chat: sending messages, asking for a human, and the history.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use livedesk_domain::conversation::{
    Assignee, AssignmentReason, ConversationCommand, ConversationError, ConversationEvent, ConversationState,
    HumanRequester, Provider,
};
use livedesk_domain::visitor::VisitorState;
use livedesk_domain::{Actor, AgentId, AgentRef, ConversationId, MessageId, SessionId, VisitorId};
use livedesk_eventstore::CommandError;
use livedesk_projections::read::{self, Keyset};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::token;
use crate::Widget;
use crate::body::JsonBody;
use crate::error::{WidgetError, WidgetResult};
use crate::session::{Caller, Client, Renewal, context, conversation_of};
use crate::view::{HandledBy, MessageView};

/// Messages per conversation in the history.
const HISTORY_MESSAGES: i64 = 200;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct SendRequest {
    body: String,
    #[serde(default)]
    client_message_id: Option<String>,
    #[serde(default)]
    conversation_id: Option<Uuid>,
    #[serde(default)]
    token: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Sent {
    conversation_id: Uuid,
    /// The message; `null` when `clientMessageId` repeated an earlier one.
    message: Option<MessageView>,
    handled_by: HandledBy,
    #[serde(flatten)]
    renewal: Renewal,
}

/// The caller's conversation: theirs by default; naming another visitor's
/// is refused.
pub(crate) async fn own_conversation(widget: &Widget, caller: &Caller, wanted: Option<Uuid>) -> WidgetResult<Uuid> {
    let own = conversation_of(caller.claims.visitor_id);
    match wanted {
        None => Ok(own),
        Some(id) if id == own => Ok(own),
        Some(id) => match widget.conversations.load(id).await? {
            ConversationState::Open(c) if c.visitor_id.0 == caller.claims.visitor_id => Ok(id),
            ConversationState::Open(_) => Err(WidgetError::ConversationForbidden),
            ConversationState::NotOpened => Err(WidgetError::NotFound("no such conversation".into())),
        },
    }
}

/// Opens the visitor's conversation if it is not open, and assigns it to
/// the agent the visitor was tagged with (`assignedUser`).
async fn open(widget: &Widget, caller: &Caller, session: Uuid, conversation: Uuid) -> WidgetResult<()> {
    let visitor = caller.claims.visitor_id;
    let ctx = context(caller.site.id.0, Actor::Visitor(visitor));
    let command = ConversationCommand::open(
        ConversationId(conversation),
        caller.site.id,
        VisitorId(visitor),
        Some(SessionId(session)),
        Provider::WebChat,
        Utc::now(),
    );
    match widget.conversations.execute(conversation, command, &ctx).await {
        Ok(_) | Err(CommandError::Rejected(ConversationError::AlreadyOpened)) => {}
        Err(error) => return Err(error.into()),
    }
    if let VisitorState::Known(profile) = widget.visitors.load(visitor).await?
        && let Some(email) = &profile.tag.assigned_user
    {
        assign_to(widget, caller, conversation, email).await?;
    }
    Ok(())
}

/// Assigns `conversation` to the agent of the site with `email`; `false`
/// when there is none (or someone else already has it).
pub(crate) async fn assign_to(widget: &Widget, caller: &Caller, conversation: Uuid, email: &str) -> WidgetResult<bool> {
    let agents = read::agents_of_site(&widget.pool, caller.site.id.0).await?;
    let Some(agent) = agents
        .into_iter()
        .find(|a| a.activated && a.email.eq_ignore_ascii_case(email))
    else {
        return Ok(false);
    };
    let command = ConversationCommand::AssignAutomatically {
        assignee: Assignee::Agent {
            agent: AgentRef::new(AgentId(agent.agent_id), agent.display_name),
        },
        reason: AssignmentReason::VisitorTag,
        at: Utc::now(),
    };
    let ctx = context(caller.site.id.0, Actor::Visitor(caller.claims.visitor_id));
    match widget.conversations.execute(conversation, command, &ctx).await {
        Ok(_) => Ok(true),
        Err(CommandError::Rejected(ConversationError::NotOpened | ConversationError::AlreadyAssigned { .. })) => {
            Ok(false)
        }
        Err(error) => Err(error.into()),
    }
}

pub(crate) async fn send(
    State(widget): State<Widget>,
    headers: HeaderMap,
    client: Client,
    JsonBody(request): JsonBody<SendRequest>,
) -> WidgetResult<Json<Sent>> {
    let caller = widget.caller(token(&headers, request.token.as_deref())).await?;
    let conversation = own_conversation(&widget, &caller, request.conversation_id).await?;
    let max = caller.site.settings.max_message_chars;
    if request.body.trim().is_empty() {
        return Err(WidgetError::InvalidInput("the message is empty".into()));
    }
    if request.body.chars().count() > max as usize {
        return Err(WidgetError::InvalidInput(format!(
            "the message is longer than {max} characters"
        )));
    }
    if request
        .client_message_id
        .as_deref()
        .is_some_and(|id| id.is_empty() || id.chars().count() > 256)
    {
        return Err(WidgetError::InvalidInput(
            "clientMessageId must be 1 to 256 characters".into(),
        ));
    }
    let (session, renewal) = widget.activity(&caller, &client, None, None).await?;
    let visitor = caller.claims.visitor_id;
    let post = ConversationCommand::post_visitor_message(
        MessageId(Uuid::now_v7()),
        VisitorId(visitor),
        request.body.clone(),
        Utc::now(),
    )
    .with_max_body_chars(max);
    let post = match request.client_message_id {
        Some(id) => post.with_client_message_id(id),
        None => post,
    };
    let ctx = context(caller.site.id.0, Actor::Visitor(visitor));
    let executed = match widget.conversations.execute(conversation, post.clone(), &ctx).await {
        Err(CommandError::Rejected(ConversationError::NotOpened)) => {
            open(&widget, &caller, session, conversation).await?;
            widget.conversations.execute(conversation, post, &ctx).await?
        }
        other => other?,
    };
    let message = executed.events.iter().find_map(|e| match e {
        ConversationEvent::MessagePosted(m) => Some(widget.labels.posted(conversation, m)),
        _ => None,
    });
    // The state the post just produced (cached by it): no second read.
    let state = match widget.conversations.cached(conversation) {
        Some(state) => state,
        None => widget.conversations.load(conversation).await?,
    };
    let holder = match state {
        ConversationState::Open(c) => c.taken_over_by,
        ConversationState::NotOpened => None,
    };
    if message.is_some()
        && let Some(assistant) = &widget.assistant
    {
        assistant.spawn(widget.clone(), caller.site.clone(), conversation, request.body);
    }
    Ok(Json(Sent {
        conversation_id: conversation,
        message,
        handled_by: widget.labels.handled_by(holder.as_ref()),
        renewal,
    }))
}

/// "Talk to a person": marks the conversation for an agent.
pub(crate) async fn request_human(
    State(widget): State<Widget>,
    headers: HeaderMap,
    client: Client,
    JsonBody(request): JsonBody<super::activity::TokenOnly>,
) -> WidgetResult<Json<serde_json::Value>> {
    let caller = widget.caller(token(&headers, request.token_ref())).await?;
    let (session, renewal) = widget.activity(&caller, &client, None, None).await?;
    let conversation = conversation_of(caller.claims.visitor_id);
    open(&widget, &caller, session, conversation).await?;
    let command = ConversationCommand::RequestHuman {
        by: HumanRequester::Visitor,
        at: Utc::now(),
    };
    let ctx = context(caller.site.id.0, Actor::Visitor(caller.claims.visitor_id));
    widget.conversations.execute(conversation, command, &ctx).await?;
    Ok(Json(
        serde_json::json!({ "ok": true, "conversationId": conversation, "renewed": renewal.renewed }),
    ))
}

#[derive(Debug, Deserialize)]
pub(crate) struct HistoryQuery {
    #[serde(default)]
    token: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PastConversation {
    conversation_id: Uuid,
    /// The caller's current conversation (others are read-only history of
    /// the same logged-in person).
    current: bool,
    opened_at: DateTime<Utc>,
    handled_by: HandledBy,
    messages: Vec<MessageView>,
}

/// The visitor's conversation and, for a logged-in visitor (tagged with
/// an external user id), the conversations of their other identities on
/// this site: oldest first, never notes.
pub(crate) async fn history(
    State(widget): State<Widget>,
    headers: HeaderMap,
    Query(query): Query<HistoryQuery>,
) -> WidgetResult<Json<serde_json::Value>> {
    let caller = widget.caller(token(&headers, query.token.as_deref())).await?;
    let visitor = caller.claims.visitor_id;
    let mut visitors = vec![visitor];
    if let VisitorState::Known(profile) = widget.visitors.load(visitor).await?
        && let Some(external) = &profile.tag.external_user_id
    {
        let same_person = read::visitors_by_external_id(&widget.pool, caller.site.id.0, external).await?;
        visitors.extend(
            same_person
                .into_iter()
                .map(|v| v.visitor_id)
                .filter(|id| *id != visitor),
        );
    }
    let mut conversations = Vec::new();
    for id in visitors {
        let Some(row) = read::conversation(&widget.pool, conversation_of(id)).await? else {
            continue;
        };
        if row.site_id != caller.site.id.0 {
            continue;
        }
        let page = Keyset {
            limit: HISTORY_MESSAGES,
            after_at: None,
            after_id: None,
        };
        let messages = read::messages(&widget.pool, row.conversation_id, false, &page).await?;
        let holder = row
            .taken_over_by_id
            .zip(row.taken_over_by_name.clone())
            .map(|(id, name)| AgentRef::new(AgentId(id), name));
        conversations.push(PastConversation {
            conversation_id: row.conversation_id,
            current: id == visitor,
            opened_at: row.created_at,
            handled_by: widget.labels.handled_by(holder.as_ref()),
            messages: messages.into_iter().map(|m| widget.labels.row(m)).collect(),
        });
    }
    conversations.sort_by_key(|c| c.opened_at);
    Ok(Json(serde_json::json!({ "conversations": conversations })))
}
