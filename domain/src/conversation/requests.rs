//! Asking for a human, special requests, SLA clocks, and the audit-only
//! records (silent watching, transcript exports).

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use super::decide::{Decision, MAX_BOT_NAME_CHARS};
use super::error::ConversationError;
use super::event::{
    ConversationEvent, ConversationWatched, HumanRequested, SlaApplied, SlaBreached, SlaFulfilled,
    SpecialRequestAnswered, SpecialRequestSent, TranscriptExported,
};
use super::state::OpenConversation;
use super::types::{HumanRequester, SlaDue, SlaOutcome, SlaTarget, SpecialRequestAnswer, SpecialRequestKind};
use crate::ids::{RequestId, SlaPolicyId};
use crate::limits::{self, InputError};
use crate::people::AgentRef;

pub(super) fn watch(agent: AgentRef, at: DateTime<Utc>) -> Vec<ConversationEvent> {
    vec![ConversationEvent::Watched(ConversationWatched { agent, at })]
}

pub(super) fn export_transcript(by: AgentRef, at: DateTime<Utc>) -> Vec<ConversationEvent> {
    vec![ConversationEvent::TranscriptExported(TranscriptExported { by, at })]
}

/// Nothing new when a human holds the conversation or was already asked for.
pub(super) fn request_human(c: &OpenConversation, by: HumanRequester, at: DateTime<Utc>) -> Decision {
    if let HumanRequester::Bot { name } = &by {
        limits::required("bot name", name, MAX_BOT_NAME_CHARS)?;
    }
    if c.taken_over_by.is_some() || c.human_requested {
        return Ok(Vec::new());
    }
    Ok(vec![ConversationEvent::HumanRequested(HumanRequested { by, at })])
}

pub(super) fn send_special(
    c: &OpenConversation,
    request_id: RequestId,
    kind: SpecialRequestKind,
    by: AgentRef,
    at: DateTime<Utc>,
) -> Decision {
    if c.special_requests.contains_key(&request_id) {
        return Err(ConversationError::DuplicateSpecialRequest(request_id));
    }
    Ok(vec![ConversationEvent::SpecialRequestSent(SpecialRequestSent {
        request_id,
        kind,
        by,
        at,
    })])
}

/// The same answer again is nothing new; a different one is rejected.
pub(super) fn answer_special(
    c: &OpenConversation,
    request_id: RequestId,
    answer: SpecialRequestAnswer,
    at: DateTime<Utc>,
) -> Decision {
    match c.special_requests.get(&request_id) {
        None => Err(ConversationError::UnknownSpecialRequest(request_id)),
        Some((_, Some(given))) if *given == answer => Ok(Vec::new()),
        Some((_, Some(_))) => Err(ConversationError::SpecialRequestAlreadyAnswered(request_id)),
        Some((kind, None)) => Ok(vec![ConversationEvent::SpecialRequestAnswered(
            SpecialRequestAnswered {
                request_id,
                kind: *kind,
                answer,
                at,
            },
        )]),
    }
}

pub(super) fn apply_sla(policy_id: SlaPolicyId, targets: Vec<SlaDue>, at: DateTime<Utc>) -> Decision {
    if targets.is_empty() {
        return Err(InputError::Empty { field: "SLA targets" }.into());
    }
    let mut seen = BTreeSet::new();
    if let Some(twice) = targets.iter().find(|due| !seen.insert(due.target)) {
        return Err(ConversationError::DuplicateSlaTarget(twice.target));
    }
    Ok(vec![ConversationEvent::SlaApplied(SlaApplied {
        policy_id,
        targets,
        at,
    })])
}

pub(super) fn fulfil_sla(c: &OpenConversation, target: SlaTarget, at: DateTime<Utc>) -> Decision {
    let clock = pending_clock(c, target)?;
    let policy_id = clock.policy_id;
    Ok(vec![ConversationEvent::SlaFulfilled(SlaFulfilled {
        policy_id,
        target,
        at,
    })])
}

/// A breach is recorded at or after the due time (a late timer records it
/// with its true due time in `due_at`).
pub(super) fn breach_sla(c: &OpenConversation, target: SlaTarget, at: DateTime<Utc>) -> Decision {
    let clock = pending_clock(c, target)?;
    if at < clock.due_at {
        return Err(ConversationError::SlaNotYetDue {
            target,
            due_at: clock.due_at,
        });
    }
    let (policy_id, due_at) = (clock.policy_id, clock.due_at);
    Ok(vec![ConversationEvent::SlaBreached(SlaBreached {
        policy_id,
        target,
        due_at,
        at,
    })])
}

fn pending_clock(c: &OpenConversation, target: SlaTarget) -> Result<&super::types::SlaClock, ConversationError> {
    c.sla
        .get(&target)
        .filter(|clock| clock.outcome == SlaOutcome::Pending)
        .ok_or(ConversationError::NoPendingSla(target))
}
