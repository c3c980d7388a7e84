//! The in-memory adapter: for domain-level tests and examples only.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::Utc;
use livedesk_domain::{NewEvent, RecordedEvent, StreamName};
use tokio::sync::watch;
use uuid::Uuid;

use crate::{AppendResult, Direction, EventStore, EventStream, ExpectedVersion, Filter, Limits, StoreError};

/// An [`EventStore`] held in process memory. Lost on exit; never use it
/// where a real PostgreSQL belongs.
#[derive(Debug, Clone)]
pub struct MemoryEventStore {
    inner: Arc<Mutex<Log>>,
    head: watch::Sender<u64>,
    limits: Limits,
}

#[derive(Debug, Default)]
struct Log {
    /// `events[i].position == i + 1`.
    events: Vec<RecordedEvent>,
    streams: HashMap<StreamName, Vec<usize>>,
    event_ids: HashMap<Uuid, usize>,
    commands: HashMap<Uuid, AppendResult>,
}

impl Default for MemoryEventStore {
    fn default() -> Self {
        Self::new(Limits::default())
    }
}

impl MemoryEventStore {
    /// An empty store with `limits`.
    pub fn new(limits: Limits) -> Self {
        Self {
            inner: Arc::default(),
            head: watch::Sender::new(0),
            limits,
        }
    }

    fn log(&self) -> MutexGuard<'_, Log> {
        // A panic while holding the lock cannot leave the log half-written:
        // appends push only after every check passed.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn append_now(
        &self,
        stream: &StreamName,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<AppendResult, StoreError> {
        self.limits.check(stream, &events)?;
        let mut log = self.log();
        let command_id = events[0].metadata.command_id;
        if let Some(first) = command_id.and_then(|id| log.commands.get(&id)) {
            return Ok(AppendResult {
                duplicate: true,
                ..*first
            });
        }
        let stored: Vec<usize> = events
            .iter()
            .filter_map(|e| log.event_ids.get(&e.event_id).copied())
            .collect();
        if !stored.is_empty() {
            if stored.len() < events.len() {
                return Err(StoreError::PartialDuplicate { stream: stream.clone() });
            }
            let first = &log.events[stored[0]];
            let last = &log.events[stored[stored.len() - 1]];
            return Ok(AppendResult {
                first_position: first.position,
                last_position: last.position,
                stream_version: last.stream_version,
                duplicate: true,
            });
        }
        let actual = log
            .streams
            .get(stream)
            .and_then(|v| v.last())
            .map(|&i| log.events[i].stream_version);
        if !expected.accepts(actual) {
            return Err(StoreError::Conflict {
                stream: stream.clone(),
                expected,
                actual,
            });
        }
        let recorded_at = Utc::now();
        let first_version = actual.map_or(0, |v| v + 1);
        let first_position = log.events.len() as u64 + 1;
        for (offset, event) in events.into_iter().enumerate() {
            let index = log.events.len();
            log.event_ids.insert(event.event_id, index);
            log.streams.entry(stream.clone()).or_default().push(index);
            log.events.push(RecordedEvent {
                position: index as u64 + 1,
                stream: stream.clone(),
                stream_version: first_version + offset as u64,
                event_id: event.event_id,
                event_type: event.event_type,
                schema_version: event.schema_version,
                payload: event.payload,
                metadata: event.metadata,
                recorded_at,
            });
        }
        let last = &log.events[log.events.len() - 1];
        let result = AppendResult {
            first_position,
            last_position: last.position,
            stream_version: last.stream_version,
            duplicate: false,
        };
        if let Some(id) = command_id {
            log.commands.insert(id, result);
        }
        self.head.send_replace(result.last_position);
        Ok(result)
    }

    fn read_all_now(&self, after: u64, limit: usize, filter: &Filter) -> Vec<RecordedEvent> {
        let log = self.log();
        let start = usize::try_from(after).unwrap_or(usize::MAX).min(log.events.len());
        log.events[start..]
            .iter()
            .filter(|e| filter.matches(e))
            .take(limit)
            .cloned()
            .collect()
    }
}

impl EventStore for MemoryEventStore {
    async fn append(
        &self,
        stream: &StreamName,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<AppendResult, StoreError> {
        self.append_now(stream, expected, events)
    }

    async fn read_stream(
        &self,
        stream: &StreamName,
        from_version: u64,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let log = self.log();
        let Some(indexes) = log.streams.get(stream) else {
            return Ok(Vec::new());
        };
        let from = usize::try_from(from_version).unwrap_or(usize::MAX);
        let picked: Vec<usize> = match direction {
            Direction::Forward => indexes.iter().skip(from).take(limit).copied().collect(),
            Direction::Backward => {
                let end = from.saturating_add(1).min(indexes.len());
                indexes[..end].iter().rev().take(limit).copied().collect()
            }
        };
        Ok(picked.into_iter().map(|i| log.events[i].clone()).collect())
    }

    async fn read_all(&self, after: u64, limit: usize, filter: &Filter) -> Result<Vec<RecordedEvent>, StoreError> {
        Ok(self.read_all_now(after, limit, filter))
    }

    async fn find_command(&self, command_id: Uuid) -> Result<Option<AppendResult>, StoreError> {
        Ok(self
            .log()
            .commands
            .get(&command_id)
            .map(|r| AppendResult { duplicate: true, ..*r }))
    }

    async fn head(&self) -> Result<u64, StoreError> {
        Ok(*self.head.borrow())
    }

    fn subscribe_all(&self, after: u64, filter: Filter) -> EventStream {
        let store = self.clone();
        let head = self.head.subscribe();
        let state = (store, head, after, filter, std::collections::VecDeque::new());
        Box::pin(futures::stream::unfold(
            state,
            |(store, mut head, mut cursor, filter, mut buffer)| async move {
                loop {
                    if let Some(event) = buffer.pop_front() {
                        return Some((Ok(event), (store, head, cursor, filter, buffer)));
                    }
                    let scanned_to = *head.borrow_and_update();
                    let page = store.read_all_now(cursor, 1000, &filter);
                    match page.last() {
                        Some(last) => {
                            cursor = last.position;
                            buffer.extend(page);
                        }
                        None => {
                            cursor = cursor.max(scanned_to);
                            head.changed().await.ok()?;
                        }
                    }
                }
            },
        ))
    }
}
