//! The engine's reactions to events: start clocks when a conversation
//! opens or its policy-relevant facts change, start a next-response clock
//! on a visitor message after a human reply, settle clocks on a human
//! reply or Done; and the breach of clocks that fell due.

use chrono::{DateTime, Utc};
use livedesk_domain::conversation::{
    Assignee, Author, Conversation, ConversationCommand, ConversationEvent, ConversationStatus, SlaDue,
};
use livedesk_domain::sla::{BusinessHours, SlaFacts, SlaPolicy, matching_policy};
use livedesk_domain::visitor::VisitorEvent;
use livedesk_domain::{Aggregate, RecordedEvent, StreamName};
use livedesk_eventstore::{CommandService, Direction, EventStore, PgEventStore};
use uuid::Uuid;

use super::history::{History, Mark};
use crate::clock::Clock;
use crate::command_id::derived;
use crate::facts::Facts;

/// Events read per page of a conversation stream.
const PAGE: usize = 1000;

/// What the reactions and the timer share.
#[derive(Debug)]
pub(crate) struct Core {
    pub store: PgEventStore,
    pub clock: std::sync::Arc<dyn Clock>,
    pub conversations: CommandService<PgEventStore, Conversation>,
    pub facts: Facts,
}

/// The event a command answers: its id becomes the causation, its
/// correlation is kept.
#[derive(Debug, Clone, Copy)]
pub(super) struct Cause {
    pub(super) event_id: Uuid,
    pub(super) correlation_id: Option<Uuid>,
}

impl Cause {
    pub(super) fn of(event: &RecordedEvent) -> Self {
        Self {
            event_id: event.event_id,
            correlation_id: event.metadata.correlation_id,
        }
    }
}

impl Core {
    pub fn new(store: PgEventStore, clock: std::sync::Arc<dyn Clock>) -> Self {
        Self {
            conversations: CommandService::new(store.clone(), 1_000),
            facts: Facts::new(store.clone()),
            store,
            clock,
        }
    }

    /// Reacts to one event of the log. Returns the earliest due time of
    /// clocks it saw started, so the timer can wake for it.
    ///
    /// Safe to call again for the same event, from any process: every
    /// command carries an id derived from the event, so nothing is
    /// appended twice.
    ///
    /// # Errors
    ///
    /// A store failure: the event should be reacted to again later.
    pub async fn react(&self, event: &RecordedEvent) -> anyhow::Result<Option<DateTime<Utc>>> {
        match event.stream.category() {
            "conversation" => self.react_in_conversation(event).await,
            "visitor" => {
                self.react_to_visitor(event).await?;
                Ok(None)
            }
            "site" => {
                // Policies or hours changed: read them again when needed.
                self.facts.forget(event.metadata.site_id);
                Ok(None)
            }
            _ => Ok(None),
        }
    }

    async fn react_in_conversation(&self, event: &RecordedEvent) -> anyhow::Result<Option<DateTime<Utc>>> {
        let decoded = match event.decode::<ConversationEvent>() {
            Ok(decoded) => decoded,
            Err(error) => {
                tracing::warn!(%error, position = event.position, "SLA engine skips an undecodable event");
                return Ok(None);
            }
        };
        let Some(conversation) = stream_uuid(&event.stream) else {
            return Ok(None);
        };
        match decoded {
            ConversationEvent::SlaApplied(applied) => Ok(applied.targets.iter().map(|t| t.due_at).min()),
            ConversationEvent::Opened(_) => {
                self.apply_policy(conversation, event, Cause::of(event)).await?;
                Ok(None)
            }
            ConversationEvent::Assigned(a) if matches!(a.assignee, Assignee::Team { .. }) => {
                self.apply_policy(conversation, event, Cause::of(event)).await?;
                Ok(None)
            }
            ConversationEvent::MessagePosted(m) if matches!(m.author, Author::Bot { .. } | Author::System) => Ok(None),
            ConversationEvent::StatusChanged(s) if s.to != ConversationStatus::Done => Ok(None),
            ConversationEvent::MessagePosted(_) | ConversationEvent::StatusChanged(_) => {
                let Some(history) = self.history(conversation).await? else {
                    return Ok(None);
                };
                match history.entry(event.stream_version).map(|e| e.mark) {
                    Some(Mark::HumanReply | Mark::Done) => self.settle_by(&history, event).await?,
                    Some(Mark::VisitorMessage) => self.start_next_response(&history, event).await?,
                    _ => {}
                }
                Ok(None)
            }
            _ => Ok(None),
        }
    }

    /// A visitor tagged with new labels: their open conversations may now
    /// match another policy.
    async fn react_to_visitor(&self, event: &RecordedEvent) -> anyhow::Result<()> {
        let Ok(VisitorEvent::Tagged(tagged)) = event.decode::<VisitorEvent>() else {
            return Ok(());
        };
        if tagged.tag.labels.is_none() {
            return Ok(());
        }
        let Some(visitor) = stream_uuid(&event.stream) else {
            return Ok(());
        };
        let pool = self.store.pool();
        for conversation in livedesk_projections::automation::open_conversations_of_visitor(pool, visitor).await? {
            self.apply_policy(conversation, event, Cause::of(event)).await?;
        }
        Ok(())
    }

    /// Applies the first matching policy's opening clocks (first response,
    /// resolution), counted from the opening, unless that policy already
    /// applies. Targets already fulfilled or breached are left alone; a
    /// policy with no opening target, or hours that give no due time,
    /// start nothing.
    async fn apply_policy(&self, conversation: Uuid, trigger: &RecordedEvent, cause: Cause) -> anyhow::Result<()> {
        let Some(history) = self.history(conversation).await? else {
            return Ok(());
        };
        let Some((policy, hours)) = self.policy_for(&history).await? else {
            return Ok(());
        };
        if history.opening_policies().any(|id| id == policy.id) {
            return Ok(());
        }
        let targets: Vec<SlaDue> = match policy.due_times(history.opened.at, &hours) {
            Ok(targets) => targets.into_iter().filter(|t| !history.settled(t.target)).collect(),
            Err(error) => {
                tracing::warn!(%error, %conversation, policy = %policy.id.0, "no SLA due time: the clock is not started");
                return Ok(());
            }
        };
        if targets.is_empty() {
            return Ok(());
        }
        let at = trigger.decode::<ConversationEvent>().map_or_else(
            |_| {
                trigger
                    .decode::<VisitorEvent>()
                    .map_or(trigger.recorded_at, |v| visitor_event_at(&v))
            },
            |e| e.at(),
        );
        let command = ConversationCommand::ApplySla {
            policy_id: policy.id,
            targets,
            at,
        };
        let id = derived("sla.apply", &[trigger.event_id, conversation]);
        self.post(conversation, history.opened.site_id.0, command, id, cause)
            .await
    }

    /// The first visitor message since the last human reply starts a
    /// next-response clock, if the matching policy sets that target.
    async fn start_next_response(&self, history: &History, event: &RecordedEvent) -> anyhow::Result<()> {
        if !history.starts_next_response(event.stream_version) {
            return Ok(());
        }
        let Some(entry) = history.entry(event.stream_version).copied() else {
            return Ok(());
        };
        let Some((policy, hours)) = self.policy_for(history).await? else {
            return Ok(());
        };
        let due = match policy.next_response_due(entry.at, &hours) {
            Ok(Some(due)) => due,
            Ok(None) => return Ok(()),
            Err(error) => {
                tracing::warn!(%error, policy = %policy.id.0, "no next-response due time: the clock is not started");
                return Ok(());
            }
        };
        let command = ConversationCommand::ApplySla {
            policy_id: policy.id,
            targets: vec![due],
            at: entry.at,
        };
        let conversation = history.state.id.0;
        let id = derived("sla.next", &[event.event_id]);
        self.post(conversation, history.opened.site_id.0, command, id, Cause::of(event))
            .await
    }

    /// The first policy of the site matching the conversation now, with
    /// the site's hours.
    async fn policy_for(&self, history: &History) -> anyhow::Result<Option<(SlaPolicy, BusinessHours)>> {
        let site = self.facts.site(history.opened.site_id.0).await?;
        let site = &site.config;
        if site.sla_policies.is_empty() {
            return Ok(None);
        }
        let labels = self.facts.labels(history.opened.visitor_id.0).await?;
        let page_path = match history.opened.session_id {
            Some(session) => self.facts.page_path(session.0, history.opened_position).await?,
            None => None,
        };
        let facts = SlaFacts {
            provider: history.opened.provider,
            visitor_labels: &labels,
            team: history.team(),
            page_path: page_path.as_deref(),
        };
        let hours = BusinessHours::or_always_open(site.business_hours.as_ref()).into_owned();
        Ok(matching_policy(&site.sla_policies, &facts).map(|p| (p.clone(), hours)))
    }

    /// The conversation's whole stream, folded.
    pub(super) async fn history(&self, conversation: Uuid) -> anyhow::Result<Option<History>> {
        let stream = StreamName::for_id(Conversation::CATEGORY, conversation)?;
        let mut events = Vec::new();
        loop {
            let from = events.len() as u64;
            let page = self.store.read_stream(&stream, from, Direction::Forward, PAGE).await?;
            let done = page.len() < PAGE;
            events.extend(page);
            if done {
                break;
            }
        }
        match History::fold(&events) {
            Ok(history) => Ok(history),
            Err(error) => {
                tracing::warn!(%error, %conversation, "SLA engine cannot read a conversation; skipping it");
                Ok(None)
            }
        }
    }
}

fn visitor_event_at(event: &VisitorEvent) -> DateTime<Utc> {
    match event {
        VisitorEvent::FirstSeen(e) => e.at,
        VisitorEvent::Tagged(e) => e.at,
        VisitorEvent::AdditionalInfoSet(e) => e.at,
        VisitorEvent::Reset(e) => e.at,
    }
}

/// The id of a `category-{uuid}` stream; `None` (logged) for another
/// shape, which no aggregate writes.
fn stream_uuid(stream: &StreamName) -> Option<Uuid> {
    let id = Uuid::parse_str(stream.id()).ok();
    if id.is_none() {
        tracing::warn!(%stream, "SLA engine skips an event of a stream without a uuid");
    }
    id
}
