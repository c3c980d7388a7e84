//! Reassignment, per site while auto-assignment is on: an agent's open
//! conversations when they go offline (`reassign_when_offline`), and a
//! conversation whose visitor an agent left unanswered too long
//! (`reassign_after_secs`). Each goes to another online member of its team
//! with room, or back to the team's queue.

use chrono::{DateTime, TimeDelta, Utc};
use livedesk_domain::conversation::{
    Assignee, AssignmentReason, ConversationAssigned, ConversationCommand, ConversationEvent,
};
use livedesk_domain::routing::choose_agent;
use livedesk_domain::{AgentId, AgentRef, RecordedEvent, StreamName, TeamId, TeamRef};
use livedesk_eventstore::{Direction, EventStore};
use livedesk_projections::automation;
use uuid::Uuid;

use super::assign::Core;
use crate::command_id::derived;

/// The shortest wait a site may set (`reassign_after_secs`).
const SHORTEST_WAIT_SECS: i64 = 30;
/// Conversations looked at per sweep.
const SWEEP_LIMIT: i64 = 500;

impl Core {
    /// `agent` went offline: on sites that reassign then, each of their open
    /// conversations goes to another member of its team, or to its queue.
    pub(super) async fn agent_went_offline(&self, agent: Uuid, event: &RecordedEvent) -> anyhow::Result<()> {
        for (conversation, site) in automation::open_conversations_of_agent(self.store.pool(), agent).await? {
            let facts = self.facts.site(site).await?;
            if !facts.config.auto_assignment.reassigns_when_offline() {
                continue;
            }
            let Some((team, _)) = self.team_of(conversation).await? else {
                continue;
            };
            let reason = AssignmentReason::AgentWentOffline { team_id: team };
            let id = derived("routing.offline", &[conversation, event.event_id]);
            self.reassign(conversation, site, AgentId(agent), team, reason, id, Some(event))
                .await?;
        }
        Ok(())
    }

    /// The sweep's part: conversations whose visitor has waited longer than
    /// their site allows go to another member of the team.
    pub(super) async fn reassign_unanswered(&self) -> anyhow::Result<()> {
        let now = self.clock.now();
        let before = now - TimeDelta::seconds(SHORTEST_WAIT_SECS);
        for waiting in automation::unanswered_since(self.store.pool(), before, SWEEP_LIMIT).await? {
            // The wait is at most the time since the visitor's message:
            // rows not due by that need no stream read.
            let facts = self.facts.site(waiting.site_id).await?;
            let longest = (now - waiting.last_message_at).num_seconds().max(0).unsigned_abs();
            if !facts.config.auto_assignment.reassigns_unanswered_after(longest) {
                continue;
            }
            let Some((team, assigned_at)) = self.team_of(waiting.conversation_id).await? else {
                continue;
            };
            // The wait counts from the visitor's message, or from when the
            // holder got the conversation if later.
            let since = waiting.last_message_at.max(assigned_at);
            let waited = (now - since).num_seconds().max(0).unsigned_abs();
            if !facts.config.auto_assignment.reassigns_unanswered_after(waited) {
                continue;
            }
            let stretch = Uuid::from_u128(u128::from(since.timestamp_micros().unsigned_abs()));
            let id = derived(
                "routing.unanswered",
                &[waiting.conversation_id, waiting.agent_id, stretch],
            );
            let reason = AssignmentReason::LeftUnanswered { team_id: team };
            let from = AgentId(waiting.agent_id);
            self.reassign(waiting.conversation_id, waiting.site_id, from, team, reason, id, None)
                .await?;
        }
        Ok(())
    }

    /// Takes `conversation` from `from` and gives it to the member of
    /// `team` that [`choose_agent`] picks among the others, or to the
    /// team's queue when nobody can take it.
    #[allow(clippy::too_many_arguments)]
    async fn reassign(
        &self,
        conversation: Uuid,
        site: Uuid,
        from: AgentId,
        team: TeamId,
        reason: AssignmentReason,
        command_id: Uuid,
        cause: Option<&RecordedEvent>,
    ) -> anyhow::Result<()> {
        let facts = self.facts.site(site).await?;
        let Some(team_info) = facts.teams.get(&team) else {
            return Ok(());
        };
        let others: Vec<Uuid> = team_info.members.iter().filter(|a| **a != from).map(|a| a.0).collect();
        let (loads, counted) = automation::agent_loads(self.store.pool(), &others).await?;
        let chosen = choose_agent(&self.candidates(&loads, counted));
        let to = match chosen {
            Some(agent) => Assignee::Agent {
                agent: AgentRef::new(
                    agent,
                    loads
                        .iter()
                        .find(|l| l.agent_id == agent.0)
                        .map(|l| l.display_name.clone())
                        .unwrap_or_default(),
                ),
            },
            None => Assignee::Team {
                team: TeamRef {
                    id: team,
                    name: team_info.name.clone(),
                },
            },
        };
        let at = self.clock.now();
        let command = ConversationCommand::ReassignAutomatically { from, to, reason, at };
        if let (Some(Some(append)), Some(agent)) =
            (self.post(conversation, site, command, command_id, cause).await?, chosen)
        {
            self.remember(append.last_position, conversation, agent.0, at);
        }
        Ok(())
    }

    /// The team the conversation was last routed to or assigned within,
    /// and when it was last assigned: from its stream.
    async fn team_of(&self, conversation: Uuid) -> anyhow::Result<Option<(TeamId, DateTime<Utc>)>> {
        let stream = StreamName::for_id("conversation", conversation)?;
        let events = self.store.read_stream(&stream, 0, Direction::Forward, 10_000).await?;
        let assignments: Vec<ConversationAssigned> = events
            .iter()
            .filter_map(|event| match event.decode::<ConversationEvent>() {
                Ok(ConversationEvent::Assigned(assigned)) => Some(assigned),
                _ => None,
            })
            .collect();
        let Some(last) = assignments.last() else {
            return Ok(None);
        };
        let team = assignments
            .iter()
            .rev()
            .find_map(|assigned| match (&assigned.assignee, &assigned.reason) {
                (Assignee::Team { team }, _) => Some(team.id),
                (
                    _,
                    AssignmentReason::AutoAssignment { team_id }
                    | AssignmentReason::AgentWentOffline { team_id }
                    | AssignmentReason::LeftUnanswered { team_id },
                ) => Some(*team_id),
                _ => None,
            });
        Ok(team.map(|team| (team, last.at)))
    }
}
