//! Identifiers of everything Livedesk keeps apart.
//!
//! Every id is a UUID newtype, so a `SiteId` can never be passed where a
//! `VisitorId` is expected. Ids are made outside the domain (UUID v7 in the
//! command service) and arrive on commands.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! uuid_id {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// The underlying UUID.
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

uuid_id! {
    /// A customer's website: the stream `site-{id}`.
    SiteId;
    /// A person working in the console (agent, supervisor, admin, analyst):
    /// the stream `agent-{id}`.
    AgentId;
    /// A visitor's identity across sessions: the stream `visitor-{id}`.
    VisitorId;
    /// One browsing session, one Live View row: the stream `session-{id}`.
    SessionId;
    /// One chat: the stream `conversation-{id}`.
    ConversationId;
    /// A team of agents within a site.
    TeamId;
    /// A canned answer agents insert with `#shortcut`.
    TextBlockId;
    /// An API token (its hash is stored, never the secret).
    ApiTokenId;
    /// One message or internal note within a conversation.
    MessageId;
    /// A special request in a conversation or a connection request on a
    /// session, so its answer can refer to it.
    RequestId;
    /// An SLA policy of a site.
    SlaPolicyId;
    /// A routing rule of a site.
    RoutingRuleId;
}
