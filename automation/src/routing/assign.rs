//! The router's decisions: route an opening conversation to a team, give
//! a team's conversation to one of its agents, serve the queues.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use livedesk_domain::agent::{AgentEvent, Presence};
use livedesk_domain::conversation::{
    Assignee, AssignmentReason, Conversation, ConversationCommand, ConversationError, ConversationEvent,
    ConversationOpened, ConversationStatus,
};
use livedesk_domain::routing::{Candidate, RoutingFacts, choose_agent, route};
use livedesk_domain::{Actor, AgentId, AgentRef, Metadata, RecordedEvent, TeamId, TeamRef};
use livedesk_eventstore::{AppendResult, CommandContext, CommandError, CommandService, EventStore, PgEventStore};
use livedesk_projections::Projector;
use livedesk_projections::automation::{self, AgentLoad};
use livedesk_projections::models::AgentsProjector;
use uuid::Uuid;

use crate::clock::Clock;
use crate::command_id::derived;
use crate::facts::Facts;

/// Conversations of one site's queues looked at per serving.
const QUEUE_PAGE: i64 = 500;

/// An assignment to an agent that the `agents` read model may not count
/// yet.
#[derive(Debug, Clone, Copy)]
struct Pending {
    /// Where its event is in the log.
    position: u64,
    conversation: Uuid,
    agent: Uuid,
    at: DateTime<Utc>,
}

/// Which sites' queues to serve after a batch.
#[derive(Debug, Default)]
pub(super) struct Serve {
    sites: BTreeSet<Uuid>,
    /// Every site with a queue (an agent, who may work for any, changed).
    all: bool,
}

#[derive(Debug)]
pub(super) struct Core {
    pub store: PgEventStore,
    pub clock: Arc<dyn Clock>,
    conversations: CommandService<PgEventStore, Conversation>,
    pub facts: Facts,
    pending: Mutex<Vec<Pending>>,
}

impl Core {
    pub fn new(store: PgEventStore, clock: Arc<dyn Clock>) -> Self {
        Self {
            conversations: CommandService::new(store.clone(), 1_000),
            facts: Facts::new(store.clone()),
            pending: Mutex::new(Vec::new()),
            store,
            clock,
        }
    }

    /// Before leading: forget what a previous term knew, and give the
    /// `agents` read model up to `patience` to count every assignment in
    /// the log (a previous leader's included).
    pub async fn start_leading(&self, patience: Duration) -> anyhow::Result<()> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner).clear();
        self.facts.forget(None);
        let head = self.store.head().await?;
        let deadline = tokio::time::Instant::now() + patience;
        let agents = AgentsProjector;
        let (name, types) = (agents.name(), agents.event_types());
        while automation::projector_behind(self.store.pool(), name, &types, head).await? {
            if tokio::time::Instant::now() >= deadline {
                tracing::warn!(head, "router leads before the agents read model caught up");
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(())
    }

    /// Reacts to one event; the queues it may unblock go into `serve`.
    ///
    /// # Errors
    ///
    /// A store failure: the event should be reacted to again later.
    pub async fn react(&self, event: &RecordedEvent, serve: &mut Serve) -> anyhow::Result<()> {
        let site = event.metadata.site_id;
        match event.stream.category() {
            "conversation" => {
                let Ok(decoded) = event.decode::<ConversationEvent>() else {
                    tracing::warn!(position = event.position, "router skips an undecodable event");
                    return Ok(());
                };
                let frees = match decoded {
                    ConversationEvent::Opened(opened) => {
                        self.open(&opened, event).await?;
                        false
                    }
                    ConversationEvent::Assigned(a) => {
                        matches!(a.previous, Some(Assignee::Agent { .. }))
                            || matches!(a.assignee, Assignee::Team { .. })
                    }
                    ConversationEvent::Unassigned(u) => matches!(u.previous, Assignee::Agent { .. }),
                    ConversationEvent::StatusChanged(s) => s.to == ConversationStatus::Done,
                    _ => false,
                };
                if frees {
                    serve.sites.extend(site);
                }
            }
            "agent" => {
                if let Ok(AgentEvent::PresenceChanged(p)) = event.decode::<AgentEvent>()
                    && p.presence == Presence::Offline
                    && let Ok(agent) = event.stream.id().parse::<Uuid>()
                {
                    self.agent_went_offline(agent, event).await?;
                }
                serve.all = true;
            }
            "site" => {
                self.facts.forget(site);
                serve.sites.extend(site);
            }
            _ => {}
        }
        Ok(())
    }

    /// Serves the queues of `serve`'s sites.
    pub async fn serve(&self, serve: Serve) -> anyhow::Result<()> {
        let sites = if serve.all {
            automation::sites_with_queues(self.store.pool()).await?
        } else {
            serve.sites.into_iter().collect()
        };
        for site in sites {
            self.drain(site).await?;
        }
        Ok(())
    }

    /// Reassigns what was left unanswered too long, then serves every queue
    /// (the tick's sweep).
    pub async fn sweep(&self) -> anyhow::Result<()> {
        self.reassign_unanswered().await?;
        self.serve(Serve {
            all: true,
            ..Serve::default()
        })
        .await
    }

    /// A conversation opened: the first matching rule gives it its team,
    /// and auto-assignment one of the team's agents. A visitor tagged with
    /// `assignedUser` is left to that agent (the widget assigns it).
    async fn open(&self, opened: &ConversationOpened, event: &RecordedEvent) -> anyhow::Result<()> {
        let (conversation, site) = (opened.conversation_id.0, opened.site_id.0);
        let facts = self.facts.site(site).await?;
        if facts.config.routing_rules.is_empty() {
            return Ok(());
        }
        let tag = self.facts.tag(opened.visitor_id.0).await?;
        if tag.assigned_user.is_some() {
            return Ok(());
        }
        let session = match opened.session_id {
            Some(session) => self.facts.session_at(session.0, event.position).await?,
            None => None,
        };
        let labels = tag.labels.unwrap_or_default();
        let routing = RoutingFacts {
            page_path: session.as_ref().map(|s| s.current_path.as_str()),
            visitor_labels: &labels,
            provider: opened.provider,
            languages: session.as_ref().map_or(&[], |s| s.client.languages.as_slice()),
        };
        let Some((rule_id, team_id)) = route(&facts.config.routing_rules, &routing) else {
            return Ok(());
        };
        let Some(team) = facts.teams.get(&team_id) else {
            tracing::warn!(%conversation, team = %team_id.0, "routing rule names a team the site does not have");
            return Ok(());
        };
        let command = ConversationCommand::AssignAutomatically {
            assignee: Assignee::Team {
                team: TeamRef {
                    id: team_id,
                    name: team.name.clone(),
                },
            },
            reason: AssignmentReason::RoutingRule { rule_id },
            at: self.clock.now(),
        };
        let id = derived("routing.team", &[event.event_id]);
        if self.post(conversation, site, command, id, Some(event)).await?.is_some() {
            self.assign_in_team(conversation, site, team_id, event.event_id, Some(event))
                .await?;
        }
        Ok(())
    }

    /// Serves `site`'s queues oldest first, until each team has nobody free.
    async fn drain(&self, site: Uuid) -> anyhow::Result<()> {
        let queued = automation::queued_conversations(self.store.pool(), site, QUEUE_PAGE).await?;
        let mut full = BTreeSet::new();
        for waiting in queued {
            if full.contains(&waiting.team_id) || self.is_pending(waiting.conversation_id) {
                continue;
            }
            // The row's last position names this stay in the queue: a
            // retry of it appends nothing new, a later stay gets a new id.
            let stay = Uuid::from_u128(u128::from(waiting.position.unsigned_abs()));
            let team = TeamId(waiting.team_id);
            if !self
                .assign_in_team(waiting.conversation_id, site, team, stay, None)
                .await?
            {
                full.insert(waiting.team_id);
            }
        }
        Ok(())
    }

    /// Gives a conversation of `team`'s queue to the member
    /// [`choose_agent`] picks. Returns `false` when nobody can take it (it
    /// stays in the queue), `true` when it was assigned or needs no agent
    /// any more (an agent holds it already).
    async fn assign_in_team(
        &self,
        conversation: Uuid,
        site: Uuid,
        team: TeamId,
        key: Uuid,
        cause: Option<&RecordedEvent>,
    ) -> anyhow::Result<bool> {
        let facts = self.facts.site(site).await?;
        let Some(members) = facts.teams.get(&team).map(|t| &t.members) else {
            return Ok(false);
        };
        if !facts.config.auto_assignment.enabled || members.is_empty() {
            return Ok(false);
        }
        let members: Vec<Uuid> = members.iter().map(|a| a.0).collect();
        let (loads, counted) = automation::agent_loads(self.store.pool(), &members).await?;
        let Some(chosen) = choose_agent(&self.candidates(&loads, counted)) else {
            return Ok(false);
        };
        let name = loads
            .iter()
            .find(|l| l.agent_id == chosen.0)
            .map(|l| l.display_name.clone())
            .unwrap_or_default();
        let at = self.clock.now();
        let command = ConversationCommand::AssignAutomatically {
            assignee: Assignee::Agent {
                agent: AgentRef::new(chosen, name),
            },
            reason: AssignmentReason::AutoAssignment { team_id: team },
            at,
        };
        let id = derived("routing.agent", &[conversation, key]);
        if let Some(Some(append)) = self.post(conversation, site, command, id, cause).await? {
            self.remember(append.last_position, conversation, chosen.0, at);
        }
        Ok(true)
    }

    /// Counts an assignment this router made until the `agents` read model
    /// has applied `position`.
    pub(super) fn remember(&self, position: u64, conversation: Uuid, agent: Uuid, at: DateTime<Utc>) {
        self.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Pending {
                position,
                conversation,
                agent,
                at,
            });
    }

    /// The members as [`choose_agent`] sees them: the read model's loads
    /// (counted up to `counted`) plus this router's later assignments.
    pub(super) fn candidates(&self, loads: &[AgentLoad], counted: u64) -> Vec<Candidate> {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        pending.retain(|p| p.position > counted);
        loads
            .iter()
            .map(|load| {
                let mine: Vec<&Pending> = pending.iter().filter(|p| p.agent == load.agent_id).collect();
                let open = u32::try_from(load.open_conversations).unwrap_or(0);
                Candidate {
                    agent_id: AgentId(load.agent_id),
                    online: load.online,
                    open_conversations: open + u32::try_from(mine.len()).unwrap_or(u32::MAX),
                    capacity: u16::try_from(load.max_concurrent).unwrap_or(0),
                    idle_since: mine.iter().map(|p| p.at).fold(load.idle_since, DateTime::max),
                }
            })
            .collect()
    }

    fn is_pending(&self, conversation: Uuid) -> bool {
        let pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        pending.iter().any(|p| p.conversation == conversation)
    }

    /// Runs `command` as Livedesk (`system`). `Ok(None)`: the domain
    /// refused it (an agent holds the conversation, it is closed);
    /// `Ok(Some(append))`: carried out (`None` when there was nothing to
    /// change).
    pub(super) async fn post(
        &self,
        conversation: Uuid,
        site: Uuid,
        command: ConversationCommand,
        command_id: Uuid,
        cause: Option<&RecordedEvent>,
    ) -> anyhow::Result<Option<Option<AppendResult>>> {
        let context = CommandContext {
            metadata: Metadata {
                site_id: Some(site),
                actor: Some(Actor::System),
                correlation_id: cause.map(|e| e.metadata.correlation_id.unwrap_or(e.event_id)),
                causation_id: cause.map(|e| e.event_id),
                command_id: Some(command_id),
            },
        };
        match self.conversations.execute(conversation, command, &context).await {
            Ok(executed) => Ok(Some(executed.append)),
            Err(CommandError::Rejected(ConversationError::AlreadyAssigned { to })) => {
                tracing::debug!(%conversation, %to, "router leaves a conversation an agent holds");
                Ok(None)
            }
            Err(CommandError::Rejected(rejection)) => {
                tracing::warn!(%conversation, %rejection, "router command rejected");
                Ok(None)
            }
            Err(CommandError::Decode {
                stream,
                version,
                reason,
            }) => {
                tracing::warn!(%stream, version, %reason, "router cannot load a conversation; skipping");
                Ok(None)
            }
            Err(error) => Err(anyhow::Error::new(error).context("posting a routing command")),
        }
    }
}
