//! Who handles a conversation: assignment and take-over.
//!
//! Rules: at most one assignee; "assign to me" never takes a conversation
//! from another agent; only a supervisor's explicit reassignment does. At
//! most one holder of a take-over; a second agent's take-over is a conflict
//! naming the holder; only the holder, a supervisor or Livedesk releases.

use chrono::{DateTime, Utc};

use super::decide::{Decision, require_handler, require_supervisor};
use super::error::ConversationError;
use super::event::{
    ConversationAssigned, ConversationEvent, ConversationReleased, ConversationTakenOver, ConversationUnassigned,
};
use super::state::OpenConversation;
use super::types::{Assignee, AssignmentReason, ReleaseReason};
use crate::ids::AgentId;
use crate::people::{Initiator, Staff};

pub(super) fn assign_to_me(c: &OpenConversation, by: Staff, at: DateTime<Utc>) -> Decision {
    require_handler(&by, "assign conversations")?;
    match &c.assignee {
        Some(current) if current.is_agent(by.agent.id) => Ok(Vec::new()),
        Some(current @ Assignee::Agent { .. }) => Err(ConversationError::AlreadyAssigned { to: current.clone() }),
        _ => Ok(assigned(
            c,
            Assignee::Agent {
                agent: by.agent.clone(),
            },
            Some(by),
            AssignmentReason::Manual,
            at,
        )),
    }
}

pub(super) fn assign(
    c: &OpenConversation,
    assignee: Assignee,
    by: Staff,
    reassign: bool,
    at: DateTime<Utc>,
) -> Decision {
    require_handler(&by, "assign conversations")?;
    match &c.assignee {
        Some(current) if current.same_as(&assignee) => return Ok(Vec::new()),
        Some(current @ Assignee::Agent { agent }) if agent.id != by.agent.id => {
            if !reassign {
                return Err(ConversationError::AlreadyAssigned { to: current.clone() });
            }
            require_supervisor(by.role, "reassign a conversation from another agent")?;
        }
        _ => {}
    }
    Ok(assigned(c, assignee, Some(by), AssignmentReason::Manual, at))
}

pub(super) fn assign_automatically(
    c: &OpenConversation,
    assignee: Assignee,
    reason: AssignmentReason,
    at: DateTime<Utc>,
) -> Decision {
    if reason == AssignmentReason::Manual {
        return Err(ConversationError::ManualReasonForAutomaticAssignment);
    }
    match &c.assignee {
        Some(current) if current.same_as(&assignee) => Ok(Vec::new()),
        Some(current @ Assignee::Agent { .. }) => Err(ConversationError::AlreadyAssigned { to: current.clone() }),
        _ => Ok(assigned(c, assignee, None, reason, at)),
    }
}

pub(super) fn reassign_automatically(
    c: &OpenConversation,
    from: AgentId,
    to: Assignee,
    reason: AssignmentReason,
    at: DateTime<Utc>,
) -> Decision {
    if reason == AssignmentReason::Manual {
        return Err(ConversationError::ManualReasonForAutomaticAssignment);
    }
    match &c.assignee {
        Some(current) if current.same_as(&to) => Ok(Vec::new()),
        Some(current) if current.is_agent(from) => Ok(assigned(c, to, None, reason, at)),
        Some(current) => Err(ConversationError::AlreadyAssigned { to: current.clone() }),
        None => Err(ConversationError::NotAssignedTo { agent: from }),
    }
}

fn assigned(
    c: &OpenConversation,
    assignee: Assignee,
    by: Option<Staff>,
    reason: AssignmentReason,
    at: DateTime<Utc>,
) -> Vec<ConversationEvent> {
    vec![ConversationEvent::Assigned(ConversationAssigned {
        assignee,
        previous: c.assignee.clone(),
        by: by.map(|staff| staff.agent),
        reason,
        at,
    })]
}

pub(super) fn unassign(c: &OpenConversation, by: Initiator, at: DateTime<Utc>) -> Decision {
    let Some(current) = &c.assignee else {
        return Ok(Vec::new());
    };
    if let Initiator::Staff(staff) = &by {
        require_handler(staff, "unassign conversations")?;
        let someone_elses = matches!(current, Assignee::Agent { agent } if agent.id != staff.agent.id);
        if someone_elses && !staff.role.can_supervise() {
            return Err(ConversationError::AlreadyAssigned { to: current.clone() });
        }
    }
    let by = by.agent().cloned();
    Ok(vec![ConversationEvent::Unassigned(ConversationUnassigned {
        previous: current.clone(),
        by,
        at,
    })])
}

pub(super) fn take_over(c: &OpenConversation, by: Staff, at: DateTime<Utc>) -> Decision {
    require_handler(&by, "take conversations over")?;
    match &c.taken_over_by {
        Some(holder) if holder.id == by.agent.id => Ok(Vec::new()),
        Some(holder) => Err(ConversationError::AlreadyTakenOver { by: holder.clone() }),
        None => Ok(vec![ConversationEvent::TakenOver(ConversationTakenOver {
            agent: by.agent,
            at,
        })]),
    }
}

pub(super) fn release(c: &OpenConversation, by: Initiator, reason: ReleaseReason, at: DateTime<Utc>) -> Decision {
    let Some(holder) = &c.taken_over_by else {
        return Ok(Vec::new());
    };
    if let Initiator::Staff(staff) = &by
        && staff.agent.id != holder.id
        && !staff.role.can_supervise()
    {
        return Err(ConversationError::NotTheHolder { holder: holder.clone() });
    }
    let by = by.agent().cloned();
    Ok(vec![ConversationEvent::Released(ConversationReleased {
        agent: holder.clone(),
        by,
        reason,
        at,
    })])
}
