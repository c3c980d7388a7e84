//! Payloads of requests and records: asking for a human, special requests,
//! transcript exports, SLA clocks.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::conversation::types::{HumanRequester, SlaDue, SlaTarget, SpecialRequestAnswer, SpecialRequestKind};
use crate::ids::{RequestId, SlaPolicyId};
use crate::people::AgentRef;

/// Someone asked for a human agent; the conversation waits for one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HumanRequested {
    /// The visitor, or the AI handing off.
    pub by: HumanRequester,
    /// When.
    pub at: DateTime<Utc>,
}

/// An agent asked the visitor for co-browsing, a call, a screen share or a
/// conference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecialRequestSent {
    /// This request, so the answer can refer to it.
    pub request_id: RequestId,
    /// What is asked.
    pub kind: SpecialRequestKind,
    /// Who asked.
    pub by: AgentRef,
    /// When.
    pub at: DateTime<Utc>,
}

/// The visitor answered a special request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecialRequestAnswered {
    /// The request answered.
    pub request_id: RequestId,
    /// What was asked (repeated for readers of this event alone).
    pub kind: SpecialRequestKind,
    /// Yes or no.
    pub answer: SpecialRequestAnswer,
    /// When.
    pub at: DateTime<Utc>,
}

/// An agent exported the transcript. For the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TranscriptExported {
    /// Who exported it.
    pub by: AgentRef,
    /// When.
    pub at: DateTime<Utc>,
}

/// An SLA policy set due times. Replaces the clocks of the same targets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaApplied {
    /// The policy.
    pub policy_id: SlaPolicyId,
    /// The clocks it starts (each target at most once).
    pub targets: Vec<SlaDue>,
    /// When.
    pub at: DateTime<Utc>,
}

/// An SLA target was met in time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaFulfilled {
    /// The policy whose clock it was.
    pub policy_id: SlaPolicyId,
    /// The target met.
    pub target: SlaTarget,
    /// When.
    pub at: DateTime<Utc>,
}

/// An SLA target was missed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaBreached {
    /// The policy whose clock it was.
    pub policy_id: SlaPolicyId,
    /// The target missed.
    pub target: SlaTarget,
    /// When it fell due.
    pub due_at: DateTime<Utc>,
    /// When the breach was recorded (the due time, when recorded late).
    pub at: DateTime<Utc>,
}
