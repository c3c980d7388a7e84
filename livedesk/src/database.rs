//! Connecting to PostgreSQL, creating the database, applying migrations.

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgPool};

use crate::config::DatabaseConfig;

/// Connects (creating the database if the server lacks it) and applies the
/// embedded migrations.
///
/// # Errors
///
/// One line naming the URL (without its password) and how to start
/// PostgreSQL when the server cannot be reached.
pub async fn connect_and_migrate(config: &DatabaseConfig) -> anyhow::Result<PgPool> {
    let options = PgConnectOptions::from_str(&config.database_url)
        .with_context(|| format!("DATABASE_URL {} is not a PostgreSQL URL", redact(&config.database_url)))?;
    // One plain connection first: it fails fast and with the real cause
    // (refused, bad password, no such database), where a pool would time out.
    match options.connect().await {
        Ok(probe) => _ = probe.close().await,
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("3D000") => create_database(&options).await?,
        Err(e) => return Err(unreachable_error(&config.database_url, &e)),
    }
    let pool = connect(&options, config.db_pool_size)
        .await
        .map_err(|e| unreachable_error(&config.database_url, &e))?;
    livedesk_eventstore::MIGRATOR
        .run(&pool)
        .await
        .context("applying migrations")?;
    tracing::info!(database = %redact(&config.database_url), "database ready");
    Ok(pool)
}

async fn connect(options: &PgConnectOptions, size: u32) -> Result<PgPool, sqlx::Error> {
    PgPoolOptions::new()
        .max_connections(size.max(2))
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options.clone().application_name("livedesk"))
        .await
}

async fn create_database(options: &PgConnectOptions) -> anyhow::Result<()> {
    let name = options.get_database().unwrap_or("livedesk").to_owned();
    let mut admin = options
        .clone()
        .database("postgres")
        .connect()
        .await
        .context("connecting to create the database")?;
    let quoted = format!("\"{}\"", name.replace('"', "\"\""));
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {quoted}")))
        .execute(&mut admin)
        .await
        .with_context(|| format!("creating database {name}"))?;
    tracing::info!(%name, "created database");
    Ok(())
}

fn unreachable_error(url: &str, error: &sqlx::Error) -> anyhow::Error {
    anyhow::anyhow!(
        "cannot reach PostgreSQL at {} ({error}). Start it with `scripts/postgres.sh` (or your own server) \
         or point DATABASE_URL at a running one.",
        redact(url)
    )
}

/// The URL with any password replaced by `***`, for logs and errors.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_never_reach_logs() {
        assert_eq!(
            redact("postgres://ana:s3cret@db:5432/livedesk"),
            "postgres://ana:***@db:5432/livedesk"
        );
        assert_eq!(
            redact("postgres://postgres@127.0.0.1/livedesk"),
            "postgres://postgres@127.0.0.1/livedesk"
        );
    }
}
