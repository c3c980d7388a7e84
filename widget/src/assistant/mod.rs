//! The AI assistant: a [`Responder`] answers a visitor's message; the
//! [`Assistant`] posts the answer through the same command path as
//! everyone (as `bot:{name}`), so a take-over refuses it, and asks for a
//! human when the responder hands over.
//!
//! Two responders: [`builtin::Builtin`] (keyword and phrase matching over
//! the site's text blocks) and [`openai::OpenAi`] (any OpenAI-compatible
//! chat-completions endpoint).

pub mod builtin;
pub mod openai;

use std::sync::Arc;

use chrono::Utc;
use futures::future::BoxFuture;
use livedesk_domain::conversation::{
    Conversation, ConversationCommand, ConversationError, ConversationState, HumanRequester,
};
use livedesk_domain::site::SiteProfile;
use livedesk_domain::{Actor, Aggregate, MessageId};
use livedesk_eventstore::CommandError;
use livedesk_projections::read;
use uuid::Uuid;

use crate::Widget;
use crate::config::AssistantChoice;
use crate::session::context;
use crate::stats::Stats;

/// Earlier messages given to a responder as context, by default.
const CONTEXT_MESSAGES: usize = 10;

/// One turn of the conversation so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Turn {
    /// Whether the visitor said it (else the assistant or an agent).
    pub from_visitor: bool,
    /// The text.
    pub text: String,
}

/// What a responder is asked.
#[derive(Debug, Clone)]
pub struct Question {
    /// The site, with its text blocks.
    pub site: Arc<SiteProfile>,
    /// Earlier turns, oldest first (the question excluded).
    pub history: Vec<Turn>,
    /// The visitor's message.
    pub text: String,
}

/// A responder's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// What the assistant says.
    pub body: String,
    /// Whether to ask for a human (the responder did not know, or the
    /// visitor asked for one).
    pub hand_over: bool,
}

/// Why a responder gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum ResponderError {
    /// The endpoint could not be reached or timed out.
    #[error("assistant endpoint unreachable: {0}")]
    Unreachable(String),
    /// The endpoint answered with an error status.
    #[error("assistant endpoint answered {0}")]
    Status(u16),
    /// The endpoint's answer had no message.
    #[error("assistant endpoint answered something unreadable: {0}")]
    Malformed(String),
}

/// Something that answers visitors.
pub trait Responder: Send + Sync + std::fmt::Debug {
    /// The bot name its messages are posted under (`bot:{name}`).
    fn name(&self) -> &str;

    /// How many earlier turns it is given with a question
    /// ([`Question::history`]); none are read for a responder that takes
    /// none.
    fn history_turns(&self) -> usize {
        CONTEXT_MESSAGES
    }

    /// Answers `question`.
    ///
    /// # Errors
    ///
    /// [`ResponderError`] when no answer could be had.
    fn respond<'a>(&'a self, question: &'a Question) -> BoxFuture<'a, Result<Answer, ResponderError>>;
}

/// The responder `choice` names, if any.
///
/// # Errors
///
/// When the OpenAI adapter's HTTP client cannot be built.
pub fn responder(choice: &AssistantChoice) -> Result<Option<Arc<dyn Responder>>, String> {
    Ok(match choice {
        AssistantChoice::Off => None,
        AssistantChoice::Builtin => Some(Arc::new(builtin::Builtin)),
        AssistantChoice::OpenAi { url, model, key } => Some(Arc::new(
            openai::OpenAi::new(url.clone(), model.clone(), key.clone()).map_err(|e| e.to_string())?,
        )),
    })
}

/// Up to `turns` messages of `conversation` before the visitor's `text`,
/// oldest first, notes left out.
async fn history(widget: &Widget, conversation: Uuid, turns: usize, text: &str) -> Result<Vec<Turn>, String> {
    let latest = read::latest_messages(&widget.pool, conversation, turns as i64 + 1)
        .await
        .map_err(|e| e.to_string())?;
    let mut history: Vec<Turn> = latest
        .into_iter()
        .filter(|m| !m.internal)
        .map(|m| Turn {
            from_visitor: m.author_type == "visitor",
            text: m.body,
        })
        .filter(|t| !(t.from_visitor && t.text == text))
        .collect();
    let excess = history.len().saturating_sub(turns);
    history.drain(..excess);
    Ok(history)
}

/// Runs a responder on visitors' messages and posts its answers.
#[derive(Debug, Clone)]
pub struct Assistant {
    responder: Arc<dyn Responder>,
}

impl Assistant {
    /// The assistant answering with `responder`.
    pub fn new(responder: Arc<dyn Responder>) -> Self {
        Self { responder }
    }

    /// Answers `text` in `conversation` in the background.
    pub(crate) fn spawn(&self, widget: Widget, site: Arc<SiteProfile>, conversation: Uuid, text: String) {
        let assistant = self.clone();
        tokio::spawn(async move {
            if let Err(error) = assistant.answer(&widget, site, conversation, text).await {
                Stats::add(&widget.stats.assistant_failed);
                tracing::warn!(%error, %conversation, "the assistant could not answer");
            }
        });
    }

    async fn answer(
        &self,
        widget: &Widget,
        site: Arc<SiteProfile>,
        conversation: Uuid,
        text: String,
    ) -> Result<(), String> {
        let name = self.responder.name().to_owned();
        // The cached state (the visitor's post just left it there) says
        // whether to answer at all; the post of the answer decides on the
        // stored stream. Only a pause is confirmed with a read: a release
        // by another process is not in this cache.
        let paused = |state: &ConversationState| matches!(state, ConversationState::Open(c) if !c.ai_may_reply());
        let cached = widget.conversations.cached(conversation);
        if cached.as_ref().is_none_or(paused) {
            let state = widget
                .conversations
                .load(conversation)
                .await
                .map_err(|e| e.to_string())?;
            if paused(&state) {
                Stats::add(&widget.stats.assistant_paused);
                return Ok(());
            }
        }
        let history = match self.responder.history_turns() {
            0 => Vec::new(),
            turns => history(widget, conversation, turns, &text).await?,
        };
        let question = Question {
            site: site.clone(),
            history,
            text,
        };
        let answer = self.responder.respond(&question).await.map_err(|e| e.to_string())?;
        let ctx = context(site.id.0, Actor::Bot(name.clone()));
        let post =
            ConversationCommand::post_bot_message(MessageId(Uuid::now_v7()), name.clone(), answer.body, Utc::now())
                .with_max_body_chars(site.settings.max_message_chars);
        match widget.conversations.execute(conversation, post, &ctx).await {
            Ok(_) => Stats::add(&widget.stats.assistant_replied),
            Err(CommandError::Rejected(ConversationError::BotPausedByTakeOver { .. })) => {
                Stats::add(&widget.stats.assistant_refused);
                return Ok(());
            }
            Err(error) => return Err(error.to_string()),
        }
        if answer.hand_over {
            let ask = ConversationCommand::RequestHuman {
                by: HumanRequester::Bot { name },
                at: Utc::now(),
            };
            if !no_op_after_own_post(widget, conversation, &ask) {
                widget
                    .conversations
                    .execute(conversation, ask, &ctx)
                    .await
                    .map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    }
}

/// Whether `command` changes nothing in the state the assistant's answer
/// just left in the cache (a human already asked for, or holding the
/// conversation). That state is the stream as of the answer's own append,
/// so it needs no confirming read; whatever another process appends after
/// that is concurrent with the request either way.
fn no_op_after_own_post(widget: &Widget, conversation: Uuid, command: &ConversationCommand) -> bool {
    widget
        .conversations
        .cached(conversation)
        .is_some_and(|state| matches!(Conversation::decide(&state, command.clone()), Ok(events) if events.is_empty()))
}
