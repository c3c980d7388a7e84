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
