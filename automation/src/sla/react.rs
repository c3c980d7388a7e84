//! The engine's reactions to events: start clocks when a conversation
//! opens or its policy-relevant facts change, start a next-response clock
//! on a visitor message after a human reply, settle clocks on a human
//! reply or Done; and the breach of clocks that fell due.

use chrono::{DateTime, Utc};
use livedesk_domain::conversation::{
    Assignee, Conversation, ConversationCommand, ConversationError, ConversationEvent, SlaDue, SlaTarget,
};
use livedesk_domain::sla::{BusinessHours, SlaFacts, SlaPolicy, matching_policy};
use livedesk_domain::visitor::VisitorEvent;
use livedesk_domain::{Actor, Aggregate, Metadata, RecordedEvent, StreamName};
use livedesk_eventstore::{CommandContext, CommandError, CommandService, Direction, EventStore, PgEventStore};
use uuid::Uuid;

use super::facts::Facts;
use super::history::{Applied, CommandKey, History, Mark, Outcome};
use crate::clock::Clock;
use crate::command_id::derived;

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
struct Cause {
    event_id: Uuid,
    correlation_id: Option<Uuid>,
}

impl Cause {
    fn of(event: &RecordedEvent) -> Self {
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
        let conversation = stream_uuid(&event.stream)?;
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
        let visitor = stream_uuid(&event.stream)?;
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

    /// A human reply or Done settles each clock it is the first settling
    /// event of.
    async fn settle_by(&self, history: &History, event: &RecordedEvent) -> anyhow::Result<()> {
        for target in [SlaTarget::FirstResponse, SlaTarget::NextResponse, SlaTarget::Resolution] {
            let Some(clock) = history.clock_before(target, event.stream_version) else {
                continue;
            };
            let settled_here = history
                .settling_event(clock)
                .is_some_and(|e| e.event_id == event.event_id);
            if settled_here {
                self.record(history, clock, Cause::of(event)).await?;
            }
        }
        Ok(())
    }

    /// Ends `clock` as its history says by now, if it has ended.
    async fn record(&self, history: &History, clock: &Applied, cause: Cause) -> anyhow::Result<()> {
        let Some((outcome, key)) = history.outcome(clock, self.clock.now()) else {
            return Ok(());
        };
        let id = match key {
            CommandKey::SettledBy(event) => derived("sla.settle", &[event, target_id(clock.target)]),
            CommandKey::Timer(applied) => derived("sla.breach", &[applied, target_id(clock.target)]),
        };
        let command = match outcome {
            Outcome::Fulfilled { at } => ConversationCommand::FulfilSla {
                target: clock.target,
                at,
            },
            Outcome::Breached { due_at } => ConversationCommand::BreachSla {
                target: clock.target,
                at: due_at,
            },
        };
        let conversation = history.state.id.0;
        self.post(conversation, history.opened.site_id.0, command, id, cause)
            .await
    }

    /// The breach timer's work on one clock from `sla_queue`: ends the
    /// conversation's current clock of `target` if its history says it
    /// has ended by now.
    pub(super) async fn settle_due(&self, conversation: Uuid, target: SlaTarget) -> anyhow::Result<()> {
        let Some(history) = self.history(conversation).await? else {
            return Ok(());
        };
        let Some(clock) = history.current_clock(target).copied() else {
            return Ok(());
        };
        if !history.pending(target) {
            return Ok(());
        }
        let cause = Cause {
            event_id: clock.event_id,
            correlation_id: None,
        };
        self.record(&history, &clock, cause).await
    }

    /// The first policy of the site matching the conversation now, with
    /// the site's hours.
    async fn policy_for(&self, history: &History) -> anyhow::Result<Option<(SlaPolicy, BusinessHours)>> {
        let site = self.facts.site(history.opened.site_id.0).await?;
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
    async fn history(&self, conversation: Uuid) -> anyhow::Result<Option<History>> {
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

    /// Runs `command` as Livedesk (`system`) with the derived `command_id`.
    /// A rejection (the clock was already ended by someone else, the policy
    /// already applies) is not an error.
    async fn post(
        &self,
        conversation: Uuid,
        site: Uuid,
        command: ConversationCommand,
        command_id: Uuid,
        cause: Cause,
    ) -> anyhow::Result<()> {
        let context = CommandContext {
            metadata: Metadata {
                site_id: Some(site),
                actor: Some(Actor::System),
                correlation_id: Some(cause.correlation_id.unwrap_or(cause.event_id)),
                causation_id: Some(cause.event_id),
                command_id: Some(command_id),
            },
        };
        match self.conversations.execute(conversation, command, &context).await {
            Ok(executed) => {
                if !executed.events.is_empty() {
                    tracing::debug!(%conversation, events = executed.events.len(), "SLA engine recorded");
                }
                Ok(())
            }
            Err(CommandError::Rejected(rejection)) => {
                log_rejection(conversation, &rejection);
                Ok(())
            }
            Err(CommandError::Decode {
                stream,
                version,
                reason,
            }) => {
                tracing::warn!(%stream, version, %reason, "SLA engine cannot load a conversation; skipping");
                Ok(())
            }
            Err(error) => Err(anyhow::Error::new(error).context("posting an SLA command")),
        }
    }
}

fn log_rejection(conversation: Uuid, rejection: &ConversationError) {
    match rejection {
        ConversationError::NoPendingSla(_) | ConversationError::SlaNotYetDue { .. } => {
            tracing::debug!(%conversation, %rejection, "SLA clock already ended or not due");
        }
        _ => tracing::warn!(%conversation, %rejection, "SLA command rejected"),
    }
}

/// A stable id for each target, for deriving command ids.
fn target_id(target: SlaTarget) -> Uuid {
    match target {
        SlaTarget::FirstResponse => Uuid::from_u128(1),
        SlaTarget::NextResponse => Uuid::from_u128(2),
        SlaTarget::Resolution => Uuid::from_u128(3),
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

fn stream_uuid(stream: &StreamName) -> anyhow::Result<Uuid> {
    Ok(Uuid::parse_str(stream.id())?)
}
