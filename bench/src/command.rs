//! Scenario `command`: the full command path (load, decide, append) of
//! `CommandService<PgEventStore, Conversation>`, posting visitor messages
//! to conversations on fresh streams and on streams of 1,000 events.

use std::sync::{Arc, Mutex, PoisonError};

use anyhow::Context;
use chrono::Utc;
use futures::future::try_join_all;
use livedesk_domain::conversation::{Conversation, ConversationCommand, ConversationState, Provider};
use livedesk_domain::{Aggregate, ConversationId, MessageId, Metadata, NewEvent, SiteId, StreamName, VisitorId};
use livedesk_eventstore::{CommandContext, CommandService, EventStore, ExpectedVersion, PgEventStore, PgStoreConfig};
use sqlx::PgPool;
use uuid::Uuid;

use crate::load::{Measured, drive, steady};
use crate::table::{Table, ms, rate};
use crate::{Scale, env, events};

const CALLERS: [usize; 3] = [1, 8, 32];
/// Pre-filled conversations of the long-stream runs.
const LONG_CONVERSATIONS: usize = 64;
/// A warm service caches every conversation of a run.
const WARM_CACHE: usize = 10_000;
/// In the fresh-stream run a caller opens a new conversation every this
/// many commands (the open counts as a command).
const COMMANDS_PER_CONVERSATION: u64 = 10;

type Service = CommandService<PgEventStore, Conversation>;

/// One conversation: its id, site and visitor.
#[derive(Debug, Clone, Copy)]
struct Chat {
    id: Uuid,
    site: Uuid,
    visitor: Uuid,
}

impl Chat {
    fn new(n: u64) -> Self {
        Self {
            id: Uuid::now_v7(),
            site: events::site(n),
            visitor: Uuid::now_v7(),
        }
    }

    fn open_command(&self) -> ConversationCommand {
        ConversationCommand::open(
            ConversationId::from(self.id),
            SiteId::from(self.site),
            VisitorId::from(self.visitor),
            None,
            Provider::WebChat,
            Utc::now(),
        )
    }

    fn post_command(&self) -> ConversationCommand {
        let message = MessageId::from(Uuid::now_v7());
        ConversationCommand::post_visitor_message(message, VisitorId::from(self.visitor), events::BODY, Utc::now())
    }

    /// What the widget API would pass: site, visitor, a correlation id and
    /// a command id (so that retries are idempotent).
    fn context(&self) -> CommandContext {
        CommandContext {
            metadata: Metadata {
                command_id: Some(Uuid::now_v7()),
                ..events::visitor_metadata(self.site, self.visitor)
            },
        }
    }

    async fn execute(&self, service: &Service, command: ConversationCommand) -> anyhow::Result<u64> {
        let executed = service
            .execute(self.id, command, &self.context())
            .await
            .with_context(|| format!("command on conversation {}", self.id))?;
        Ok(executed.events.len() as u64)
    }
}

pub async fn run(pool: &PgPool, scale: Scale) -> anyhow::Result<()> {
    println!(
        "\n## command\n\n`CommandService<PgEventStore, Conversation>::execute` (load or take the cached state, \
         decide, append with the expected version), store with `PgStoreConfig::default()`. Every command carries a \
         command id. Fresh streams: each caller opens its own conversation and posts {} messages to it, then opens \
         the next (opens are counted). Long streams: {LONG_CONVERSATIONS} conversations pre-filled with {} events \
         each (a fresh set per row); each caller posts round-robin to its own share of them.",
        COMMANDS_PER_CONVERSATION - 1,
        scale.long_stream
    );
    let store = PgEventStore::new(pool.clone(), PgStoreConfig::default());
    let mut table = Table::new(
        "command: post a visitor message",
        &[
            "streams",
            "callers",
            "commands/s",
            "p50 ms",
            "p99 ms",
            "max ms",
            "other CPU",
        ],
    );
    let mut add = |label: &str, callers: usize, m: &Measured| {
        table.row(vec![
            label.to_owned(),
            callers.to_string(),
            rate(m.ops_per_s()),
            ms(m.p50()),
            ms(m.p99()),
            ms(m.max()),
            m.other(),
        ]);
    };
    for callers in CALLERS {
        let (m, ()) = steady(|| fresh(&store, callers, scale)).await?;
        add("fresh", callers, &m);
    }
    let long = format!("{} events, cached", scale.long_stream);
    for callers in CALLERS {
        let (m, ()) = steady(|| long_streams(&store, callers, WARM_CACHE, scale)).await?;
        add(&long, callers, &m);
    }
    let cold = format!("{} events, cold (cache 1)", scale.long_stream);
    for callers in CALLERS {
        let (m, ()) = steady(|| long_streams(&store, callers, 1, scale)).await?;
        add(&cold, callers, &m);
    }
    table.print();
    Ok(())
}

/// Each caller opens a conversation, posts to it, and opens the next.
async fn fresh(store: &PgEventStore, callers: usize, scale: Scale) -> anyhow::Result<(Measured, ())> {
    env::settle(store.pool()).await?;
    let service = Arc::new(Service::new(store.clone(), WARM_CACHE));
    let current: Arc<Vec<Mutex<Chat>>> = Arc::new((0..callers).map(|w| Mutex::new(Chat::new(w as u64))).collect());
    drive(callers, scale, move |worker, iteration| {
        let (service, current) = (service.clone(), current.clone());
        async move {
            let slot = &current[worker];
            if iteration.is_multiple_of(COMMANDS_PER_CONVERSATION) {
                let chat = Chat::new(worker as u64);
                *slot.lock().unwrap_or_else(PoisonError::into_inner) = chat;
                chat.execute(&service, chat.open_command()).await
            } else {
                let chat = *slot.lock().unwrap_or_else(PoisonError::into_inner);
                chat.execute(&service, chat.post_command()).await
            }
        }
    })
    .await
    .map(|m| (m, ()))
}

/// Callers post to pre-filled conversations through a service caching
/// `cache_size` states; caller `w` owns conversations `w, w + callers, ...`.
async fn long_streams(
    store: &PgEventStore,
    callers: usize,
    cache_size: usize,
    scale: Scale,
) -> anyhow::Result<(Measured, ())> {
    let chats = prefill(store, scale.long_stream).await?;
    let service = Arc::new(Service::new(store.clone(), cache_size));
    // Load every conversation once, as a service that has been running would have.
    try_join_all(chats.iter().map(|chat| chat.execute(&service, chat.post_command()))).await?;
    env::settle(store.pool()).await?;
    let chats = Arc::new(chats);
    let share = (LONG_CONVERSATIONS / callers).max(1);
    drive(callers, scale, move |worker, iteration| {
        let (service, chats) = (service.clone(), chats.clone());
        async move {
            let index = (worker + (iteration as usize % share) * callers) % chats.len();
            let chat = chats[index];
            chat.execute(&service, chat.post_command()).await
        }
    })
    .await
    .map(|m| (m, ()))
}

/// [`LONG_CONVERSATIONS`] conversations holding `length` events each: an
/// open and visitor messages, decided by the domain and appended 100 at a
/// time.
async fn prefill(store: &PgEventStore, length: usize) -> anyhow::Result<Vec<Chat>> {
    let chats: Vec<Chat> = (0..LONG_CONVERSATIONS).map(|n| Chat::new(n as u64)).collect();
    try_join_all(chats.iter().map(|chat| fill_one(store, *chat, length))).await?;
    Ok(chats)
}

async fn fill_one(store: &PgEventStore, chat: Chat, length: usize) -> anyhow::Result<()> {
    let stream = StreamName::for_id(Conversation::CATEGORY, chat.id)?;
    let metadata = events::visitor_metadata(chat.site, chat.visitor);
    let mut state = ConversationState::default();
    let mut pending = Vec::new();
    let mut version: Option<u64> = None;
    for n in 0..length {
        let command = if n == 0 {
            chat.open_command()
        } else {
            chat.post_command()
        };
        let decided = Conversation::decide(&state, command).context("pre-fill: the domain rejected a command")?;
        for event in &decided {
            pending.push(NewEvent::encode(Uuid::now_v7(), event, metadata.clone())?);
        }
        state = decided.iter().fold(state, Conversation::evolve);
        if pending.len() >= 100 || n + 1 == length {
            let appended = store
                .append(&stream, ExpectedVersion::after(version), std::mem::take(&mut pending))
                .await
                .context("pre-fill append")?;
            version = Some(appended.stream_version);
        }
    }
    Ok(())
}
