//! A conversation folded from its events.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};

use super::event::ConversationEvent;
use super::types::{
    Assignee, ConversationStatus, Provider, SlaClock, SlaOutcome, SlaTarget, SpecialRequestAnswer, SpecialRequestKind,
};
use crate::ids::{ConversationId, RequestId, SessionId, SiteId, VisitorId};
use crate::people::AgentRef;

/// The lifecycle of a conversation. A conversation never closes: Done is an
/// inbox status, and a visitor message reopens it.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum ConversationState {
    /// No events yet.
    #[default]
    NotOpened,
    /// Opened; see [`OpenConversation`].
    Open(Box<OpenConversation>),
}

impl ConversationState {
    /// The open conversation, if opened.
    pub fn open(&self) -> Option<&OpenConversation> {
        match self {
            Self::NotOpened => None,
            Self::Open(conversation) => Some(conversation),
        }
    }
}

/// What decisions about an open conversation need to know.
///
/// Invariants (kept by `decide`, checked by property tests): at most one
/// assignee; at most one holder of a take-over; every client message id
/// posted at most once.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenConversation {
    /// This conversation.
    pub id: ConversationId,
    /// Its site.
    pub site_id: SiteId,
    /// Its visitor.
    pub visitor_id: VisitorId,
    /// The browsing session it started in.
    pub session_id: Option<SessionId>,
    /// Where it came from.
    pub provider: Provider,
    /// When it was opened.
    pub opened_at: DateTime<Utc>,
    /// Inbox status.
    pub status: ConversationStatus,
    /// The one assignee, if any.
    pub assignee: Option<Assignee>,
    /// The agent who has taken it over; while set, the AI is silent.
    pub taken_over_by: Option<AgentRef>,
    /// A human was asked for and nobody has taken over since.
    pub human_requested: bool,
    /// Messages posted (notes not counted).
    pub message_count: u64,
    /// Notes posted.
    pub note_count: u64,
    /// When the last message was posted.
    pub last_message_at: Option<DateTime<Utc>>,
    /// Client message ids already posted.
    pub client_message_ids: HashSet<String>,
    /// Special requests sent, with their answers once given.
    pub special_requests: BTreeMap<RequestId, (SpecialRequestKind, Option<SpecialRequestAnswer>)>,
    /// SLA clocks by target.
    pub sla: BTreeMap<SlaTarget, SlaClock>,
}

/// Folds one event into the state. Events that do not fit the state (which
/// `decide` never produces) leave it unchanged.
pub(super) fn evolve(state: ConversationState, event: &ConversationEvent) -> ConversationState {
    match (state, event) {
        (ConversationState::NotOpened, ConversationEvent::Opened(e)) => {
            ConversationState::Open(Box::new(OpenConversation {
                id: e.conversation_id,
                site_id: e.site_id,
                visitor_id: e.visitor_id,
                session_id: e.session_id,
                provider: e.provider,
                opened_at: e.at,
                status: ConversationStatus::Unread,
                assignee: None,
                taken_over_by: None,
                human_requested: false,
                message_count: 0,
                note_count: 0,
                last_message_at: None,
                client_message_ids: HashSet::new(),
                special_requests: BTreeMap::new(),
                sla: BTreeMap::new(),
            }))
        }
        (ConversationState::Open(mut c), event) => {
            c.apply(event);
            ConversationState::Open(c)
        }
        (state, _) => state,
    }
}

impl OpenConversation {
    fn apply(&mut self, event: &ConversationEvent) {
        match event {
            ConversationEvent::Opened(_) => {}
            ConversationEvent::MessagePosted(e) => {
                self.message_count += 1;
                self.last_message_at = Some(e.at);
                if let Some(id) = &e.client_message_id {
                    self.client_message_ids.insert(id.clone());
                }
            }
            ConversationEvent::NotePosted(_) => self.note_count += 1,
            ConversationEvent::StatusChanged(e) => self.status = e.to,
            ConversationEvent::Assigned(e) => self.assignee = Some(e.assignee.clone()),
            ConversationEvent::Unassigned(_) => self.assignee = None,
            ConversationEvent::TakenOver(e) => {
                self.taken_over_by = Some(e.agent.clone());
                self.human_requested = false;
            }
            ConversationEvent::Released(_) => self.taken_over_by = None,
            ConversationEvent::HumanRequested(_) => self.human_requested = true,
            ConversationEvent::SpecialRequestSent(e) => {
                self.special_requests.insert(e.request_id, (e.kind, None));
            }
            ConversationEvent::SpecialRequestAnswered(e) => {
                if let Some(request) = self.special_requests.get_mut(&e.request_id) {
                    request.1 = Some(e.answer);
                }
            }
            ConversationEvent::SlaApplied(e) => {
                for due in &e.targets {
                    let clock = SlaClock {
                        policy_id: e.policy_id,
                        due_at: due.due_at,
                        outcome: SlaOutcome::Pending,
                    };
                    self.sla.insert(due.target, clock);
                }
            }
            ConversationEvent::SlaFulfilled(e) => self.settle(e.target, SlaOutcome::Fulfilled),
            ConversationEvent::SlaBreached(e) => self.settle(e.target, SlaOutcome::Breached),
            ConversationEvent::Watched(_) | ConversationEvent::TranscriptExported(_) => {}
        }
    }

    fn settle(&mut self, target: SlaTarget, outcome: SlaOutcome) {
        if let Some(clock) = self.sla.get_mut(&target) {
            clock.outcome = outcome;
        }
    }

    /// Whether an AI assistant may post now: only while nobody has taken the
    /// conversation over.
    pub fn ai_may_reply(&self) -> bool {
        self.taken_over_by.is_none()
    }
}
