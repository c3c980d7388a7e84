//! The widget in a real headless Chromium: Debian's `chromium`, driven by
//! `playwright-core` from `tests/browser/` (`npm install` there first;
//! `scripts/test.sh` does). The browser opens the demo page of a real
//! server; an agent answers through GraphQL; `tests/browser/widget.mjs`
//! holds the steps.

use livedesk_domain::Role;
use livedesk_domain::TextBlockId;
use livedesk_domain::site::SiteCommand;
use sqlx::PgPool;
use uuid::Uuid;

use crate::fixtures::Fixture;
use crate::helpers::{run_browser_script, spawn_app};
use crate::widget::set_settings;

#[sqlx::test(migrations = false)]
async fn a_visitor_chats_an_agent_takes_over_and_releases_and_closing_the_tab_ends_the_session(pool: PgPool) {
    let app = spawn_app(pool).await;
    let site = Fixture::new(&app).await;
    // The page is served by the test server: its origin is the server's.
    site.site_command(SiteCommand::ChangeProfile {
        name: "Demo Shop".into(),
        allowed_origins: vec![app.address.clone()],
        at: chrono::Utc::now(),
    })
    .await;
    set_settings(&site, |s| s.leave_timeout_secs = 3).await;
    site.site_command(SiteCommand::AddTextBlock {
        text_block_id: TextBlockId(Uuid::now_v7()),
        shortcut: "returns".into(),
        title: "Return policy".into(),
        body: "You can return any item within 30 days for a full refund.".into(),
        at: chrono::Utc::now(),
    })
    .await;
    let ana = site.agent("Ana", Role::Agent).await;
    site.settle().await;

    let env = [
        ("LIVEDESK_URL", app.address.clone()),
        ("WIDGET_KEY", site.widget_key()),
        ("SITE_ID", site.site.to_string()),
        ("AGENT_TOKEN", ana.token.clone()),
    ];
    let stdout = run_browser_script("widget.mjs", &env, std::time::Duration::from_secs(120)).await;
    assert!(stdout.trim_end().ends_with("ok"), "the browser story failed:\n{stdout}");
}
