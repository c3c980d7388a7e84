//! The command service: load, decide, append, and on a conflict decide again.

use std::marker::PhantomData;
use std::num::NonZeroUsize;
use std::sync::Mutex;

use livedesk_domain::{Aggregate, Metadata, NewEvent, StreamName};
use lru::LruCache;
use uuid::Uuid;

use crate::{AppendResult, Direction, EventStore, ExpectedVersion, StoreError};

/// How many times a command is decided again after losing a race.
const MAX_ATTEMPTS: usize = 5;
/// Events read per query while loading a stream.
const LOAD_PAGE: usize = 1000;

/// Who sends a command and why; becomes every event's metadata.
#[derive(Debug, Clone, Default)]
pub struct CommandContext {
    /// Metadata for the events (`command_id` makes retries idempotent).
    pub metadata: Metadata,
}

/// A command that was carried out.
#[derive(Debug, Clone)]
pub struct Executed<E> {
    /// The events it appended; empty when it changed nothing, or when it was
    /// a retry of a command already carried out.
    pub events: Vec<E>,
    /// What the append wrote (`None` when there was nothing to append).
    pub append: Option<AppendResult>,
}

/// Why a command was not carried out.
#[derive(Debug, thiserror::Error)]
pub enum CommandError<E> {
    /// The domain rejected it; nothing was appended.
    #[error(transparent)]
    Rejected(E),
    /// It lost the race for its stream every time it was retried.
    #[error("gave up after {MAX_ATTEMPTS} conflicting attempts: {0}")]
    Conflict(StoreError),
    /// A stored event of the stream could not be decoded.
    #[error("stream {stream} holds an unreadable event at version {version}: {reason}")]
    Decode {
        /// The stream.
        stream: StreamName,
        /// The event's version.
        version: u64,
        /// What is wrong.
        reason: String,
    },
    /// The store failed or refused the events.
    #[error(transparent)]
    Store(StoreError),
}

/// Runs commands of aggregate `A` against a store.
///
/// States are cached by stream (least recently used out): a command on a
/// cached stream decides without reading it, and the append's expected
/// version catches a stale cache, which is then caught up by reading only
/// the newer events. A rejection or a no-op decided on a cached state is
/// confirmed against the stored stream before it is returned.
#[derive(Debug)]
pub struct CommandService<S, A: Aggregate> {
    store: S,
    cache: Mutex<LruCache<StreamName, Loaded<A::State>>>,
    _aggregate: PhantomData<fn() -> A>,
}

#[derive(Debug, Clone, Default)]
struct Loaded<T> {
    /// Version of the last folded event; `None` for an empty stream.
    version: Option<u64>,
    state: T,
}

impl<S: EventStore, A: Aggregate> CommandService<S, A> {
    /// A service caching up to `cache_size` aggregate states.
    pub fn new(store: S, cache_size: usize) -> Self {
        let size = NonZeroUsize::new(cache_size).unwrap_or(NonZeroUsize::MIN);
        Self {
            store,
            cache: Mutex::new(LruCache::new(size)),
            _aggregate: PhantomData,
        }
    }

    /// The store commands are appended to.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The current state of aggregate `id`: the cached state caught up
    /// with the events stored after it (only those are read), or the
    /// whole stream when it is not cached.
    ///
    /// # Errors
    ///
    /// [`CommandError::Store`] or [`CommandError::Decode`].
    pub async fn load(&self, id: Uuid) -> Result<A::State, CommandError<A::Error>> {
        let stream = stream_of::<A>(id)?;
        let start = self.cache_peek(&stream).unwrap_or_default();
        let loaded = self.catch_up(&stream, start).await?;
        let state = loaded.state.clone();
        self.cache_put(stream, loaded);
        Ok(state)
    }

    /// The state of aggregate `id` as this service last saw it (after its
    /// own last command on it, or its last load), without reading the
    /// store: another process may have appended since. `None` when not
    /// cached. For answers that may lag a moment; a decision that must be
    /// current goes through [`execute`](Self::execute) or [`load`](Self::load).
    pub fn cached(&self, id: Uuid) -> Option<A::State> {
        let stream = stream_of::<A>(id).ok()?;
        self.cache_peek(&stream).map(|loaded| loaded.state)
    }

    /// Decides `command` on aggregate `id` and appends its events.
    ///
    /// A retried command (the same `command_id` in `context`) appends
    /// nothing and returns the first append's result.
    ///
    /// # Errors
    ///
    /// [`CommandError::Rejected`] with the domain's reason; the others for
    /// store failures and exhausted retries.
    #[tracing::instrument(skip_all, fields(aggregate = A::CATEGORY, %id))]
    pub async fn execute(
        &self,
        id: Uuid,
        command: A::Command,
        context: &CommandContext,
    ) -> Result<Executed<A::Event>, CommandError<A::Error>> {
        let stream = stream_of::<A>(id)?;
        let cached = self.cache_take(&stream);
        let mut fresh = cached.is_none();
        let mut loaded = match cached {
            Some(loaded) => loaded,
            None => self.catch_up(&stream, Loaded::default()).await?,
        };
        for _ in 0..MAX_ATTEMPTS {
            let events = match A::decide(&loaded.state, command.clone()) {
                Ok(events) => events,
                Err(_) if !fresh => {
                    loaded = self.catch_up(&stream, loaded).await?;
                    fresh = true;
                    continue;
                }
                Err(rejection) => return self.nothing_to_append(stream, loaded, context, Err(rejection)).await,
            };
            if events.is_empty() {
                // A no-op decided on a cached state may be stale too (another
                // service released what this cache still shows as released).
                if !fresh {
                    loaded = self.catch_up(&stream, loaded).await?;
                    fresh = true;
                    continue;
                }
                return self.nothing_to_append(stream, loaded, context, Ok(())).await;
            }
            let envelopes = events
                .iter()
                .map(|e| NewEvent::encode(Uuid::now_v7(), e, context.metadata.clone()))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| {
                    CommandError::Store(StoreError::InvalidEvent {
                        event_id: Uuid::nil(),
                        reason: e.to_string(),
                    })
                })?;
            match self
                .store
                .append(&stream, ExpectedVersion::after(loaded.version), envelopes)
                .await
            {
                Ok(append) if append.duplicate => {
                    return Ok(Executed {
                        events: Vec::new(),
                        append: Some(append),
                    });
                }
                Ok(append) => {
                    let state = events.iter().fold(loaded.state, A::evolve);
                    self.cache_put(
                        stream,
                        Loaded {
                            version: Some(append.stream_version),
                            state,
                        },
                    );
                    return Ok(Executed {
                        events,
                        append: Some(append),
                    });
                }
                Err(StoreError::Conflict { .. }) => {
                    loaded = self.catch_up(&stream, loaded).await?;
                    fresh = true;
                }
                Err(error) => return Err(CommandError::Store(error)),
            }
        }
        Err(CommandError::Conflict(StoreError::Conflict {
            stream,
            expected: ExpectedVersion::after(loaded.version),
            actual: None,
        }))
    }

    /// A command decided on a fresh state that appends nothing: a no-op
    /// (`Ok`) or a rejection. Either way, if the command was carried out
    /// before, this is a retry and gets the first result.
    async fn nothing_to_append(
        &self,
        stream: StreamName,
        loaded: Loaded<A::State>,
        context: &CommandContext,
        decision: Result<(), A::Error>,
    ) -> Result<Executed<A::Event>, CommandError<A::Error>> {
        self.cache_put(stream, loaded);
        if let Some(command_id) = context.metadata.command_id
            && let Some(first) = self.store.find_command(command_id).await.map_err(CommandError::Store)?
        {
            return Ok(Executed {
                events: Vec::new(),
                append: Some(first),
            });
        }
        match decision {
            Ok(()) => Ok(Executed {
                events: Vec::new(),
                append: None,
            }),
            Err(rejection) => Err(CommandError::Rejected(rejection)),
        }
    }

    /// Folds every stored event after `loaded.version` into it.
    async fn catch_up(
        &self,
        stream: &StreamName,
        mut loaded: Loaded<A::State>,
    ) -> Result<Loaded<A::State>, CommandError<A::Error>> {
        loop {
            let from = loaded.version.map_or(0, |v| v + 1);
            let page = self
                .store
                .read_stream(stream, from, Direction::Forward, LOAD_PAGE)
                .await
                .map_err(CommandError::Store)?;
            let done = page.len() < LOAD_PAGE;
            for recorded in &page {
                let event = recorded.decode::<A::Event>().map_err(|e| CommandError::Decode {
                    stream: stream.clone(),
                    version: recorded.stream_version,
                    reason: e.to_string(),
                })?;
                loaded.state = A::evolve(loaded.state, &event);
                loaded.version = Some(recorded.stream_version);
            }
            if done {
                return Ok(loaded);
            }
        }
    }

    fn cache_take(&self, stream: &StreamName) -> Option<Loaded<A::State>> {
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop(stream)
    }

    fn cache_peek(&self, stream: &StreamName) -> Option<Loaded<A::State>> {
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(stream)
            .cloned()
    }

    /// Caches `loaded` unless the cache already holds a newer version (a
    /// command that appended while this caller was reading).
    fn cache_put(&self, stream: StreamName, loaded: Loaded<A::State>) {
        let mut cache = self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if cache
            .peek(&stream)
            .is_some_and(|cached| cached.version > loaded.version)
        {
            return;
        }
        cache.put(stream, loaded);
    }
}

fn stream_of<A: Aggregate>(id: Uuid) -> Result<StreamName, StoreError> {
    Ok(StreamName::for_id(A::CATEGORY, id)?)
}

impl<E> From<StoreError> for CommandError<E> {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}
