//! `agents`: every person in the console with their roles, presence,
//! capacity and how many open (not Done) conversations are assigned to
//! them. `agent_assignments` keeps who each conversation is assigned to.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use livedesk_domain::RecordedEvent;
use livedesk_domain::agent::{AgentEvent, Presence};
use livedesk_domain::conversation::{Assignee, ConversationEvent, ConversationStatus};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

use super::inbox::variant;
use super::{Folded, decode, stream_id, types_of};
use crate::table::{CopyRows, Reads, Table, Writes};
use crate::{Changes, ProjectionError, Projector, Replay};

/// The `agents` projector.
#[derive(Debug, Clone, Copy, Default)]
pub struct AgentsProjector;

pub(crate) const AGENTS: Table = Table {
    name: "agents",
    key: "agent_id",
    columns: &[
        "agent_id",
        "email",
        "name",
        "display_name",
        "roles",
        "activated",
        "presence",
        "max_concurrent",
        "notification_preference",
        "open_conversations",
        "idle_since",
        "updated_at",
        "position",
    ],
    json: &["roles"],
};

pub(crate) const ASSIGNMENTS: Table = Table {
    name: "agent_assignments",
    key: "conversation_id",
    columns: &["conversation_id", "agent_id", "open"],
    json: &[],
};

/// A row of `agents`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentRow {
    /// The agent.
    pub agent_id: Uuid,
    /// Their email.
    pub email: String,
    /// Their name.
    pub name: String,
    /// The name visitors see.
    pub display_name: String,
    /// Role per site id.
    pub roles: BTreeMap<Uuid, String>,
    /// Accepted the invitation.
    pub activated: bool,
    /// `online`, `away` or `offline`.
    pub presence: String,
    /// Most conversations at once.
    pub max_concurrent: i32,
    /// `every_message`, `new_conversations_only` or `none`.
    pub notification_preference: String,
    /// Assigned conversations that are not Done.
    pub open_conversations: i32,
    /// The later of their last assignment and when they last came online
    /// (auto-assignment's tie-break); `None` before either.
    pub idle_since: Option<DateTime<Utc>>,
    /// The last change.
    pub updated_at: DateTime<Utc>,
    /// The last event applied.
    pub position: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct AssignmentRow {
    conversation_id: Uuid,
    agent_id: Option<Uuid>,
    open: bool,
}

impl AssignmentRow {
    /// The agent whose open count this row adds to.
    fn counted(&self) -> Option<Uuid> {
        self.agent_id.filter(|_| self.open)
    }
}

impl Projector for AgentsProjector {
    fn name(&self) -> &'static str {
        "agents"
    }

    fn event_types(&self) -> Vec<String> {
        types_of(AgentEvent::EVENT_TYPES)
            .chain(
                [
                    "ConversationOpened",
                    "ConversationAssigned",
                    "ConversationUnassigned",
                    "ConversationStatusChanged",
                ]
                .map(String::from),
            )
            .collect()
    }

    fn tables(&self) -> &'static [&'static str] {
        &["agents", "agent_assignments"]
    }

    fn apply<'a>(
        &'a self,
        tx: &'a mut PgConnection,
        events: &'a [RecordedEvent],
        changes: &'a mut Changes,
    ) -> BoxFuture<'a, Result<(), ProjectionError>> {
        Box::pin(apply(tx, events, changes))
    }

    fn replay(&self) -> Option<Box<dyn Replay>> {
        Some(Box::new(AgentsReplay(Agents::default())))
    }
}

enum Decoded {
    Agent(Uuid, AgentEvent),
    Conversation(Uuid, ConversationEvent),
}

impl Decoded {
    /// The event decoded; the agents and conversations it needs loaded go
    /// into `agents` and `conversations`.
    fn new(
        event: &RecordedEvent,
        agents: &mut BTreeSet<Uuid>,
        conversations: &mut BTreeSet<Uuid>,
    ) -> Result<Self, ProjectionError> {
        let id = stream_id(event)?;
        if event.stream.category() == "agent" {
            agents.insert(id);
            return Ok(Decoded::Agent(id, decode(event)?));
        }
        let e: ConversationEvent = decode(event)?;
        if let ConversationEvent::Assigned(a) = &e
            && let Assignee::Agent { agent } = &a.assignee
        {
            agents.insert(agent.id.0);
        }
        conversations.insert(id);
        Ok(Decoded::Conversation(id, e))
    }
}

/// The rows a batch folds: loaded ones for a live batch, all of them for a
/// replay.
#[derive(Debug, Default)]
struct Agents {
    agents: Folded<AgentRow>,
    assignments: Folded<AssignmentRow>,
}

impl Agents {
    fn fold(&mut self, event: &RecordedEvent, decoded: Decoded) {
        let position = event.position as i64;
        match decoded {
            Decoded::Agent(id, e) => fold_agent(&mut self.agents, id, e, position),
            Decoded::Conversation(id, e) => {
                let before = self.assignments.get(id).and_then(AssignmentRow::counted);
                match e {
                    ConversationEvent::Opened(_) => self.assignments.put(
                        id,
                        AssignmentRow {
                            conversation_id: id,
                            agent_id: None,
                            open: true,
                        },
                    ),
                    ConversationEvent::Assigned(a) => {
                        let agent = match a.assignee {
                            Assignee::Agent { agent } => Some(agent.id.0),
                            Assignee::Team { .. } => None,
                        };
                        if let Some(row) = self.assignments.get_mut(id) {
                            row.agent_id = agent;
                        }
                        if let Some(row) = agent.and_then(|a| self.agents.get_mut(a)) {
                            row.idle_since = row.idle_since.max(Some(a.at));
                            row.position = position;
                        }
                    }
                    ConversationEvent::Unassigned(_) => {
                        if let Some(row) = self.assignments.get_mut(id) {
                            row.agent_id = None;
                        }
                    }
                    ConversationEvent::StatusChanged(s) => {
                        if let Some(row) = self.assignments.get_mut(id) {
                            row.open = s.to != ConversationStatus::Done;
                        }
                    }
                    _ => {}
                }
                let after = self.assignments.get(id).and_then(AssignmentRow::counted);
                if before != after {
                    for (agent, delta) in [(before, -1), (after, 1)] {
                        if let Some(row) = agent.and_then(|a| self.agents.get_mut(a)) {
                            row.open_conversations += delta;
                            row.position = position;
                        }
                    }
                }
            }
        }
    }
}

async fn apply(tx: &mut PgConnection, events: &[RecordedEvent], changes: &mut Changes) -> Result<(), ProjectionError> {
    let mut decoded = Vec::with_capacity(events.len());
    let (mut agent_ids, mut conversation_ids) = (BTreeSet::new(), BTreeSet::new());
    for event in events {
        decoded.push((event, Decoded::new(event, &mut agent_ids, &mut conversation_ids)?));
    }
    // Agents are known from the events, except the one a conversation was
    // assigned to: read assignments first, then agents.
    let mut reads = Reads::default();
    let assignments = reads.rows(&ASSIGNMENTS, conversation_ids);
    let loaded: Vec<AssignmentRow> = reads.fetch(tx).await?.take(assignments)?;
    agent_ids.extend(loaded.iter().filter_map(|a| a.agent_id));
    let assignments = Folded::loaded(loaded.into_iter().map(|a| (a.conversation_id, a)));
    let mut reads = Reads::default();
    let agents = reads.rows(&AGENTS, agent_ids);
    let loaded: Vec<AgentRow> = reads.fetch(tx).await?.take(agents)?;
    let mut folded = Agents {
        agents: Folded::loaded(loaded.into_iter().map(|a| (a.agent_id, a))),
        assignments,
    };
    for (event, d) in decoded {
        folded.fold(event, d);
    }
    let mut writes = Writes::default();
    let (rows, _) = folded.agents.into_writes();
    for row in &rows {
        changes.sites.extend(row.roles.keys().copied());
    }
    writes.upsert(&AGENTS, &rows)?;
    let (rows, _) = folded.assignments.into_writes();
    writes.upsert(&ASSIGNMENTS, &rows)?;
    writes.execute(tx).await?;
    Ok(())
}

/// Every agent and assignment of the history in memory.
struct AgentsReplay(Agents);

impl Replay for AgentsReplay {
    fn apply(&mut self, events: &[&RecordedEvent]) -> Result<Vec<CopyRows>, ProjectionError> {
        let (mut agents, mut conversations) = (BTreeSet::new(), BTreeSet::new());
        for event in events {
            let decoded = Decoded::new(event, &mut agents, &mut conversations)?;
            self.0.fold(event, decoded);
        }
        Ok(Vec::new())
    }

    fn finish(self: Box<Self>) -> Result<Vec<CopyRows>, ProjectionError> {
        Ok(vec![
            AGENTS.encode(self.0.agents.values())?,
            ASSIGNMENTS.encode(self.0.assignments.values())?,
        ])
    }
}

fn fold_agent(agents: &mut Folded<AgentRow>, id: Uuid, e: AgentEvent, position: i64) {
    if let AgentEvent::Invited(i) = &e {
        agents.put(
            id,
            AgentRow {
                agent_id: id,
                email: i.email.clone(),
                name: i.name.clone(),
                display_name: i.name.clone(),
                roles: i.roles.iter().map(|(site, role)| (site.0, role.to_string())).collect(),
                activated: false,
                presence: "offline".into(),
                max_concurrent: 5,
                notification_preference: "every_message".into(),
                open_conversations: 0,
                idle_since: None,
                updated_at: i.at,
                position,
            },
        );
        return;
    }
    let Some(row) = agents.get_mut(id) else { return };
    let at = match e {
        AgentEvent::Invited(i) => i.at,
        AgentEvent::Activated(a) => {
            row.activated = true;
            a.at
        }
        AgentEvent::RoleChanged(r) => {
            match r.role {
                Some(role) => _ = row.roles.insert(r.site_id.0, role.to_string()),
                None => _ = row.roles.remove(&r.site_id.0),
            }
            r.at
        }
        AgentEvent::DisplayNameChanged(d) => {
            row.display_name = d.display_name;
            d.at
        }
        AgentEvent::NotificationPreferenceChanged(n) => {
            row.notification_preference = variant(&n.preference);
            n.at
        }
        AgentEvent::PresenceChanged(p) => {
            let came_online = p.presence == Presence::Online && row.presence != "online";
            row.presence = variant(&p.presence);
            if came_online {
                row.idle_since = row.idle_since.max(Some(p.at));
            }
            p.at
        }
        AgentEvent::CapacityChanged(c) => {
            row.max_concurrent = i32::from(c.max_concurrent);
            c.at
        }
        AgentEvent::PasswordSet(p) => p.at,
    };
    row.updated_at = row.updated_at.max(at);
    row.position = position;
}
