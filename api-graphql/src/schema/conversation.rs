//! Mutations on a conversation: messages, notes, status, assignment,
//! take-over, requests, exports. Each returns the conversation as the
//! inbox shows it after the change.

use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::Utc;
use livedesk_domain::conversation::{
    Assignee, Attachment as DomainAttachment, Author as DomainAuthor, ConversationCommand, ReleaseReason,
};
use livedesk_domain::limits::DEFAULT_MAX_MESSAGE_CHARS;
use livedesk_domain::{Initiator, MessageId, RequestId, TeamId, TeamRef};
use livedesk_projections::models::inbox::ConversationRow;
use uuid::Uuid;

use super::types::{AttachmentInput, Conversation, ConversationStatus, Message, SpecialRequestKind, parse_id};
use super::{api, principal};
use crate::auth::{Permission, Principal};
use crate::commands::ReadModel;
use crate::error::{ApiError, ApiResult};
use crate::reads;

/// Longest text of one message or note accepted before the site's own
/// limit is checked.
pub(crate) const MAX_INPUT_CHARS: usize = 100_000;

/// The conversation `id` and the caller, once the caller may `permission`
/// on its site.
async fn target<'a>(ctx: &Context<'a>, id: &ID, permission: Permission) -> ApiResult<(&'a Principal, ConversationRow)> {
    let id = parse_id("conversationId", id)?;
    let principal = principal(ctx)?;
    let row = reads::conversation(&api(ctx).pool, id)
        .await?
        .ok_or_else(|| ApiError::NotFound("no such conversation".into()))?;
    principal.require_on(row.site_id, permission)?;
    Ok((principal, row))
}

/// Runs `command` on the conversation and returns its inbox row after.
async fn run(
    ctx: &Context<'_>,
    principal: &Principal,
    row: &ConversationRow,
    command: ConversationCommand,
) -> ApiResult<Conversation> {
    let api = api(ctx);
    let id = row.conversation_id;
    api.commands
        .run(
            &api.commands.conversations,
            id,
            command,
            principal,
            row.site_id,
            ReadModel::Inbox,
        )
        .await?;
    reads::conversation(&api.pool, id)
        .await?
        .map(Conversation)
        .ok_or_else(|| ApiError::internal(format!("conversation {id} vanished from the inbox")))
}

/// Runs an audit-only command (it changes no inbox row) and waits for the
/// audit log to show it.
async fn record(
    ctx: &Context<'_>,
    principal: &Principal,
    row: &ConversationRow,
    command: ConversationCommand,
) -> ApiResult<()> {
    let api = api(ctx);
    api.commands
        .run(
            &api.commands.conversations,
            row.conversation_id,
            command,
            principal,
            row.site_id,
            ReadModel::AuditLog,
        )
        .await?;
    Ok(())
}

async fn max_body_chars(ctx: &Context<'_>, site: Uuid) -> ApiResult<u32> {
    Ok(reads::site(&api(ctx).pool, site)
        .await?
        .map_or(DEFAULT_MAX_MESSAGE_CHARS, |s| s.settings.max_message_chars))
}

fn too_long(argument: &str, text: &str) -> ApiResult<()> {
    if text.len() > MAX_INPUT_CHARS * 4 || text.chars().count() > MAX_INPUT_CHARS {
        return Err(ApiError::BadInput(format!(
            "{argument} is longer than {MAX_INPUT_CHARS} characters"
        )));
    }
    Ok(())
}

/// A message just sent, and its conversation after.
#[derive(Debug, SimpleObject)]
pub struct SentMessage {
    /// The message (the earlier one, when the client message id repeats).
    pub message: Option<Message>,
    /// The conversation after the change.
    pub conversation: Conversation,
}

/// Messages, notes, status, requests, exports.
#[derive(Debug, Default)]
pub struct ConversationMutation;

#[Object]
impl ConversationMutation {
    /// Posts a message the visitor sees. An agent's token posts as the
    /// agent; an integrator's token posts as the AI assistant (its token
    /// name), which is rejected with CONFLICT while a human has taken the
    /// conversation over. A repeated `clientMessageId` posts nothing.
    async fn send_message(
        &self,
        ctx: &Context<'_>,
        conversation_id: ID,
        body: String,
        #[graphql(default)] attachments: Vec<AttachmentInput>,
        client_message_id: Option<String>,
    ) -> ApiResult<SentMessage> {
        let (principal, row) = target(ctx, &conversation_id, Permission::Read).await?;
        too_long("body", &body)?;
        let author = if principal.require(Permission::PostAsBot).is_ok() {
            DomainAuthor::Bot {
                name: principal.token_name.clone(),
            }
        } else {
            DomainAuthor::Agent {
                agent: principal.staff(Permission::HandleConversations)?.agent,
            }
        };
        let message_id = Uuid::now_v7();
        let command = ConversationCommand::PostMessage {
            message_id: MessageId(message_id),
            author,
            body,
            attachments: attachments
                .into_iter()
                .map(|a| DomainAttachment {
                    kind: a.kind.into(),
                    reference: a.reference,
                })
                .collect(),
            client_message_id: client_message_id.clone(),
            max_body_chars: max_body_chars(ctx, row.site_id).await?,
            at: Utc::now(),
        };
        let conversation = run(ctx, principal, &row, command).await?;
        let pool = &api(ctx).pool;
        let message = match reads::message(pool, message_id).await? {
            Some(message) => Some(message),
            None => match &client_message_id {
                Some(client) => reads::message_by_client_id(pool, row.conversation_id, client).await?,
                None => None,
            },
        };
        Ok(SentMessage {
            message: message.map(Message),
            conversation,
        })
    }

    /// Posts an internal note for the team; the visitor never sees it.
    async fn add_note(&self, ctx: &Context<'_>, conversation_id: ID, body: String) -> ApiResult<Conversation> {
        let (principal, row) = target(ctx, &conversation_id, Permission::HandleConversations).await?;
        too_long("body", &body)?;
        let staff = principal.staff(Permission::HandleConversations)?;
        let command = ConversationCommand::post_note(MessageId(Uuid::now_v7()), staff.agent, body, Utc::now())
            .with_max_body_chars(max_body_chars(ctx, row.site_id).await?);
        run(ctx, principal, &row, command).await
    }

    /// Moves the conversation to Unread, Unresolved or Done.
    async fn set_conversation_status(
        &self,
        ctx: &Context<'_>,
        conversation_id: ID,
        status: ConversationStatus,
    ) -> ApiResult<Conversation> {
        let (principal, row) = target(ctx, &conversation_id, Permission::HandleConversations).await?;
        let command = ConversationCommand::ChangeStatus {
            status: status.into(),
            by: principal.staff(Permission::HandleConversations)?,
            at: Utc::now(),
        };
        run(ctx, principal, &row, command).await
    }

    /// Opens the conversation silently (the AI keeps answering, the visitor
    /// is not told). Recorded in the audit log.
    async fn watch_conversation(&self, ctx: &Context<'_>, conversation_id: ID) -> ApiResult<Conversation> {
        let (principal, row) = target(ctx, &conversation_id, Permission::HandleConversations).await?;
        let command = ConversationCommand::WatchSilently {
            agent: principal.staff(Permission::HandleConversations)?.agent,
            at: Utc::now(),
        };
        record(ctx, principal, &row, command).await?;
        Ok(Conversation(row))
    }

    /// Sends the visitor a co-browsing, call, screen or conference request.
    async fn send_special_request(
        &self,
        ctx: &Context<'_>,
        conversation_id: ID,
        kind: SpecialRequestKind,
    ) -> ApiResult<Conversation> {
        let (principal, row) = target(ctx, &conversation_id, Permission::HandleConversations).await?;
        let command = ConversationCommand::SendSpecialRequest {
            request_id: RequestId(Uuid::now_v7()),
            kind: kind.into(),
            by: principal.staff(Permission::HandleConversations)?.agent,
            at: Utc::now(),
        };
        run(ctx, principal, &row, command).await
    }

    /// The transcript as CSV (`at,author_type,author,internal,body,attachments`),
    /// notes included. The export is recorded in the audit log.
    async fn export_transcript(&self, ctx: &Context<'_>, conversation_id: ID) -> ApiResult<String> {
        let (principal, row) = target(ctx, &conversation_id, Permission::ExportTranscripts).await?;
        let api = api(ctx);
        let notes = crate::reports::transcript::record_export(api, principal, &row).await?;
        let messages = reads::all_messages(&api.pool, row.conversation_id, notes).await?;
        Ok(crate::csv::transcript(&messages))
    }
}

/// Who handles a conversation: assignment and take-over.
#[derive(Debug, Default)]
pub struct HandlingMutation;

#[Object]
impl HandlingMutation {
    /// "Assign to me": never takes a conversation from another agent; if
    /// someone was faster, CONFLICT names them (`extensions.holder`).
    async fn assign_to_me(&self, ctx: &Context<'_>, conversation_id: ID) -> ApiResult<Conversation> {
        let (principal, row) = target(ctx, &conversation_id, Permission::HandleConversations).await?;
        let command = ConversationCommand::AssignToMe {
            by: principal.staff(Permission::HandleConversations)?,
            at: Utc::now(),
        };
        run(ctx, principal, &row, command).await
    }

    /// Assigns or redirects to an agent or a team (exactly one). Taking a
    /// conversation from another agent needs `reassign: true` and a
    /// supervisor or admin.
    async fn assign_conversation(
        &self,
        ctx: &Context<'_>,
        conversation_id: ID,
        agent_id: Option<ID>,
        team_id: Option<ID>,
        #[graphql(default)] reassign: bool,
    ) -> ApiResult<Conversation> {
        let (principal, row) = target(ctx, &conversation_id, Permission::HandleConversations).await?;
        let by = principal.staff(Permission::HandleConversations)?;
        let pool = &api(ctx).pool;
        let assignee = match (agent_id, team_id) {
            (Some(agent), None) => {
                let id = parse_id("agentId", &agent)?;
                let agent = super::agent_on_site(ctx, id, row.site_id).await?;
                Assignee::Agent {
                    agent: livedesk_domain::AgentRef::new(livedesk_domain::AgentId(id), agent.display_name),
                }
            }
            (None, Some(team)) => {
                let id = parse_id("teamId", &team)?;
                let team = reads::team(pool, id)
                    .await?
                    .filter(|t| t.site_id == row.site_id)
                    .ok_or_else(|| ApiError::NotFound("no such team on this site".into()))?;
                Assignee::Team {
                    team: TeamRef {
                        id: TeamId(id),
                        name: team.name,
                    },
                }
            }
            _ => return Err(ApiError::BadInput("give exactly one of agentId and teamId".into())),
        };
        let command = ConversationCommand::Assign {
            assignee,
            by,
            reassign,
            at: Utc::now(),
        };
        run(ctx, principal, &row, command).await
    }

    /// Removes the assignee (one's own, a team's, or anyone's for
    /// supervisors).
    async fn unassign(&self, ctx: &Context<'_>, conversation_id: ID) -> ApiResult<Conversation> {
        let (principal, row) = target(ctx, &conversation_id, Permission::HandleConversations).await?;
        let command = ConversationCommand::Unassign {
            by: Initiator::Staff(principal.staff(Permission::HandleConversations)?),
            at: Utc::now(),
        };
        run(ctx, principal, &row, command).await
    }

    /// Takes the conversation over from the AI: once this returns, the AI's
    /// replies are rejected until `release`.
    async fn take_over(&self, ctx: &Context<'_>, conversation_id: ID) -> ApiResult<Conversation> {
        let (principal, row) = target(ctx, &conversation_id, Permission::HandleConversations).await?;
        let command = ConversationCommand::TakeOver {
            by: principal.staff(Permission::HandleConversations)?,
            at: Utc::now(),
        };
        run(ctx, principal, &row, command).await
    }

    /// Hands the conversation back to the AI (the holder, or a supervisor).
    async fn release(&self, ctx: &Context<'_>, conversation_id: ID) -> ApiResult<Conversation> {
        let (principal, row) = target(ctx, &conversation_id, Permission::HandleConversations).await?;
        let command = ConversationCommand::Release {
            by: Initiator::Staff(principal.staff(Permission::HandleConversations)?),
            reason: ReleaseReason::HandedBack,
            at: Utc::now(),
        };
        run(ctx, principal, &row, command).await
    }
}
