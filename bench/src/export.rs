//! Scenario `export`: `livedesk events export` (`livedesk::export::run`)
//! of one site's 1,000,000 events, to a file, with the process's peak
//! memory before and after.

use std::io::Write;
use std::time::Duration;

use anyhow::Context;
use livedesk::export::{self, Format, Request, Summary};
use livedesk_eventstore::{PgEventStore, PgStoreConfig};
use sqlx::PgPool;

use crate::table::{Table, rate};
use crate::{Scale, env, events, read};

/// Passes of the JSONL export to a file; the best counts.
const RUNS: usize = 2;

pub async fn run(pool: &PgPool, scale: Scale) -> anyhow::Result<()> {
    let total = scale.read_events;
    let site = events::site(0);
    println!(
        "\n## export\n\n`events` is truncated and filled with {} rows of one site by the `read` scenario's \
         `INSERT ... SELECT generate_series` ({} conversations of {} `MessagePosted` events, interleaved), then \
         `VACUUM ANALYZE` and `CHECKPOINT`. Each pass runs `livedesk::export::run` for the site (pages of {} \
         events through a `BufWriter`). Peak memory is `VmHWM` of this process, reset through \
         `/proc/self/clear_refs` before each pass, against `VmRSS` at its start.",
        rate(total as f64),
        rate((total / read::EVENTS_PER_STREAM) as f64),
        read::EVENTS_PER_STREAM,
        rate(export::PAGE as f64)
    );
    read::fill_sites(pool, total, &[site; 4]).await?;
    env::settle(pool).await?;
    let store = PgEventStore::new(pool.clone(), PgStoreConfig::default());
    let request = |format| Request {
        site,
        from: None,
        to: None,
        format,
    };
    let path = std::env::temp_dir().join(format!("livedesk-bench-export-{}", std::process::id()));

    let mut table = Table::new(
        format!("export: one site's {} events", rate(total as f64)),
        &[
            "pass",
            "seconds",
            "events/s",
            "MiB written",
            "RSS at start (MiB)",
            "peak RSS growth (MiB)",
        ],
    );
    let mut best: Option<Duration> = None;
    for pass in 1..=RUNS {
        let (summary, memory) = measure(|| async {
            let file = std::fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?;
            export::run(&store, &request(Format::Jsonl), file).await
        })
        .await?;
        check(&summary, total)?;
        best = Some(best.map_or(summary.elapsed, |b| b.min(summary.elapsed)));
        table.row(row(
            format!("jsonl to a file, pass {pass}"),
            &summary,
            file_mib(&path),
            memory,
        ));
    }
    let (summary, memory) = measure(|| async {
        let file = std::fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?;
        export::run(&store, &request(Format::Csv), file).await
    })
    .await?;
    check(&summary, total)?;
    table.row(row("csv to a file".into(), &summary, file_mib(&path), memory));
    let mut sink = Counted(0);
    let jsonl = request(Format::Jsonl);
    let (summary, memory) = measure(|| export::run(&store, &jsonl, &mut sink)).await?;
    check(&summary, total)?;
    table.row(row(
        "jsonl to io::sink (no file)".into(),
        &summary,
        sink.0 as f64 / 1_048_576.0,
        memory,
    ));
    _ = std::fs::remove_file(&path);
    table.print();
    if let Some(best) = best {
        println!(
            "\nJSONL to a file, best of {RUNS}: {} events/s (target: at least 200,000 events/s)",
            rate(total as f64 / best.as_secs_f64())
        );
    }
    Ok(())
}

/// The RSS before a pass and how far the peak rose above it, in KiB
/// (`None` when the peak could not be reset and the growth would be
/// measured against an older peak).
#[derive(Debug, Clone, Copy)]
struct Memory {
    rss_before_kib: u64,
    growth_kib: Option<u64>,
}

async fn measure<F, Fut>(pass: F) -> anyhow::Result<(Summary, Memory)>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = anyhow::Result<Summary>>,
{
    // "5" resets VmHWM to the current RSS (Linux 4.0+).
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let rss_before_kib = env::status_kib("VmRSS:").unwrap_or(0);
    let summary = pass().await?;
    let peak = env::status_kib("VmHWM:").unwrap_or(0);
    let memory = Memory {
        rss_before_kib,
        growth_kib: reset.then(|| peak.saturating_sub(rss_before_kib)),
    };
    Ok((summary, memory))
}

fn row(pass: String, summary: &Summary, mib: f64, memory: Memory) -> Vec<String> {
    vec![
        pass,
        format!("{:.2}", summary.elapsed.as_secs_f64()),
        rate(summary.per_second()),
        format!("{mib:.0}"),
        format!("{:.1}", memory.rss_before_kib as f64 / 1024.0),
        memory
            .growth_kib
            .map_or_else(|| "n/a (no reset)".into(), |kib| format!("{:.1}", kib as f64 / 1024.0)),
    ]
}

fn file_mib(path: &std::path::Path) -> f64 {
    std::fs::metadata(path).map_or(0.0, |m| m.len() as f64 / 1_048_576.0)
}

fn check(summary: &Summary, total: u64) -> anyhow::Result<()> {
    anyhow::ensure!(
        summary.events == total,
        "exported {} events, expected {total}",
        summary.events
    );
    Ok(())
}

/// An output that only counts the bytes.
#[derive(Debug)]
struct Counted(u64);

impl Write for Counted {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
