//! Why a session command was rejected.

use chrono::{DateTime, Utc};

use super::event::EndReason;
use crate::ids::{AgentId, RequestId};
use crate::limits::InputError;
use crate::people::AgentRef;

/// The rule a session command breaks. A rejected command appends nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    /// The session does not exist yet.
    #[error("the session has not started")]
    NotStarted,
    /// `Start` on a session that exists.
    #[error("the session has already started")]
    AlreadyStarted,
    /// The session is over; start a new one.
    #[error("the session has ended ({reason:?})")]
    Ended {
        /// Why it ended.
        reason: EndReason,
    },
    /// The command comes at or after the session's maximum duration; the
    /// caller starts a new session (and `End` records this one's end).
    #[error("the session reached its maximum duration at {expires_at}")]
    MaxDurationReached {
        /// When it expired.
        expires_at: DateTime<Utc>,
    },
    /// Ending for maximum duration before the session expires.
    #[error("the session does not reach its maximum duration until {expires_at}")]
    MaxDurationNotReached {
        /// When it expires.
        expires_at: DateTime<Utc>,
    },
    /// Input breaks a size or content rule.
    #[error(transparent)]
    Invalid(#[from] InputError),
    /// Connect by code before the visitor shared the code.
    #[error("the visitor has not shared the session code")]
    CodeNotShared,
    /// The typed code is not this session's.
    #[error("the session code does not match")]
    WrongCode,
    /// A connection request id used twice.
    #[error("connection request {0} already exists")]
    DuplicateConnectionRequest(RequestId),
    /// No such connection request in this session.
    #[error("no connection request {0} in this session")]
    UnknownConnectionRequest(RequestId),
    /// The request was already accepted, declined or expired.
    #[error("connection request {0} was already answered or expired")]
    ConnectionRequestClosed(RequestId),
    /// Answering after the request lapsed.
    #[error("connection request {0} has expired")]
    ConnectionRequestExpired(RequestId),
    /// Expiring a request before its time.
    #[error("connection request {request_id} does not expire until {expires_at}")]
    ConnectionRequestNotYetExpired {
        /// The request.
        request_id: RequestId,
        /// When it lapses.
        expires_at: DateTime<Utc>,
    },
    /// Co-browsing needs the agent connected (by code or accepted request).
    #[error("agent {0} is not connected to this session")]
    AgentNotConnected(AgentId),
    /// Someone else is co-browsing.
    #[error("{with} is already co-browsing this session")]
    CoBrowsingInProgress {
        /// The agent co-browsing.
        with: AgentRef,
    },
}
