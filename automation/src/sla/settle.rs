//! Ending clocks, and posting the engine's commands: what the reactions
//! and the breach timer share.

use livedesk_domain::conversation::{ConversationCommand, ConversationError, SlaTarget};
use livedesk_domain::{Actor, Metadata, RecordedEvent};
use livedesk_eventstore::{CommandContext, CommandError};
use uuid::Uuid;

use super::history::{Applied, CommandKey, History, Outcome};
use super::react::{Cause, Core};
use crate::command_id::derived;

impl Core {
    /// A human reply or Done settles each clock it is the first settling
    /// event of.
    pub(super) async fn settle_by(&self, history: &History, event: &RecordedEvent) -> anyhow::Result<()> {
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
    pub(crate) async fn settle_due(&self, conversation: Uuid, target: SlaTarget) -> anyhow::Result<()> {
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

    /// Runs `command` as Livedesk (`system`) with the derived `command_id`.
    /// A rejection (the clock was already ended by someone else, the policy
    /// already applies) is not an error.
    pub(super) async fn post(
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
