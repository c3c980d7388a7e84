//! Two server processes on one database: the sweep runs in one.

use std::sync::atomic::Ordering::Relaxed;

use sqlx::PgPool;

use super::{Tab, end_reason, events_of, eventually, set_settings};
use crate::fixtures::Fixture;
use crate::helpers::spawn_app;

#[sqlx::test(migrations = false)]
async fn two_servers_on_one_database_elect_one_sweeper_which_ends_a_silent_session_once(pool: PgPool) {
    let first = spawn_app(pool.clone()).await;
    let second = spawn_app(pool).await;
    let site = Fixture::new(&first).await;
    set_settings(&site, |s| s.leave_timeout_secs = 1).await;
    let tabs = [Tab::start(&first, &site).await, Tab::start(&second, &site).await];
    for tab in &tabs {
        let reason = eventually("the silent session to end", || async {
            end_reason(&first, tab.session).await
        })
        .await;
        assert_eq!(reason, "timed_out");
    }
    // Let both contend for a good while.
    let swept = |app: &crate::helpers::TestApp| app.widget.stats().sweeps.load(Relaxed);
    eventually("fifty sweeps", || async {
        (swept(&first) + swept(&second) > 50).then_some(())
    })
    .await;
    assert!(
        (swept(&first) == 0) != (swept(&second) == 0),
        "exactly one process sweeps: {} and {}",
        swept(&first),
        swept(&second)
    );
    let ended = |app: &crate::helpers::TestApp| app.widget.stats().sessions_swept.load(Relaxed);
    assert_eq!(ended(&first) + ended(&second), 2);
    for tab in &tabs {
        let ends = events_of(&first, &format!("session-{}", tab.session))
            .await
            .into_iter()
            .filter(|(t, _)| t == "SessionEnded")
            .count();
        assert_eq!(ends, 1);
    }
}
