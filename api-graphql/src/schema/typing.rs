//! Typing presence: `setTyping` (an agent writing a reply) and the
//! `typing` subscription (the visitor, or other agents, typing in one
//! conversation). Carried by [`livedesk_eventstore::TypingRelay`]
//! (`NOTIFY livedesk_typing`), never written to the log or a read model.

use async_graphql::{Context, Enum, ID, Object, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use futures::stream::{self, Stream, StreamExt};
use livedesk_eventstore::{TypingNotice, Typist};
use tokio::sync::broadcast::error::RecvError;

use super::types::parse_id;
use super::{api, principal};
use crate::auth::Permission;
use crate::error::{ApiError, ApiResult};
use crate::reads;

/// Who is typing.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypingParty {
    /// The conversation's visitor, in the widget.
    Visitor,
    /// An agent, writing a reply (never a note).
    Agent,
}

/// Someone started or stopped typing. A `typing: true` lapses by itself
/// after 6 s without a repeat (a stop can be lost).
#[derive(Debug, SimpleObject)]
pub struct TypingPush {
    /// The conversation.
    pub conversation_id: ID,
    /// The visitor or an agent.
    pub who: TypingParty,
    /// The agent, when `who` is `AGENT`.
    pub agent_id: Option<ID>,
    /// The agent's display name, when `who` is `AGENT`.
    pub agent_name: Option<String>,
    /// Started (`true`) or stopped typing.
    pub typing: bool,
    /// When the server took the signal.
    pub at: DateTime<Utc>,
}

impl From<&TypingNotice> for TypingPush {
    fn from(notice: &TypingNotice) -> Self {
        let (who, agent_id, agent_name) = match &notice.who {
            Typist::Visitor => (TypingParty::Visitor, None, None),
            Typist::Agent { id, name } => (TypingParty::Agent, Some(ID(id.to_string())), Some(name.clone())),
        };
        Self {
            conversation_id: ID(notice.conversation_id.to_string()),
            who,
            agent_id,
            agent_name,
            typing: notice.typing,
            at: notice.at,
        }
    }
}

/// `setTyping`.
#[derive(Debug, Default)]
pub struct TypingMutation;

#[Object]
impl TypingMutation {
    /// The caller's agent started (`true`) or stopped typing a reply to the
    /// visitor, who sees "{name} is typing…". Never call it for an internal
    /// note. Repeat `true` every ~2 s while typing: it lapses after 6 s
    /// without a repeat. Agents who may handle conversations on the
    /// conversation's site only; nothing is written to the log.
    async fn set_typing(&self, ctx: &Context<'_>, conversation_id: ID, typing: bool) -> ApiResult<bool> {
        let id = parse_id("conversationId", &conversation_id)?;
        let principal = principal(ctx)?;
        let api = api(ctx);
        let row = reads::conversation(&api.pool, id)
            .await?
            .ok_or_else(|| ApiError::NotFound("no such conversation".into()))?;
        principal.require_on(row.site_id, Permission::HandleConversations)?;
        let agent = principal.agent_ref()?;
        let notice = TypingNotice {
            site_id: row.site_id,
            conversation_id: id,
            who: Typist::Agent {
                id: agent.id.0,
                name: agent.display_name,
            },
            typing,
            at: Utc::now(),
        };
        api.typing.publish(&notice).await?;
        Ok(true)
    }
}

/// `typing`.
#[derive(Debug, Default)]
pub struct TypingSubscription;

type Pushes = std::pin::Pin<Box<dyn Stream<Item = TypingPush> + Send>>;

#[Subscription]
impl TypingSubscription {
    /// Typing in one conversation, the visitor's and agents' (agents'
    /// include the caller's own: compare `agentId`). Authorised like
    /// `conversationEvents`. No snapshot: pushes start with the next
    /// signal.
    async fn typing(&self, ctx: &Context<'_>, conversation_id: ID) -> async_graphql::Result<Pushes> {
        let result: ApiResult<_> = async {
            let id = parse_id("conversationId", &conversation_id)?;
            let principal = principal(ctx)?;
            let api = api(ctx);
            let rx = api.typing.subscribe();
            let row = reads::conversation(&api.pool, id)
                .await?
                .ok_or_else(|| ApiError::NotFound("no such conversation".into()))?;
            principal.require_on(row.site_id, Permission::Read)?;
            let site = row.site_id;
            let pushes = stream::unfold(rx, move |mut rx| async move {
                loop {
                    match rx.recv().await {
                        Ok(notice) if notice.conversation_id == id && notice.site_id == site => {
                            return Some((TypingPush::from(notice.as_ref()), rx));
                        }
                        // Another conversation, or missed notices (they
                        // lapse on the client).
                        Ok(_) | Err(RecvError::Lagged(_)) => {}
                        Err(RecvError::Closed) => return None,
                    }
                }
            });
            Ok(pushes.boxed())
        }
        .await;
        Ok(result?)
    }
}
