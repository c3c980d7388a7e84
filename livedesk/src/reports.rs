//! `livedesk reports transcript | conversations`: the CSV exports of
//! `/reports/transcript.csv` and `/reports/conversations.csv`, written to
//! a file or stdout straight from the database, for operators (no token,
//! like `events export`). The bytes are the API's
//! ([`CsvExport::stream`]), written row by row as the database returns
//! them, so memory stays flat; they show the read models as the
//! projectors (a running server) last updated them.
//!
//! Decisions: the CLI exports a transcript with its internal notes and
//! appends no `TranscriptExported` (there is no agent to name; whoever
//! runs it can read the tables anyway); the conversations report needs
//! `--from` before `--to` but has no longest period.

use std::io::{BufWriter, Write};

use anyhow::{Context, bail};
use futures::StreamExt;
use livedesk_api::reports::CsvExport;
use livedesk_projections::read as reads;
use sqlx::PgPool;

use crate::config::{DatabaseConfig, ReportsCommand};
use crate::database;

/// Bytes buffered before a write reaches the output.
const BUFFER: usize = 64 * 1024;

/// Writes `export` to `out` (through a buffer of its own) and flushes it;
/// returns the number of lines after the header.
///
/// # Errors
///
/// The database's, or an output that cannot be written; what was written
/// before stays written.
pub async fn write<W: Write>(pool: &PgPool, export: &CsvExport, out: W) -> anyhow::Result<u64> {
    let mut out = BufWriter::with_capacity(BUFFER, out);
    let mut chunks = export.stream(pool);
    let mut lines = 0u64;
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.context("reading the read models")?;
        out.write_all(&chunk).context("writing the report")?;
        lines += 1;
    }
    out.into_inner()
        .map_err(|e| e.into_error())
        .and_then(|mut out| out.flush())
        .context("writing the report")?;
    Ok(lines.saturating_sub(1))
}

/// Runs `livedesk reports ...`: checks the request, writes the CSV to
/// `--output` or stdout and a summary line to stderr.
///
/// # Errors
///
/// No such conversation or site, `--from` not before `--to`, an
/// unreachable database, an output that cannot be created or written.
pub async fn command(database: &DatabaseConfig, command: &ReportsCommand) -> anyhow::Result<()> {
    if let ReportsCommand::Conversations { from, to, .. } = command
        && from >= to
    {
        bail!("--from {} is not before --to {}", from.to_rfc3339(), to.to_rfc3339());
    }
    let pool = database::connect_and_migrate(database).await?;
    let (export, output, what) = match command {
        ReportsCommand::Transcript { conversation, output } => {
            if reads::conversation(&pool, *conversation)
                .await
                .context("reading the conversation")?
                .is_none()
            {
                bail!("no conversation {conversation} in this database");
            }
            let export = CsvExport::Transcript {
                conversation: *conversation,
                notes: true,
            };
            (export, output, "messages and notes")
        }
        ReportsCommand::Conversations { site, from, to, output } => {
            let export = CsvExport::conversations(*site, *from, *to).map_err(|e| anyhow::anyhow!(e.message()))?;
            if reads::site(&pool, *site).await.context("reading the site")?.is_none() {
                bail!("no site {site} in this database");
            }
            (export, output, "conversations")
        }
    };
    let (lines, target) = match output {
        Some(path) => {
            let file = std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
            (write(&pool, &export, file).await?, path.display().to_string())
        }
        None => (write(&pool, &export, std::io::stdout()).await?, "stdout".to_owned()),
    };
    eprintln!("wrote {lines} {what} to {target}");
    Ok(())
}
