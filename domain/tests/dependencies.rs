//! The domain stays pure: no database, runtime, web or GraphQL crate in its
//! normal dependency tree.

use std::process::Command;

const FORBIDDEN: &[&str] = &["sqlx", "tokio", "axum", "async-graphql", "async_graphql"];

#[test]
fn the_domain_depends_on_no_sqlx_tokio_axum_or_async_graphql() {
    let output = Command::new(env!("CARGO"))
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .args([
            "tree",
            "-p",
            "livedesk-domain",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ])
        .output()
        .expect("cargo tree runs");
    assert!(
        output.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let tree = String::from_utf8(output.stdout).expect("cargo tree prints UTF-8");
    assert!(
        tree.lines().any(|line| line.starts_with("serde ")),
        "cargo tree printed no crates:\n{tree}"
    );
    let offenders: Vec<&str> = tree
        .lines()
        .filter(|line| FORBIDDEN.iter().any(|name| line.trim_start().starts_with(name)))
        .collect();
    assert!(
        offenders.is_empty(),
        "the domain must stay pure, but depends on: {offenders:?}"
    );
}
