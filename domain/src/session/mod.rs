//! A browsing session: one tab (or several, with "keep session") on a
//! customer's site, one row of the Live View. Stream `session-{id}`.
//!
//! Rules kept here:
//!
//! - A session cannot outlive the site's maximum duration (1 hour by
//!   default): its expiry is fixed at start; any command at or after it is
//!   rejected, and `End` then records [`EndReason::MaxDurationReached`] at
//!   the expiry time (see [`SessionError::MaxDurationReached`]).
//! - Commands on an ended session are rejected.
//! - An agent connects by code only after the visitor shared it, and only
//!   with the right code; co-browsing needs a connected agent, one at a
//!   time.
//! - A connection request is answered once, before it lapses; Livedesk
//!   records the lapse only after it.

mod code;
mod command;
mod connect;
mod decide;
mod error;
mod event;
mod state;

pub use code::{SESSION_CODE_LEN, SessionCode, SessionCodeError};
pub use command::SessionCommand;
pub use error::SessionError;
pub use event::{
    AgentConnectedByCode, ClientInfo, CoBrowsingEnded, CoBrowsingStarted, ConnectionAccepted, ConnectionDeclined,
    ConnectionExpired, ConnectionRequested, DeviceClass, EndReason, PageViewed, SessionBecameActive, SessionBecameIdle,
    SessionCodeShared, SessionEnded, SessionEvent, SessionStarted, SessionTabJoined,
};
pub use state::{ConnectionRequest, EndedSession, LiveSession, SessionState};

use crate::aggregate::Aggregate;

/// The session aggregate. See the [module docs](self) for its rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct Session;

impl Aggregate for Session {
    const CATEGORY: &'static str = "session";
    type State = SessionState;
    type Command = SessionCommand;
    type Event = SessionEvent;
    type Error = SessionError;

    /// # Errors
    ///
    /// [`SessionError`] naming the broken rule.
    fn decide(state: &SessionState, command: SessionCommand) -> Result<Vec<SessionEvent>, SessionError> {
        decide::decide(state, command)
    }

    fn evolve(state: SessionState, event: &SessionEvent) -> SessionState {
        state::evolve(state, event)
    }
}
