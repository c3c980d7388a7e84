//! Running domain commands for API callers: the command services of every
//! aggregate, metadata from the caller, and the read-your-writes wait.

use std::sync::Arc;
use std::time::Duration;

use livedesk_domain::agent::Agent;
use livedesk_domain::conversation::Conversation;
use livedesk_domain::session::Session;
use livedesk_domain::site::Site;
use livedesk_domain::visitor::Visitor;
use livedesk_domain::{Aggregate, Metadata};
use livedesk_eventstore::{CommandContext, CommandService, PgEventStore};
use livedesk_projections::ProjectionRuntime;
use uuid::Uuid;

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};

/// How long a mutation waits for its read model to show its change.
const READ_YOUR_WRITES: Duration = Duration::from_secs(5);
/// Aggregate states each command service keeps in memory.
const CACHE: usize = 10_000;

/// The read model a mutation's answer is read from.
#[derive(Debug, Clone, Copy)]
pub enum ReadModel {
    /// `conversations`, `messages`, `visitors`.
    Inbox,
    /// `live_sessions`.
    LiveView,
    /// `agents`.
    Agents,
    /// `text_blocks`.
    TextBlocks,
    /// `sites`, `teams`, `api_tokens`.
    Directory,
    /// `audit_log`.
    AuditLog,
}

impl ReadModel {
    fn projector(self) -> &'static str {
        match self {
            Self::Inbox => "inbox",
            Self::LiveView => "live_view",
            Self::Agents => "agents",
            Self::TextBlocks => "text_blocks",
            Self::Directory => livedesk_projections::models::directory::DIRECTORY,
            Self::AuditLog => "audit_log",
        }
    }
}

/// Command services of every aggregate over one store.
#[derive(Debug)]
pub struct Commands {
    pub(crate) conversations: CommandService<PgEventStore, Conversation>,
    pub(crate) sessions: CommandService<PgEventStore, Session>,
    pub(crate) agents: CommandService<PgEventStore, Agent>,
    pub(crate) sites: CommandService<PgEventStore, Site>,
    pub(crate) visitors: CommandService<PgEventStore, Visitor>,
    projections: Arc<ProjectionRuntime>,
}

impl Commands {
    /// Services over `store`; mutations wait on `projections`.
    pub fn new(store: PgEventStore, projections: Arc<ProjectionRuntime>) -> Self {
        Self {
            conversations: CommandService::new(store.clone(), CACHE),
            sessions: CommandService::new(store.clone(), CACHE),
            agents: CommandService::new(store.clone(), CACHE),
            sites: CommandService::new(store.clone(), CACHE),
            visitors: CommandService::new(store, CACHE),
            projections,
        }
    }

    /// Runs `command` on aggregate `id` for `principal` on `site_id`, then
    /// waits until `model` shows it. Returns the last appended position
    /// (`None` when the command changed nothing).
    ///
    /// # Errors
    ///
    /// The domain's rejection, mapped; a store failure as internal.
    pub async fn run<A>(
        &self,
        service: &CommandService<PgEventStore, A>,
        id: Uuid,
        command: A::Command,
        principal: &Principal,
        site_id: Uuid,
        model: ReadModel,
    ) -> ApiResult<Option<u64>>
    where
        A: Aggregate,
        A::Error: Into<ApiError>,
    {
        let context = CommandContext {
            metadata: Metadata {
                site_id: Some(site_id),
                actor: Some(principal.actor()),
                correlation_id: Some(Uuid::now_v7()),
                causation_id: None,
                command_id: None,
            },
        };
        let executed = service.execute(id, command, &context).await?;
        let position = executed.append.map(|a| a.last_position);
        if let Some(position) = position {
            self.settle(model, position).await?;
        }
        Ok(position)
    }

    /// Waits until `model` reflects every event up to `position`.
    ///
    /// # Errors
    ///
    /// Internal when the projector failed or did not get there in time.
    pub async fn settle(&self, model: ReadModel, position: u64) -> ApiResult<()> {
        self.projections
            .wait_for(model.projector(), position, READ_YOUR_WRITES)
            .await
            .map(|_| ())
            .map_err(|e| ApiError::internal(format!("read-your-writes wait on {}: {e}", model.projector())))
    }
}
