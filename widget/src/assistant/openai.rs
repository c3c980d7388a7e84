//! An OpenAI-compatible chat-completions endpoint as a responder. The
//! site's text blocks go into the system prompt; the model is told to say
//! when it does not know and to end such replies with `[HUMAN]`, which
//! asks for a human.

use std::fmt::Write;
use std::time::Duration;

use futures::future::BoxFuture;
use serde::Deserialize;
use serde_json::json;

use super::{Answer, Question, Responder, ResponderError};

/// The marker the model appends when a human should take over.
pub const HAND_OVER_MARKER: &str = "[HUMAN]";
/// How long one completion may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// The adapter (posts as `bot:assistant`).
pub struct OpenAi {
    client: reqwest::Client,
    url: String,
    model: String,
    key: Option<String>,
}

impl std::fmt::Debug for OpenAi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAi")
            .field("url", &self.url)
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Deserialize)]
struct Completion {
    choices: Vec<Choice>,
}

#[derive(Debug, Deserialize)]
struct Choice {
    message: ChoiceMessage,
}

#[derive(Debug, Deserialize)]
struct ChoiceMessage {
    content: Option<String>,
}

impl OpenAi {
    /// The adapter for `url` (the full chat-completions URL), `model` and
    /// `key` (sent as a bearer token when given).
    ///
    /// # Errors
    ///
    /// When the HTTP client cannot be built.
    pub fn new(url: String, model: String, key: Option<String>) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder().timeout(TIMEOUT).build()?;
        Ok(Self {
            client,
            url,
            model,
            key,
        })
    }

    /// The system prompt for `question`'s site.
    pub fn system_prompt(question: &Question) -> String {
        let mut prompt = format!(
            "You are the customer-service assistant of {}. Answer briefly, only from the knowledge below. \
             If the answer is not in it, say honestly that you do not know, and end your reply with {HAND_OVER_MARKER} \
             so that a human colleague is asked to join. Also end with {HAND_OVER_MARKER} when the visitor asks for a person.\n\n\
             Knowledge:\n",
            question.site.name
        );
        for block in question.site.text_blocks.values().filter(|b| !b.removed) {
            let _ = write!(prompt, "\n## {}\n{}\n", block.title, block.body);
        }
        prompt
    }

    fn body(&self, question: &Question) -> serde_json::Value {
        let mut messages = vec![json!({ "role": "system", "content": Self::system_prompt(question) })];
        for turn in &question.history {
            let role = if turn.from_visitor { "user" } else { "assistant" };
            messages.push(json!({ "role": role, "content": turn.text }));
        }
        messages.push(json!({ "role": "user", "content": question.text }));
        json!({ "model": self.model, "messages": messages, "temperature": 0.2 })
    }
}

impl Responder for OpenAi {
    fn name(&self) -> &str {
        "assistant"
    }

    fn respond<'a>(&'a self, question: &'a Question) -> BoxFuture<'a, Result<Answer, ResponderError>> {
        Box::pin(async move {
            let mut request = self.client.post(&self.url).json(&self.body(question));
            if let Some(key) = &self.key {
                request = request.bearer_auth(key);
            }
            let response = request
                .send()
                .await
                .map_err(|e| ResponderError::Unreachable(e.to_string()))?;
            let status = response.status();
            if !status.is_success() {
                return Err(ResponderError::Status(status.as_u16()));
            }
            let completion: Completion = response
                .json()
                .await
                .map_err(|e| ResponderError::Malformed(e.to_string()))?;
            let content = completion
                .choices
                .into_iter()
                .next()
                .and_then(|c| c.message.content)
                .filter(|c| !c.trim().is_empty())
                .ok_or_else(|| ResponderError::Malformed("no message in the first choice".into()))?;
            let hand_over = content.contains(HAND_OVER_MARKER);
            let mut body = content.replace(HAND_OVER_MARKER, "").trim().to_owned();
            if body.is_empty() {
                body = super::builtin::DONT_KNOW.to_owned();
            }
            Ok(Answer { body, hand_over })
        })
    }
}
