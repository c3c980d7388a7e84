//! The machine, the PostgreSQL server, and the benchmark database.

use std::str::FromStr;
use std::time::Duration;

use anyhow::{Context, bail};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool};

/// Connections in the shared pool: enough for 32 raw writers plus the
/// store's lanes and a few readers.
pub const POOL_SIZE: u32 = 40;

/// Prints cores, CPU model, memory and load.
pub fn print_machine() {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|m| m.trim_start_matches([' ', '\t', ':']))
        })
        .unwrap_or("unknown");
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_gib = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map_or_else(
            || "unknown".to_owned(),
            |kib| format!("{:.1} GiB", kib / 1024.0 / 1024.0),
        );
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    println!("# livedesk-bench");
    println!(
        "\nmachine: {cores} cores ({model}), {mem_gib} RAM, load average {}",
        load.join(" ")
    );
    println!("date:    {}", chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"));
}

/// Prints the server version and the settings that decide write speed.
pub async fn print_postgres(pool: &PgPool) -> anyhow::Result<()> {
    let version: String = sqlx::query_scalar("SELECT version()").fetch_one(pool).await?;
    println!("postgres: {version}");
    let mut settings = Vec::new();
    for name in [
        "shared_buffers",
        "synchronous_commit",
        "fsync",
        "wal_sync_method",
        "commit_delay",
        "max_connections",
    ] {
        let value: String = sqlx::query_scalar("SELECT current_setting($1)")
            .bind(name)
            .fetch_one(pool)
            .await
            .with_context(|| format!("cannot read setting {name}"))?;
        settings.push(format!("{name}={value}"));
    }
    println!("settings: {}", settings.join(", "));
    let tls: Option<String> =
        sqlx::query_scalar("SELECT version FROM pg_stat_ssl WHERE pid = pg_backend_pid() AND ssl")
            .fetch_optional(pool)
            .await?;
    println!(
        "client connections: {}",
        tls.map_or_else(|| "plain TCP (no TLS)".to_owned(), |v| format!("TLS ({v})"))
    );
    Ok(())
}

/// Drops and recreates the database `url` names, applies the migrations,
/// and returns a pool of [`POOL_SIZE`] connections to it and its name.
pub async fn fresh_database(url: &str) -> anyhow::Result<(PgPool, String)> {
    let options = PgConnectOptions::from_str(url).with_context(|| format!("bad database URL {url}"))?;
    let name = options
        .get_database()
        .context("the database URL names no database")?
        .to_owned();
    if !name.contains("bench") {
        bail!("refusing to drop database {name:?}: the benchmark database's name must contain \"bench\"");
    }
    let admin = options.clone().database("postgres");
    let mut conn = PgConnection::connect_with(&admin).await.with_context(|| {
        format!("cannot connect to PostgreSQL at {url} (is it running? scripts/postgres.sh starts one)")
    })?;
    let quoted = format!("\"{}\"", name.replace('"', "\"\""));
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"
    )))
    .execute(&mut conn)
    .await
    .with_context(|| format!("cannot drop database {name}"))?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {quoted}")))
        .execute(&mut conn)
        .await
        .with_context(|| format!("cannot create database {name}"))?;
    conn.close().await?;
    let pool = pool(&options, POOL_SIZE).await?;
    livedesk_eventstore::MIGRATOR
        .run(&pool)
        .await
        .context("cannot apply the migrations")?;
    println!("database: {name} (dropped, recreated, migrated)");
    Ok((pool, name))
}

/// A pool of `size` connections, all opened up front so that no phase pays
/// for connecting.
pub async fn pool(options: &PgConnectOptions, size: u32) -> anyhow::Result<PgPool> {
    let pool = PgPoolOptions::new()
        .max_connections(size)
        .min_connections(size)
        .acquire_timeout(Duration::from_secs(30))
        .connect_with(options.clone())
        .await
        .context("cannot open the connection pool")?;
    Ok(pool)
}

/// Leaves no work from one phase to the next: vacuums and analyzes every
/// table of the database, then forces a checkpoint, so that autovacuum
/// and a WAL-triggered checkpoint do not land inside the next measurement,
/// and the planner knows the tables' sizes as it would on a server that
/// has run for a while.
pub async fn settle(pool: &PgPool) -> anyhow::Result<()> {
    sqlx::query("VACUUM (ANALYZE)")
        .execute(pool)
        .await
        .context("VACUUM between phases")?;
    sqlx::query("CHECKPOINT")
        .execute(pool)
        .await
        .context("CHECKPOINT between phases")?;
    Ok(())
}

/// A field of `/proc/self/status`, in KiB.
pub fn status_kib(name: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(name))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Creates site `site` ("Bench", widget key `widget_key`) through the
/// command path, as the system; returns the site command service and the
/// context, for the tokens and commands that follow.
pub async fn create_site(
    store: &livedesk_eventstore::PgEventStore,
    site: uuid::Uuid,
    widget_key: &str,
) -> anyhow::Result<(
    livedesk_eventstore::CommandService<livedesk_eventstore::PgEventStore, livedesk_domain::site::Site>,
    livedesk_eventstore::CommandContext,
)> {
    let context = livedesk_eventstore::CommandContext {
        metadata: livedesk_domain::Metadata {
            site_id: Some(site),
            actor: Some(livedesk_domain::Actor::System),
            ..livedesk_domain::Metadata::default()
        },
    };
    let sites = livedesk_eventstore::CommandService::new(store.clone(), 4);
    let create = livedesk_domain::site::SiteCommand::Create {
        site_id: livedesk_domain::SiteId(site),
        name: "Bench".into(),
        allowed_origins: Vec::new(),
        widget_key: widget_key.into(),
        at: chrono::Utc::now(),
    };
    sites
        .execute(site, create, &context)
        .await
        .context("creating the site")?;
    Ok((sites, context))
}
