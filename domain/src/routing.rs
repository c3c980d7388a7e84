//! Routing as pure functions: which team a new conversation goes to, and
//! which of the team's agents gets it.
//!
//! A site lists its routing rules in order; the first whose conditions
//! match decides the team ([`route`]). Within the team, auto-assignment
//! picks the online agent with the fewest open conversations below their
//! capacity, the one idle longest on a tie ([`choose_agent`]). The rules
//! are written out in `docs/sla-and-routing.md`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::conversation::Provider;
use crate::ids::{AgentId, RoutingRuleId, TeamId};
use crate::matching::{any_of, language_matches, path_matches, same_label};

/// Sends the conversations its conditions cover to a team.
///
/// Invariants a site keeps (checked when it defines its rules): ids unique,
/// conditions bounded, the team exists on the site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutingRule {
    /// This rule.
    pub id: RoutingRuleId,
    /// Which conversations it covers; empty covers all (a catch-all).
    #[serde(default)]
    pub conditions: RoutingConditions,
    /// Where they go.
    pub team_id: TeamId,
}

/// Which conversations a rule covers. Each non-empty list must match (all
/// of the kinds); within a list any value may match (any of).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutingConditions {
    /// Page path prefixes of where the chat started (segment-wise).
    #[serde(default)]
    pub page_path_prefixes: Vec<String>,
    /// Labels the visitor carries (case-insensitive).
    #[serde(default)]
    pub visitor_labels: Vec<String>,
    /// Where the conversation came from.
    #[serde(default)]
    pub providers: Vec<Provider>,
    /// Language ranges (`de`, `de-AT`) matched against the browser's
    /// preferred language.
    #[serde(default)]
    pub languages: Vec<String>,
}

/// What a rule's conditions look at in a new conversation.
#[derive(Debug, Clone, Copy)]
pub struct RoutingFacts<'a> {
    /// The page path the chat started on, if known.
    pub page_path: Option<&'a str>,
    /// The visitor's labels.
    pub visitor_labels: &'a [String],
    /// Where it came from.
    pub provider: Provider,
    /// The browser's languages in order of preference (`navigator.languages`).
    pub languages: &'a [String],
}

impl RoutingConditions {
    /// Whether a conversation with `facts` is covered. Languages are
    /// compared with the browser's first (preferred) language only, so
    /// "de-AT, en" goes to a German rule, never to an English one listed
    /// before it. A list that is not empty never matches a missing fact.
    pub fn matches(&self, facts: &RoutingFacts<'_>) -> bool {
        any_of(&self.page_path_prefixes, |prefix| {
            facts.page_path.is_some_and(|path| path_matches(prefix, path))
        }) && any_of(&self.visitor_labels, |wanted| {
            facts.visitor_labels.iter().any(|label| same_label(wanted, label))
        }) && any_of(&self.providers, |p| *p == facts.provider)
            && any_of(&self.languages, |range| {
                facts.languages.first().is_some_and(|tag| language_matches(range, tag))
            })
    }
}

/// The first rule (in the site's order) whose conditions match, with the
/// team it routes to; `None` when no rule matches.
pub fn route(rules: &[RoutingRule], facts: &RoutingFacts<'_>) -> Option<(RoutingRuleId, TeamId)> {
    rules
        .iter()
        .find(|rule| rule.conditions.matches(facts))
        .map(|rule| (rule.id, rule.team_id))
}

/// A team member auto-assignment may consider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    /// The agent.
    pub agent_id: AgentId,
    /// Online in the console now.
    pub online: bool,
    /// Conversations assigned to them and not Done.
    pub open_conversations: u32,
    /// How many open conversations they take at most.
    pub capacity: u16,
    /// Since when they have had nothing new: their last assignment, or
    /// when they came online if later.
    pub idle_since: DateTime<Utc>,
}

impl Candidate {
    /// Online and below capacity.
    pub fn can_take_one_more(&self) -> bool {
        self.online && self.open_conversations < u32::from(self.capacity)
    }
}

/// The agent who gets a conversation: among those online and strictly
/// below capacity, the fewest open conversations; on a tie the one idle
/// longest (earliest `idle_since`); then the lowest id, so the choice is
/// deterministic. `None` when nobody can take it (it waits in the team's
/// queue).
pub fn choose_agent(candidates: &[Candidate]) -> Option<AgentId> {
    candidates
        .iter()
        .filter(|c| c.can_take_one_more())
        .min_by_key(|c| (c.open_conversations, c.idle_since, c.agent_id))
        .map(|c| c.agent_id)
}

/// Whether new conversations are assigned to agents automatically, and
/// when an assigned one is taken back and assigned again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoAssignment {
    /// Routed conversations go to an agent of the team ([`choose_agent`]);
    /// off, they wait in the team's queue for someone to pick them up. On
    /// by default.
    pub enabled: bool,
    /// Reassign a conversation whose agent has not answered the visitor
    /// for this many seconds (30 to 86,400); `None` never does.
    pub reassign_after_secs: Option<u32>,
    /// Reassign an agent's open conversations when the agent goes offline.
    pub reassign_when_offline: bool,
}

impl Default for AutoAssignment {
    fn default() -> Self {
        Self {
            enabled: true,
            reassign_after_secs: None,
            reassign_when_offline: false,
        }
    }
}

impl AutoAssignment {
    /// Whether a conversation unanswered for `unanswered_secs` is due for
    /// reassignment. Reassignment only happens while auto-assignment is on.
    pub fn reassigns_unanswered_after(&self, unanswered_secs: u64) -> bool {
        self.enabled
            && self
                .reassign_after_secs
                .is_some_and(|limit| unanswered_secs >= u64::from(limit))
    }

    /// Whether an agent going offline hands their conversations back.
    pub fn reassigns_when_offline(&self) -> bool {
        self.enabled && self.reassign_when_offline
    }
}
