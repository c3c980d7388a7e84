//! The binary itself, as a user starts it.

use std::process::Command;

#[test]
fn a_database_that_is_down_gives_one_clear_line_not_a_panic() {
    let output = Command::new(env!("CARGO_BIN_EXE_livedesk"))
        .arg("migrate")
        .env("DATABASE_URL", "postgres://postgres:hunter2@127.0.0.1:1/livedesk")
        .output()
        .expect("run livedesk");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot reach PostgreSQL at postgres://postgres:***@127.0.0.1:1/livedesk"),
        "{stderr}"
    );
    assert!(stderr.contains("scripts/postgres.sh"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "the password leaked: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

mod tokens {
    use std::process::{Command, Output};

    use chrono::Utc;
    use livedesk_domain::site::{Site, SiteCommand};
    use livedesk_domain::{Metadata, SiteId};
    use livedesk_eventstore::{CommandContext, CommandService, PgEventStore, PgStoreConfig};
    use sqlx::PgPool;
    use uuid::Uuid;

    /// The URL of the test's own database.
    fn url_of(pool: &PgPool) -> String {
        let base = std::env::var("DATABASE_URL").expect("DATABASE_URL");
        let database = pool.connect_options().get_database().unwrap_or("postgres").to_owned();
        let (server, query) = base.split_once('?').map_or((base.as_str(), ""), |(s, q)| (s, q));
        let server = server.rsplit_once('/').map_or(server, |(s, _)| s);
        format!("{server}/{database}?{query}")
    }

    fn livedesk(pool: &PgPool, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_livedesk"))
            .args(args)
            .env("DATABASE_URL", url_of(pool))
            .env("RUST_LOG", "error")
            .output()
            .expect("run livedesk")
    }

    #[sqlx::test(migrator = "livedesk_eventstore::MIGRATOR")]
    async fn a_token_is_printed_once_stored_hashed_and_revocable(pool: PgPool) {
        let site = Uuid::now_v7();
        let sites: CommandService<PgEventStore, Site> =
            CommandService::new(PgEventStore::new(pool.clone(), PgStoreConfig::default()), 4);
        let create = SiteCommand::Create {
            site_id: SiteId(site),
            name: "Shop".into(),
            allowed_origins: Vec::new(),
            widget_key: "widgetkey1".into(),
            at: Utc::now(),
        };
        let context = CommandContext {
            metadata: Metadata::default(),
        };
        sites.execute(site, create, &context).await.expect("site");
        let site_arg = site.to_string();

        let created = livedesk(
            &pool,
            &[
                "tokens",
                "create",
                "--site",
                &site_arg,
                "--role",
                "integrator",
                "--name",
                "Aiden",
            ],
        );
        assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
        let secret = String::from_utf8_lossy(&created.stdout).trim().to_owned();
        assert!(secret.starts_with("ldk_"), "{secret}");
        let payloads: Vec<String> = sqlx::query_scalar("SELECT payload::text FROM events")
            .fetch_all(&pool)
            .await
            .expect("events");
        assert!(
            payloads.iter().all(|p| !p.contains(&secret)),
            "the secret is stored nowhere"
        );
        assert!(payloads.iter().any(|p| p.contains(&livedesk_api::auth::hash(&secret))));

        let listed = livedesk(&pool, &["tokens", "list", "--site", &site_arg]);
        let listed = String::from_utf8_lossy(&listed.stdout).to_string();
        assert!(listed.contains("integrator\tactive"), "{listed}");
        let token_id = listed.split('\t').next().unwrap_or_default().to_owned();

        let revoked = livedesk(&pool, &["tokens", "revoke", "--site", &site_arg, &token_id]);
        assert!(revoked.status.success(), "{}", String::from_utf8_lossy(&revoked.stderr));
        let listed = livedesk(&pool, &["tokens", "list", "--site", &site_arg]);
        assert!(String::from_utf8_lossy(&listed.stdout).contains("integrator\trevoked"));

        let unknown_agent = livedesk(
            &pool,
            &[
                "tokens",
                "create",
                "--site",
                &site_arg,
                "--role",
                "agent",
                "--agent",
                "nobody@shop.example",
            ],
        );
        assert!(!unknown_agent.status.success());
        assert!(String::from_utf8_lossy(&unknown_agent.stderr).contains("no agent was invited"));
        let bad_role = livedesk(&pool, &["tokens", "create", "--site", &site_arg, "--role", "root"]);
        assert!(!bad_role.status.success());
    }
}
