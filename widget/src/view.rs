//! What the widget shows: messages with their author's label, and who is
//! handling the conversation. Shared by HTTP answers and the WebSocket.

use chrono::{DateTime, Utc};
use livedesk_domain::conversation::{Attachment, Author, MessagePosted};
use livedesk_domain::people::AgentRef;
use livedesk_projections::read::MessageRow;
use serde::Serialize;
use uuid::Uuid;

/// The label of a human agent's messages: `Live agent · {display name}`.
pub fn agent_label(display_name: &str) -> String {
    format!("Live agent · {display_name}")
}

/// Who wrote a message, as the visitor sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuthorView {
    /// `visitor`, `agent`, `assistant` or `system`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The agent's display name or the assistant's name.
    pub name: Option<String>,
    /// What to show on the message: `Live agent · Ana`, the assistant's
    /// label, `You`, or `Livedesk`.
    pub label: String,
}

/// A message as the visitor sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageView {
    /// The message.
    pub id: Uuid,
    /// Its conversation.
    pub conversation_id: Uuid,
    /// The text.
    pub body: String,
    /// `[{"kind", "reference"}]`.
    pub attachments: Vec<Attachment>,
    /// Who wrote it.
    pub author: AuthorView,
    /// The sender's id for it, if any.
    pub client_message_id: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

/// Who is answering the visitor now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HandledBy {
    /// `agent` (a human took over) or `assistant`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The agent's display name, or the assistant's name.
    pub name: String,
    /// The badge: `Live agent · Ana`, or the assistant's label.
    pub label: String,
}

/// Labels that depend on configuration.
#[derive(Debug, Clone)]
pub struct Labels {
    /// The bot name the built-in assistant posts under.
    pub assistant_name: String,
    /// What visitors see on its messages.
    pub assistant_label: String,
}

impl Labels {
    /// The badge for a conversation held by `holder` (or by the assistant).
    pub fn handled_by(&self, holder: Option<&AgentRef>) -> HandledBy {
        match holder {
            Some(agent) => HandledBy {
                kind: "agent",
                name: agent.display_name.clone(),
                label: agent_label(&agent.display_name),
            },
            None => HandledBy {
                kind: "assistant",
                name: self.assistant_name.clone(),
                label: self.assistant_label.clone(),
            },
        }
    }

    fn author(&self, kind: &str, name: Option<String>) -> AuthorView {
        match kind {
            "visitor" => AuthorView {
                kind: "visitor",
                name: None,
                label: "You".into(),
            },
            "agent" => AuthorView {
                kind: "agent",
                label: agent_label(name.as_deref().unwrap_or("Agent")),
                name,
            },
            "bot" => {
                let label = match name.as_deref() {
                    Some(n) if n == self.assistant_name => self.assistant_label.clone(),
                    Some(n) => n.to_owned(),
                    None => self.assistant_label.clone(),
                };
                AuthorView {
                    kind: "assistant",
                    name,
                    label,
                }
            }
            _ => AuthorView {
                kind: "system",
                name: None,
                label: "Livedesk".into(),
            },
        }
    }

    /// A message just posted.
    pub fn posted(&self, conversation_id: Uuid, m: &MessagePosted) -> MessageView {
        let (kind, name) = match &m.author {
            Author::Visitor { .. } => ("visitor", None),
            Author::Agent { agent } => ("agent", Some(agent.display_name.clone())),
            Author::Bot { name } => ("bot", Some(name.clone())),
            Author::System => ("system", None),
        };
        MessageView {
            id: m.message_id.0,
            conversation_id,
            body: m.body.clone(),
            attachments: m.attachments.clone(),
            author: self.author(kind, name),
            client_message_id: m.client_message_id.clone(),
            at: m.at,
        }
    }

    /// A transcript row (never a note: callers read without notes).
    pub fn row(&self, row: MessageRow) -> MessageView {
        MessageView {
            id: row.message_id,
            conversation_id: row.conversation_id,
            author: self.author(&row.author_type, row.author_name),
            body: row.body,
            attachments: serde_json::from_value(row.attachments).unwrap_or_default(),
            client_message_id: row.client_message_id,
            at: row.at,
        }
    }
}
