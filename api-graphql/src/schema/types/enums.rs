//! GraphQL enums. Each reads from the snake_case name the read models
//! store (serde) and converts to the domain's enum where commands need it.

use async_graphql::Enum;
use livedesk_domain::agent::{NotificationPreference as DomainPreference, Presence as DomainPresence};
use livedesk_domain::conversation::{
    AttachmentKind as DomainAttachmentKind, ConversationStatus as DomainStatus, SpecialRequestKind as DomainRequestKind,
};
use livedesk_projections::read::InboxOrder;
use serde::{Deserialize, Serialize};

macro_rules! graphql_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vdoc])* $variant),* }
    };
}

graphql_enum! {
    /// The inbox folder of a conversation.
    ConversationStatus {
        /// The visitor wrote last and nobody has answered.
        Unread,
        /// An agent answered; not finished.
        Unresolved,
        /// Finished.
        Done,
    }
}

graphql_enum! {
    /// Which conversations the inbox lists.
    StatusFilter {
        /// Unread only (the default).
        Unread,
        /// Unresolved only.
        Unresolved,
        /// Done only.
        Done,
        /// Every status.
        All,
    }
}

graphql_enum! {
    /// The inbox order.
    ConversationOrder {
        /// Most recently changed first.
        Newest,
        /// Soonest pending SLA due time first; those without one last.
        Sla,
    }
}

graphql_enum! {
    /// Where a conversation came from.
    Provider {
        /// The Livedesk widget.
        WebChat,
        /// A Facebook page.
        Facebook,
        /// An integration.
        Api,
    }
}

graphql_enum! {
    /// Whether the visitor's tab is in front.
    SessionStatus {
        /// Visible.
        Active,
        /// Hidden.
        Idle,
    }
}

graphql_enum! {
    /// The kind of device.
    DeviceClass {
        /// Desktop or laptop.
        Desktop,
        /// Phone.
        Mobile,
        /// Tablet.
        Tablet,
        /// Not recognised.
        Unknown,
    }
}

graphql_enum! {
    /// What a token may do.
    Role {
        /// Everything, settings and tokens included.
        Admin,
        /// Handles conversations and overrules agents.
        Supervisor,
        /// Handles conversations.
        Agent,
        /// Reads; changes nothing.
        Analyst,
        /// An integration (the AI assistant posts through one).
        Integrator,
    }
}

graphql_enum! {
    /// A category of the event log's streams, as history filters and token
    /// scopes name them.
    EventCategory {
        /// `site-{id}`: settings, teams, tokens, text blocks.
        Site,
        /// `agent-{id}`: profiles, presence, roles.
        Agent,
        /// `visitor-{id}`: identities across sessions.
        Visitor,
        /// `session-{id}`: browsing sessions.
        Session,
        /// `conversation-{id}`: chats.
        Conversation,
    }
}

graphql_enum! {
    /// Who wrote a message.
    AuthorType {
        /// The visitor.
        Visitor,
        /// A human agent.
        Agent,
        /// The AI assistant.
        Bot,
        /// Livedesk.
        System,
    }
}

graphql_enum! {
    /// An agent or a team.
    AssigneeKind {
        /// One agent.
        Agent,
        /// A team's queue.
        Team,
    }
}

graphql_enum! {
    /// What an attachment is.
    AttachmentKind {
        /// A knowledge-base article.
        Article,
        /// An image.
        Image,
        /// A video.
        Video,
        /// An audio recording.
        Audio,
        /// Another file.
        File,
        /// An interactive flow.
        Flow,
    }
}

graphql_enum! {
    /// Whether an agent is at the console.
    Presence {
        /// Available.
        Online,
        /// At the console, taking no new conversations.
        Away,
        /// Not there.
        Offline,
    }
}

graphql_enum! {
    /// When an agent is notified.
    NotificationPreference {
        /// On every visitor message.
        EveryMessage,
        /// When a new conversation starts.
        NewConversationsOnly,
        /// Never.
        None,
    }
}

graphql_enum! {
    /// A request an agent sends the visitor.
    SpecialRequestKind {
        /// Co-browsing.
        CoBrowsing,
        /// An audio call.
        AudioCall,
        /// A video call.
        VideoCall,
        /// Share the visitor's desktop.
        RequestDesktop,
        /// Show the agent's screen.
        ShowScreen,
        /// A conference call.
        Conference,
    }
}

graphql_enum! {
    /// What an SLA clock measures.
    SlaTarget {
        /// From opening to the first human reply.
        FirstResponse,
        /// From a visitor message to the next human reply.
        NextResponse,
        /// From opening to Done.
        Resolution,
    }
}

graphql_enum! {
    /// How an SLA clock stands.
    SlaOutcome {
        /// Running.
        Pending,
        /// Met.
        Fulfilled,
        /// Missed.
        Breached,
    }
}

graphql_enum! {
    /// What a notification is about.
    NotificationKind {
        /// A visitor wrote.
        NewMessage,
        /// A visitor started a conversation.
        NewConversation,
    }
}

/// Converts between a GraphQL enum and the domain's enum of the same
/// values (both are snake_case in serde).
pub fn to_domain<T: Serialize, D: serde::de::DeserializeOwned>(value: T) -> D {
    match serde_json::to_value(value).and_then(serde_json::from_value) {
        Ok(domain) => domain,
        Err(error) => unreachable!("enum mirrors the domain: {error}"),
    }
}

impl From<ConversationStatus> for DomainStatus {
    fn from(value: ConversationStatus) -> Self {
        to_domain(value)
    }
}

impl From<AttachmentKind> for DomainAttachmentKind {
    fn from(value: AttachmentKind) -> Self {
        to_domain(value)
    }
}

impl From<SpecialRequestKind> for DomainRequestKind {
    fn from(value: SpecialRequestKind) -> Self {
        to_domain(value)
    }
}

impl From<Presence> for DomainPresence {
    fn from(value: Presence) -> Self {
        to_domain(value)
    }
}

impl From<NotificationPreference> for DomainPreference {
    fn from(value: NotificationPreference) -> Self {
        to_domain(value)
    }
}

impl From<Role> for livedesk_domain::Role {
    fn from(value: Role) -> Self {
        to_domain(value)
    }
}

impl From<livedesk_domain::Role> for Role {
    fn from(value: livedesk_domain::Role) -> Self {
        to_domain(value)
    }
}

impl From<EventCategory> for livedesk_domain::StreamCategory {
    fn from(value: EventCategory) -> Self {
        to_domain(value)
    }
}

impl From<livedesk_domain::StreamCategory> for EventCategory {
    fn from(value: livedesk_domain::StreamCategory) -> Self {
        to_domain(value)
    }
}

impl From<ConversationOrder> for InboxOrder {
    fn from(order: ConversationOrder) -> Self {
        match order {
            ConversationOrder::Newest => Self::Newest,
            ConversationOrder::Sla => Self::Sla,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mirrored_enum_converts_to_the_domain_and_back() {
        for role in [
            Role::Admin,
            Role::Supervisor,
            Role::Agent,
            Role::Analyst,
            Role::Integrator,
        ] {
            let domain: livedesk_domain::Role = role.into();
            assert_eq!(Role::from(domain), role);
        }
        for kind in [SpecialRequestKind::CoBrowsing, SpecialRequestKind::Conference] {
            let _: DomainRequestKind = kind.into();
        }
        for status in [ConversationStatus::Unread, ConversationStatus::Done] {
            let _: DomainStatus = status.into();
        }
        for category in livedesk_domain::StreamCategory::ALL {
            let mirrored: EventCategory = category.into();
            assert_eq!(livedesk_domain::StreamCategory::from(mirrored), category);
        }
        let _: DomainPreference = NotificationPreference::NewConversationsOnly.into();
        let _: DomainPresence = Presence::Away.into();
        let _: DomainAttachmentKind = AttachmentKind::Flow.into();
    }
}
