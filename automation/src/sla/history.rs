//! A conversation's stream read for the SLA engine: which clocks were
//! applied when, and which events settle them. Pure: no IO.
//!
//! Every decision of the engine about a clock comes from here, whoever
//! makes it (the reaction to a reply, or the breach timer), so both reach
//! the same outcome with the same command id:
//!
//! - a clock is settled by the first *settling event* after the
//!   `SlaApplied` that set it: a human (agent) reply settles the first- and
//!   next-response clocks; Done settles every clock;
//! - settled in time (at or before the due time) it is fulfilled at that
//!   event's time, late it is breached at its due time;
//! - with no settling event it is breached at its due time once the clock
//!   passes it.

use chrono::{DateTime, Utc};
use livedesk_domain::conversation::{
    Assignee, Author, Conversation, ConversationEvent, ConversationOpened, ConversationState, ConversationStatus,
    OpenConversation, SlaOutcome, SlaTarget,
};
use livedesk_domain::{Aggregate, DecodeError, RecordedEvent, SlaPolicyId};
use uuid::Uuid;

/// What an event means to SLA clocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mark {
    /// A message by a human agent (not a bot, not a note).
    HumanReply,
    /// A message by the visitor.
    VisitorMessage,
    /// The status became Done.
    Done,
    /// Anything else.
    Other,
}

/// One event of the stream, as far as clocks care.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    pub version: u64,
    pub event_id: Uuid,
    pub at: DateTime<Utc>,
    pub mark: Mark,
}

/// One clock an `SlaApplied` set.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Applied {
    pub version: u64,
    pub event_id: Uuid,
    pub target: SlaTarget,
    pub due_at: DateTime<Utc>,
}

/// How a clock ends, and the command that records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Met at `at`.
    Fulfilled { at: DateTime<Utc> },
    /// Missed: recorded at its due time.
    Breached { due_at: DateTime<Utc> },
}

/// The conversation stream folded for the engine.
#[derive(Debug, Clone)]
pub(crate) struct History {
    pub opened: ConversationOpened,
    /// The global position of the opening.
    pub opened_position: u64,
    /// The state now (after every event read).
    pub state: OpenConversation,
    pub entries: Vec<Entry>,
    pub applied: Vec<Applied>,
}

impl History {
    /// Folds a whole conversation stream, oldest first; `None` for a stream
    /// that does not start with an opening.
    ///
    /// # Errors
    ///
    /// An event that cannot be decoded.
    pub fn fold(events: &[RecordedEvent]) -> Result<Option<Self>, DecodeError> {
        let mut state = ConversationState::default();
        let mut opened = None;
        let mut opened_position = 0;
        let mut entries = Vec::with_capacity(events.len());
        let mut applied = Vec::new();
        for recorded in events {
            let event = recorded.decode::<ConversationEvent>()?;
            let mark = match &event {
                ConversationEvent::Opened(e) => {
                    opened = Some(e.clone());
                    opened_position = recorded.position;
                    Mark::Other
                }
                ConversationEvent::MessagePosted(m) => match m.author {
                    Author::Agent { .. } => Mark::HumanReply,
                    Author::Visitor { .. } => Mark::VisitorMessage,
                    Author::Bot { .. } | Author::System => Mark::Other,
                },
                ConversationEvent::StatusChanged(s) if s.to == ConversationStatus::Done => Mark::Done,
                ConversationEvent::SlaApplied(s) => {
                    applied.extend(s.targets.iter().map(|due| Applied {
                        version: recorded.stream_version,
                        event_id: recorded.event_id,
                        target: due.target,
                        due_at: due.due_at,
                    }));
                    Mark::Other
                }
                _ => Mark::Other,
            };
            entries.push(Entry {
                version: recorded.stream_version,
                event_id: recorded.event_id,
                at: event.at(),
                mark,
            });
            state = Conversation::evolve(state, &event);
        }
        let (Some(opened), ConversationState::Open(state)) = (opened, state) else {
            return Ok(None);
        };
        Ok(Some(Self {
            opened,
            opened_position,
            state: *state,
            entries,
            applied,
        }))
    }

    /// The entry of stream version `version`.
    pub fn entry(&self, version: u64) -> Option<&Entry> {
        self.entries.iter().find(|e| e.version == version)
    }

    /// The team the conversation is assigned to now, if a team.
    pub fn team(&self) -> Option<livedesk_domain::TeamId> {
        match &self.state.assignee {
            Some(Assignee::Team { team }) => Some(team.id),
            _ => None,
        }
    }

    /// The clock of `target` set last before stream version `before`.
    pub fn clock_before(&self, target: SlaTarget, before: u64) -> Option<&Applied> {
        self.applied
            .iter()
            .rev()
            .find(|a| a.target == target && a.version < before)
    }

    /// The clock of `target` set last.
    pub fn current_clock(&self, target: SlaTarget) -> Option<&Applied> {
        self.applied.iter().rev().find(|a| a.target == target)
    }

    /// Whether the current clock of `target` is still pending.
    pub fn pending(&self, target: SlaTarget) -> bool {
        self.state
            .sla
            .get(&target)
            .is_some_and(|clock| clock.outcome == SlaOutcome::Pending)
    }

    /// The policy of the clocks that start at opening (first response,
    /// resolution), if any was applied.
    pub fn opening_policies(&self) -> impl Iterator<Item = SlaPolicyId> + '_ {
        self.state
            .sla
            .iter()
            .filter(|(target, _)| **target != SlaTarget::NextResponse)
            .map(|(_, clock)| clock.policy_id)
    }

    /// Whether the clock of `target` has ended (fulfilled or breached).
    pub fn settled(&self, target: SlaTarget) -> bool {
        self.state
            .sla
            .get(&target)
            .is_some_and(|clock| clock.outcome != SlaOutcome::Pending)
    }

    /// The first event after `clock` was set that settles it.
    pub fn settling_event(&self, clock: &Applied) -> Option<&Entry> {
        self.entries
            .iter()
            .filter(|e| e.version > clock.version)
            .find(|e| settles(e.mark, clock.target))
    }

    /// How `clock` ends by `now`: settled by its settling event, or
    /// breached if none came and `now` has passed its due time, or `None`
    /// while it runs. The event id names the command.
    pub fn outcome(&self, clock: &Applied, now: DateTime<Utc>) -> Option<(Outcome, CommandKey)> {
        if let Some(entry) = self.settling_event(clock) {
            let outcome = if entry.at <= clock.due_at {
                Outcome::Fulfilled { at: entry.at }
            } else {
                Outcome::Breached { due_at: clock.due_at }
            };
            return Some((outcome, CommandKey::SettledBy(entry.event_id)));
        }
        (clock.due_at <= now).then_some((
            Outcome::Breached { due_at: clock.due_at },
            CommandKey::Timer(clock.event_id),
        ))
    }

    /// Whether the visitor message at `version` starts a next-response
    /// clock: a human has replied before it, and it is the first visitor
    /// message since the last human reply or Done (later messages wait for
    /// the same answer).
    pub fn starts_next_response(&self, version: u64) -> bool {
        let before: Vec<&Entry> = self.entries.iter().filter(|e| e.version < version).collect();
        if !before.iter().any(|e| e.mark == Mark::HumanReply) {
            return false;
        }
        for entry in before.iter().rev() {
            match entry.mark {
                Mark::VisitorMessage => return false,
                Mark::HumanReply | Mark::Done => return true,
                Mark::Other => {}
            }
        }
        false
    }
}

/// Which event a settling command is derived from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CommandKey {
    /// The settling event (reply or Done).
    SettledBy(Uuid),
    /// The timer, for the clock set by this `SlaApplied`.
    Timer(Uuid),
}

/// Whether an event marked `mark` settles a clock of `target`.
fn settles(mark: Mark, target: SlaTarget) -> bool {
    match mark {
        Mark::Done => true,
        Mark::HumanReply => target != SlaTarget::Resolution,
        Mark::VisitorMessage | Mark::Other => false,
    }
}
