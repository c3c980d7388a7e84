//! `livedesk events export`: a site's events, in position order, as JSON
//! Lines or CSV, in constant memory.
//!
//! The log is read with `read_all` a page at a time and each page is
//! written out before the one after the next is asked for (the next page
//! is read while the current one is written), so at most two pages are
//! held whatever the log's size. The export ends at the head of the log as
//! it was when the export started: events appended meanwhile are left for
//! the next export.
//!
//! `from` and `to` bound `recorded_at` (`from` inclusive, `to` exclusive)
//! and are checked on every event, to the end of the log: positions follow
//! `recorded_at` only as closely as the database clock does (it can be set
//! back), so stopping at the first event at or after `to` could leave out
//! a later event from inside the window. A narrow window therefore still
//! reads the site's whole log.

mod encode;

use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use livedesk_domain::site::Site;
use livedesk_domain::{Aggregate, RecordedEvent, StreamName};
use livedesk_eventstore::{Direction, EventStore, Filter, PgEventStore, PgStoreConfig};
use uuid::Uuid;

use crate::config::{DatabaseConfig, ExportArgs};
use crate::database;

pub use encode::CSV_HEADER;

/// Events asked for per `read_all`.
pub const PAGE: usize = 10_000;

/// Bytes buffered before a write reaches the output.
const BUFFER: usize = 256 * 1024;

/// The output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// JSON Lines: one envelope object per line, the payload as stored.
    Jsonl,
    /// CSV (RFC 4180) with a header row, the payload as JSON text.
    Csv,
}

/// What to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    /// The site whose events are written.
    pub site: Uuid,
    /// Only events recorded at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Only events recorded before this instant.
    pub to: Option<DateTime<Utc>>,
    /// JSON Lines or CSV.
    pub format: Format,
}

impl Request {
    fn wants(&self, event: &RecordedEvent) -> bool {
        self.from.is_none_or(|from| event.recorded_at >= from) && self.to.is_none_or(|to| event.recorded_at < to)
    }
}

/// What an export wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Events written.
    pub events: u64,
    /// From the first read to the last byte flushed.
    pub elapsed: Duration,
}

impl Summary {
    /// Events written per second.
    pub fn per_second(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Writes the events of `request.site` stored when it starts, in position
/// order, to `out` (through a buffer of its own), and flushes it.
///
/// # Errors
///
/// A store that cannot be read, or an output that cannot be written; what
/// was written before stays written.
pub async fn run<S: EventStore, W: Write>(store: &S, request: &Request, out: W) -> anyhow::Result<Summary> {
    let started = Instant::now();
    let mut out = BufWriter::with_capacity(BUFFER, out);
    let head = store.head().await.context("reading the head of the log")?;
    let filter = Filter {
        site_id: Some(request.site),
        ..Filter::all()
    };
    if request.format == Format::Csv {
        out.write_all(CSV_HEADER.as_bytes()).context("writing the export")?;
    }
    let mut events = 0;
    let mut page = read_page(store, 0, &filter).await?;
    loop {
        let last = page.last().map_or(head, |e| e.position);
        let next = (!page.is_empty() && last < head).then(|| {
            let (store, filter) = (store.clone(), filter.clone());
            tokio::spawn(async move { read_page(&store, last, &filter).await })
        });
        for event in page
            .iter()
            .take_while(|e| e.position <= head)
            .filter(|e| request.wants(e))
        {
            match request.format {
                Format::Jsonl => encode::jsonl(&mut out, event),
                Format::Csv => encode::csv(&mut out, event),
            }
            .context("writing the export")?;
            events += 1;
        }
        let Some(next) = next else { break };
        page = next.await.context("reading the log")??;
    }
    out.into_inner()
        .map_err(|e| e.into_error())
        .and_then(|mut out| out.flush())
        .context("writing the export")?;
    Ok(Summary {
        events,
        elapsed: started.elapsed(),
    })
}

async fn read_page<S: EventStore>(store: &S, after: u64, filter: &Filter) -> anyhow::Result<Vec<RecordedEvent>> {
    store
        .read_all(after, PAGE, filter)
        .await
        .with_context(|| format!("reading the log after position {after}"))
}

/// Runs `livedesk events export`: checks the request, writes the export to
/// `--output` or stdout and prints a summary line on stderr.
///
/// # Errors
///
/// `--from` not before `--to`, no such site, an unreachable database, an
/// output that cannot be created or written.
pub async fn command(database: &DatabaseConfig, args: &ExportArgs) -> anyhow::Result<()> {
    let request = Request {
        site: args.site,
        from: args.from,
        to: args.to,
        format: args.format,
    };
    if let (Some(from), Some(to)) = (request.from, request.to)
        && from >= to
    {
        bail!("--from {} is not before --to {}", from.to_rfc3339(), to.to_rfc3339());
    }
    let pool = database::connect_and_migrate(database).await?;
    let store = PgEventStore::new(pool, PgStoreConfig::default());
    let site_stream = StreamName::for_id(Site::CATEGORY, request.site).context("site stream name")?;
    let site = store
        .read_stream(&site_stream, 0, Direction::Forward, 1)
        .await
        .context("reading the site")?;
    if site.is_empty() {
        bail!("no site {} in this database", request.site);
    }
    let (summary, target) = match &args.output {
        Some(path) => (run(&store, &request, create(path)?).await?, path.display().to_string()),
        None => (run(&store, &request, std::io::stdout()).await?, "stdout".to_owned()),
    };
    eprintln!(
        "exported {} events of site {} to {target} in {:.2} s ({:.0} events/s)",
        summary.events,
        request.site,
        summary.elapsed.as_secs_f64(),
        summary.per_second()
    );
    Ok(())
}

fn create(path: &Path) -> anyhow::Result<std::fs::File> {
    std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))
}

/// Parses an RFC 3339 instant (`2026-01-31T12:00:00Z`, `...+01:00`) for
/// `--from` and `--to`.
///
/// # Errors
///
/// A message naming the expected form.
pub fn parse_instant(value: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("{e}; expected an RFC 3339 instant such as 2026-01-31T12:00:00Z"))
}

#[cfg(test)]
mod tests {
    use super::parse_instant;

    #[test]
    fn instants_need_a_date_a_time_and_an_offset() {
        assert_eq!(
            parse_instant("2026-01-31T13:00:00+01:00").map(|t| t.to_rfc3339()),
            Ok("2026-01-31T12:00:00+00:00".to_owned())
        );
        assert!(parse_instant("2026-01-31").is_err());
        assert!(parse_instant("yesterday").is_err());
        assert!(parse_instant("2026-01-31T12:00:00").is_err());
    }
}
