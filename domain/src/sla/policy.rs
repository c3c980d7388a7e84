//! SLA policies: which conversations a policy covers, and when its clocks
//! fall due.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::hours::{BusinessHours, ClockError};
use crate::conversation::{Provider, SlaDue, SlaTarget};
use crate::ids::{SlaPolicyId, TeamId};
use crate::matching::{any_of, path_matches, same_label};

/// A promise of how fast a site answers, for the conversations its
/// conditions cover. Targets are seconds of business time.
///
/// Invariants a site keeps (checked when it defines its policies): ids
/// unique, at least one target, each target 1 to
/// [`MAX_SLA_TARGET_SECS`](crate::limits::MAX_SLA_TARGET_SECS), conditions
/// bounded and naming teams of the site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaPolicy {
    /// This policy.
    pub id: SlaPolicyId,
    /// What admins call it ("VIP", "Business hours default").
    pub name: String,
    /// Which conversations it covers; empty covers all.
    #[serde(default)]
    pub conditions: SlaConditions,
    /// Seconds from opening to the first human reply.
    pub first_response_secs: Option<u32>,
    /// Seconds from a visitor message to the next human reply.
    pub next_response_secs: Option<u32>,
    /// Seconds from opening to Done.
    pub resolution_secs: Option<u32>,
}

/// Which conversations a policy covers. Each non-empty list must match
/// (all of the kinds); within a list any value may match (any of). With
/// every list empty the policy covers every conversation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaConditions {
    /// Where the conversation came from.
    #[serde(default)]
    pub providers: Vec<Provider>,
    /// Labels the visitor carries (case-insensitive).
    #[serde(default)]
    pub visitor_labels: Vec<String>,
    /// The team the conversation is assigned or routed to.
    #[serde(default)]
    pub teams: Vec<TeamId>,
    /// Page path prefixes of where the chat started (segment-wise, see
    /// [`path_matches`]).
    #[serde(default)]
    pub page_path_prefixes: Vec<String>,
}

/// What a policy's conditions look at in a conversation.
#[derive(Debug, Clone, Copy)]
pub struct SlaFacts<'a> {
    /// Where it came from.
    pub provider: Provider,
    /// The visitor's labels.
    pub visitor_labels: &'a [String],
    /// Its team, if routed or assigned to one.
    pub team: Option<TeamId>,
    /// The page path the chat started on, if known.
    pub page_path: Option<&'a str>,
}

impl SlaConditions {
    /// Whether a conversation with `facts` is covered. A list that is not
    /// empty never matches a missing fact (no team, no path).
    pub fn matches(&self, facts: &SlaFacts<'_>) -> bool {
        any_of(&self.providers, |p| *p == facts.provider)
            && any_of(&self.visitor_labels, |wanted| {
                facts.visitor_labels.iter().any(|label| same_label(wanted, label))
            })
            && any_of(&self.teams, |team| facts.team == Some(*team))
            && any_of(&self.page_path_prefixes, |prefix| {
                facts.page_path.is_some_and(|path| path_matches(prefix, path))
            })
    }
}

/// The policy that applies to a conversation: the first in the site's
/// order whose conditions match, if any.
pub fn matching_policy<'p>(policies: &'p [SlaPolicy], facts: &SlaFacts<'_>) -> Option<&'p SlaPolicy> {
    policies.iter().find(|policy| policy.conditions.matches(facts))
}

impl SlaPolicy {
    /// The target's seconds, if the policy sets it.
    pub fn target_secs(&self, target: SlaTarget) -> Option<u32> {
        match target {
            SlaTarget::FirstResponse => self.first_response_secs,
            SlaTarget::NextResponse => self.next_response_secs,
            SlaTarget::Resolution => self.resolution_secs,
        }
    }

    /// The clocks that start when a conversation opens at `opened_at`:
    /// first response and resolution, each only if the policy sets it,
    /// counted in business time. Empty for a policy with only a
    /// next-response target (nothing to apply until a visitor message).
    ///
    /// # Errors
    ///
    /// [`ClockError`] from [`BusinessHours::add`].
    pub fn due_times(&self, opened_at: DateTime<Utc>, hours: &BusinessHours) -> Result<Vec<SlaDue>, ClockError> {
        [SlaTarget::FirstResponse, SlaTarget::Resolution]
            .into_iter()
            .filter_map(|target| self.due(target, opened_at, hours).transpose())
            .collect()
    }

    /// The next-response clock that starts with a visitor message posted
    /// at `message_at`, if the policy sets that target.
    ///
    /// # Errors
    ///
    /// [`ClockError`] from [`BusinessHours::add`].
    pub fn next_response_due(
        &self,
        message_at: DateTime<Utc>,
        hours: &BusinessHours,
    ) -> Result<Option<SlaDue>, ClockError> {
        self.due(SlaTarget::NextResponse, message_at, hours)
    }

    fn due(&self, target: SlaTarget, from: DateTime<Utc>, hours: &BusinessHours) -> Result<Option<SlaDue>, ClockError> {
        let Some(secs) = self.target_secs(target) else {
            return Ok(None);
        };
        let due_at = hours.add(from, u64::from(secs))?;
        Ok(Some(SlaDue { target, due_at }))
    }
}
