//! The one place API errors get their `extensions.code`.
//!
//! Resolvers return [`ApiError`]; domain rejections and store failures are
//! mapped here. Internal failures are logged with their cause and shown to
//! clients only as a generic message.

use async_graphql::ErrorExtensions;
use livedesk_domain::agent::AgentError;
use livedesk_domain::conversation::{Assignee, ConversationError};
use livedesk_domain::session::SessionError;
use livedesk_domain::site::SiteError;
use livedesk_domain::visitor::VisitorError;
use livedesk_eventstore::{CommandError, StoreError};

/// What went wrong, as clients see it.
///
/// It has no `Display` on purpose: async-graphql turns anything
/// displayable into an error without a code, so the only way into a
/// GraphQL error is the `From` impl below, which sets `extensions.code`.
#[derive(Debug, Clone)]
pub enum ApiError {
    /// No valid token: missing, unknown or revoked.
    Unauthenticated(String),
    /// The token may not do this, or not on this site.
    Forbidden(String),
    /// No such thing among what the token may see.
    NotFound(String),
    /// Someone else got there first; the message names them.
    Conflict {
        /// What conflicts, naming the winner.
        message: String,
        /// Who holds what was wanted (agent or team), if anyone.
        holder: Option<Holder>,
    },
    /// The input breaks a rule; nothing was changed.
    BadInput(String),
    /// Too many requests or subscriptions.
    RateLimited(String),
    /// A failure of ours. The cause is logged, never returned.
    Internal(String),
}

/// The agent or team a conflict names.
#[derive(Debug, Clone)]
pub struct Holder {
    /// `agent` or `team`.
    pub kind: &'static str,
    /// Its id.
    pub id: uuid::Uuid,
    /// Its name.
    pub name: String,
}

impl ApiError {
    /// What clients are told.
    pub fn message(&self) -> String {
        match self {
            Self::Unauthenticated(m)
            | Self::Forbidden(m)
            | Self::NotFound(m)
            | Self::Conflict { message: m, .. }
            | Self::BadInput(m)
            | Self::RateLimited(m) => m.clone(),
            Self::Internal(_) => "internal error".into(),
        }
    }

    /// The `extensions.code` of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated(_) => "UNAUTHENTICATED",
            Self::Forbidden(_) => "FORBIDDEN",
            Self::NotFound(_) => "NOT_FOUND",
            Self::Conflict { .. } => "CONFLICT",
            Self::BadInput(_) => "BAD_USER_INPUT",
            Self::RateLimited(_) => "RATE_LIMITED",
            Self::Internal(_) => "INTERNAL",
        }
    }

    /// An internal failure: `cause` is logged here and never shown.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        let cause = cause.to_string();
        tracing::error!(%cause, "internal error");
        Self::Internal(cause)
    }

    /// A conflict with no one to name.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Conflict {
            message: message.into(),
            holder: None,
        }
    }

    /// A conflict naming an assignee.
    fn conflict_with(message: String, assignee: &Assignee) -> Self {
        let holder = match assignee {
            Assignee::Agent { agent } => Holder {
                kind: "agent",
                id: agent.id.0,
                name: agent.display_name.clone(),
            },
            Assignee::Team { team } => Holder {
                kind: "team",
                id: team.id.0,
                name: team.name.clone(),
            },
        };
        Self::Conflict {
            message,
            holder: Some(holder),
        }
    }

    fn conflict_agent(message: String, agent: &livedesk_domain::AgentRef) -> Self {
        Self::conflict_with(message, &Assignee::Agent { agent: agent.clone() })
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(error: ApiError) -> Self {
        let code = error.code();
        let holder = match &error {
            ApiError::Conflict { holder, .. } => holder.clone(),
            _ => None,
        };
        async_graphql::Error::new(error.message()).extend_with(|_, e| {
            e.set("code", code);
            if let Some(holder) = &holder {
                let mut value = async_graphql::indexmap::IndexMap::new();
                value.insert(async_graphql::Name::new("kind"), holder.kind.into());
                value.insert(async_graphql::Name::new("id"), holder.id.to_string().into());
                value.insert(async_graphql::Name::new("name"), holder.name.clone().into());
                e.set("holder", async_graphql::Value::Object(value));
            }
        })
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        Self::internal(format!("database: {error}"))
    }
}

impl From<ConversationError> for ApiError {
    fn from(error: ConversationError) -> Self {
        let message = error.to_string();
        match &error {
            ConversationError::NotOpened => Self::NotFound("no such conversation".into()),
            ConversationError::Invalid(_) | ConversationError::UnknownSpecialRequest(_) => Self::BadInput(message),
            ConversationError::AlreadyAssigned { to } => Self::conflict_with(message, to),
            ConversationError::AlreadyTakenOver { by } => Self::conflict_agent(message, by),
            ConversationError::BotPausedByTakeOver { holder } | ConversationError::NotTheHolder { holder } => {
                Self::conflict_agent(message, holder)
            }
            ConversationError::RoleNotPermitted { .. } => Self::Forbidden(message),
            _ => Self::conflict(message),
        }
    }
}

impl From<SessionError> for ApiError {
    fn from(error: SessionError) -> Self {
        let message = error.to_string();
        match error {
            SessionError::NotStarted => Self::NotFound("no such session".into()),
            SessionError::Invalid(_) | SessionError::WrongCode | SessionError::CodeNotShared => Self::BadInput(message),
            _ => Self::conflict(message),
        }
    }
}

impl From<AgentError> for ApiError {
    fn from(error: AgentError) -> Self {
        let message = error.to_string();
        match error {
            AgentError::NotInvited => Self::NotFound("no such agent".into()),
            AgentError::Invalid(_) | AgentError::IntegratorRoleForPerson => Self::BadInput(message),
            AgentError::AlreadyInvited | AgentError::NotActivated => Self::conflict(message),
        }
    }
}

impl From<SiteError> for ApiError {
    fn from(error: SiteError) -> Self {
        let message = error.to_string();
        match error {
            SiteError::NotCreated => Self::NotFound("no such site".into()),
            SiteError::UnknownTextBlock(_) | SiteError::UnknownTeam(_) | SiteError::UnknownApiToken(_) => {
                Self::NotFound(message)
            }
            SiteError::AlreadyCreated
            | SiteError::DuplicateTextBlock(_)
            | SiteError::ShortcutTaken(_)
            | SiteError::DuplicateTeam(_)
            | SiteError::TeamNameTaken(_)
            | SiteError::DuplicateApiToken(_) => Self::conflict(message),
            SiteError::Invalid(_)
            | SiteError::InvalidOrigin(_)
            | SiteError::DuplicateFieldKey(_)
            | SiteError::DuplicateSlaPolicy(_)
            | SiteError::NoSlaTarget(_)
            | SiteError::DuplicateRoutingRule(_)
            | SiteError::InvalidPathPrefix(_)
            | SiteError::InvalidLanguage(_)
            | SiteError::UnknownTimeZone(_)
            | SiteError::OverlappingHours(_) => Self::BadInput(message),
        }
    }
}

impl From<VisitorError> for ApiError {
    fn from(error: VisitorError) -> Self {
        let message = error.to_string();
        match error {
            VisitorError::NotSeen => Self::NotFound("no such visitor".into()),
            VisitorError::WasReset => Self::conflict(message),
            VisitorError::AlreadySeen => Self::conflict(message),
            VisitorError::Invalid(_) | VisitorError::UnknownField(_) | VisitorError::WrongFieldType { .. } => {
                Self::BadInput(message)
            }
        }
    }
}

impl<E: Into<ApiError>> From<CommandError<E>> for ApiError {
    fn from(error: CommandError<E>) -> Self {
        match error {
            CommandError::Rejected(rejection) => rejection.into(),
            CommandError::Conflict(_) => Self::conflict("too many simultaneous changes to this item; try again"),
            CommandError::Store(store) => store.into(),
            CommandError::Decode {
                stream,
                version,
                reason,
            } => Self::internal(format!(
                "{stream} holds an unreadable event at version {version}: {reason}"
            )),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::EventTooLarge { .. } | StoreError::TooManyEvents { .. } | StoreError::InvalidEvent { .. } => {
                Self::BadInput(error.to_string())
            }
            other => Self::internal(other),
        }
    }
}

/// Results of resolvers.
pub type ApiResult<T> = Result<T, ApiError>;
