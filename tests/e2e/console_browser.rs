//! The agent console in a real headless Chromium: two agents and an admin
//! signed in with passwords in their own browser contexts, a visitor on
//! the demo page in a third, against a real server and database.
//! `tests/browser/console.mjs` holds the scenarios (the race for "Assign
//! to me", take-over, notes, Done in both screens, sign-in refusals, a
//! dropped socket, admin screens, axe-core, text-only visitor messages);
//! it needs the built console (`scripts/console.sh`, which
//! `scripts/test.sh` runs) and `npm ci` in `tests/browser`.

use std::path::Path;

use livedesk_domain::site::SiteCommand;
use livedesk_domain::{Role, TextBlockId};
use sqlx::PgPool;
use uuid::Uuid;

use crate::fixtures::Fixture;
use crate::helpers::{run_browser_script, spawn_app};

const PASSWORD: &str = "a long browser password";

#[sqlx::test(migrations = false)]
async fn agents_work_a_conversation_in_the_console_in_chromium(pool: PgPool) {
    let console = livedesk::config::DEFAULT_CONSOLE_DIR;
    assert!(
        Path::new(console).join("index.html").exists(),
        "the console is not built in {console}: run scripts/console.sh"
    );
    let app = spawn_app(pool).await;
    let site = Fixture::new(&app).await;
    site.site_command(SiteCommand::ChangeProfile {
        name: "Demo Shop".into(),
        allowed_origins: vec![app.address.clone()],
        at: chrono::Utc::now(),
    })
    .await;
    for (shortcut, title, body) in [
        (
            "returns",
            "Return policy",
            "You can return any item within 30 days for a full refund.",
        ),
        (
            "shipping",
            "Shipping",
            "We ship to every country in the EU; delivery takes 2 to 5 working days.",
        ),
    ] {
        site.site_command(SiteCommand::AddTextBlock {
            text_block_id: TextBlockId(Uuid::now_v7()),
            shortcut: shortcut.into(),
            title: title.into(),
            body: body.into(),
            at: chrono::Utc::now(),
        })
        .await;
    }
    site.agent_with_password("Ana", Role::Agent, PASSWORD).await;
    site.agent_with_password("Ben", Role::Agent, PASSWORD).await;
    site.agent_with_password("Ada", Role::Admin, PASSWORD).await;
    site.settle().await;

    let screenshots = std::env::var("LIVEDESK_SCREENSHOTS")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../target/screenshots/console").into());
    let env = [
        ("LIVEDESK_URL", app.address.clone()),
        ("SITE_ID", site.site.to_string()),
        ("WIDGET_KEY", site.widget_key()),
        ("AGENT_A_EMAIL", "ana@shop.example".into()),
        ("AGENT_A_PASSWORD", PASSWORD.into()),
        ("AGENT_A_NAME", "Ana".into()),
        ("AGENT_B_EMAIL", "ben@shop.example".into()),
        ("AGENT_B_PASSWORD", PASSWORD.into()),
        ("AGENT_B_NAME", "Ben".into()),
        ("ADMIN_EMAIL", "ada@shop.example".into()),
        ("ADMIN_PASSWORD", PASSWORD.into()),
        ("SCREENSHOTS", screenshots),
    ];
    let stdout = run_browser_script("console.mjs", &env, std::time::Duration::from_secs(300)).await;
    println!("{stdout}");
    assert!(
        stdout.lines().any(|l| l.starts_with("ok - ")) && !stdout.contains("not ok"),
        "the console's browser scenarios failed:\n{stdout}"
    );
}
