//! `livedesk-bench`: benchmarks of the event store, the command path and the read models.
//!
//! Drops and recreates its own database, applies the migrations, then runs
//! the scenarios (all by default) and prints one table per measurement:
//!
//! - `append`: `PgEventStore::append` against plain one-row `INSERT`s;
//! - `command`: the command service posting messages to conversations;
//! - `delivery`: commit-to-delivery latency to a live subscriber;
//! - `read`: `read_all` over 1,000,000 events;
//! - `export`: `livedesk events export` of one site's 1,000,000 events to
//!   JSONL and CSV files, with peak memory;
//! - `catch-up`: a new integrator reading one site's 1,000,000 events from
//!   position 0 through the `events` subscription of a real server, with
//!   the server's memory and CPU;
//! - `projections`: rebuilding the read models, projection lag, read
//!   queries;
//! - `widget`: memory per idle widget WebSocket and visitor-message-to-agent
//!   latency on one server process (not in the default set: it needs
//!   `ulimit -n` above 11,000 and a few minutes);
//! - `console`: the agent console in headless Chromium against a site of
//!   10,000 conversations and 1,000 live sessions: first load, frames
//!   while scrolling under 50 updates/s, visitor message → agent (not in
//!   the default set: it needs Node.js, Chromium and the built console).
//!
//! `docs/benchmarks.md` records a run.

mod append;
mod catch_up;
mod command;
mod console;
mod cpu;
mod delivery;
mod env;
mod events;
mod export;
mod load;
mod projections;
mod read;
mod table;
mod widget;

use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Parser, ValueEnum};

/// Benchmarks of the Livedesk event store, command path and read models. Drops and recreates the database
/// it is given.
#[derive(Debug, Parser)]
#[command(name = "livedesk-bench")]
struct Cli {
    /// The benchmark database; it is dropped and recreated, so its name must
    /// contain "bench". (Not read from DATABASE_URL on purpose: that one
    /// usually names a database worth keeping.)
    #[arg(
        long,
        env = "LIVEDESK_BENCH_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/livedesk_bench?sslmode=disable"
    )]
    database_url: String,
    /// A smoke run: sizes and durations about 10x smaller.
    #[arg(long)]
    quick: bool,
    /// The assistant of the `widget` scenario's server: `builtin` (every
    /// visitor message gets an answer, as on a real site) or `off` (to see
    /// its share of the cost).
    #[arg(long, default_value = "builtin")]
    widget_assistant: String,
    /// How many of the `widget` scenario's visitors chat (default 1,000,
    /// 100 with `--quick`), each posting every 2 s: raise it to find the
    /// load at which the latency target stops being met.
    #[arg(long)]
    widget_senders: Option<usize>,
    /// Internal: run as the client process of the `widget` scenario.
    #[arg(long, hide = true)]
    widget_clients: bool,
    /// Internal: run as the client process of the `catch-up` scenario.
    #[arg(long, hide = true)]
    catch_up_client: bool,
    /// Which scenarios to run (all but `widget` and `console` when none is named).
    #[arg(value_enum)]
    scenarios: Vec<Scenario>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Scenario {
    Append,
    Command,
    Delivery,
    Read,
    Export,
    CatchUp,
    Projections,
    Widget,
    Console,
}

/// How long and how big: the full run or the `--quick` one.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    /// Untimed run-in before each measured phase.
    pub warmup: Duration,
    /// Length of each measured phase.
    pub measure: Duration,
    /// Events in each pre-filled conversation of the `command` scenario.
    pub long_stream: usize,
    /// Events `read` stores before it reads them back (and `export` and
    /// `catch-up` before they read them).
    pub read_events: u64,
    /// Whether this is the `--quick` smoke run.
    pub quick: bool,
}

impl Scale {
    fn new(quick: bool) -> Self {
        if quick {
            Self {
                warmup: Duration::from_millis(200),
                measure: Duration::from_millis(500),
                long_stream: 100,
                read_events: 100_000,
                quick,
            }
        } else {
            Self {
                warmup: Duration::from_secs(1),
                measure: Duration::from_secs(5),
                long_stream: 1_000,
                read_events: 1_000_000,
                quick,
            }
        }
    }
}

/// The allocator `livedesk` runs with.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if cli.widget_clients {
        return widget::clients::main();
    }
    if cli.catch_up_client {
        return catch_up::client::main();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?;
    runtime.block_on(run(cli))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let started = Instant::now();
    let scale = Scale::new(cli.quick);
    let mut scenarios = cli.scenarios;
    if scenarios.is_empty() {
        scenarios = vec![
            Scenario::Append,
            Scenario::Command,
            Scenario::Delivery,
            Scenario::Read,
            Scenario::Export,
            Scenario::CatchUp,
            Scenario::Projections,
        ];
    }
    scenarios.dedup();

    env::print_machine();
    let (pool, database) = env::fresh_database(&cli.database_url).await?;
    cpu::set_database(&database);
    env::print_postgres(&pool).await?;
    println!(
        "\nrun: {} (warm-up {:?}, measured {:?} per phase), scenarios: {scenarios:?}",
        if scale.quick { "--quick" } else { "full" },
        scale.warmup,
        scale.measure
    );

    for scenario in scenarios {
        let t = Instant::now();
        let cpu = cpu::Snapshot::now();
        match scenario {
            Scenario::Append => append::run(&pool, scale).await.context("scenario append")?,
            Scenario::Command => command::run(&pool, scale).await.context("scenario command")?,
            Scenario::Delivery => delivery::run(&pool, &cli.database_url, scale)
                .await
                .context("scenario delivery")?,
            Scenario::Read => read::run(&pool, scale).await.context("scenario read")?,
            Scenario::Export => export::run(&pool, scale).await.context("scenario export")?,
            Scenario::CatchUp => catch_up::run(&pool, scale).await.context("scenario catch-up")?,
            Scenario::Projections => projections::run(&pool, scale).await.context("scenario projections")?,
            Scenario::Widget => widget::run(&pool, scale, &cli.widget_assistant, cli.widget_senders)
                .await
                .context("scenario widget")?,
            Scenario::Console => console::run(&pool, scale).await.context("scenario console")?,
        }
        println!(
            "\n({scenario:?} took {:.1} s; other processes used {:.0}% of the machine's CPU meanwhile)",
            t.elapsed().as_secs_f64(),
            cpu.other_percent_since()
        );
    }
    pool.close().await;
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "\ntotal: {:.1} s (load average at the end: {})",
        started.elapsed().as_secs_f64(),
        load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
    );
    Ok(())
}
