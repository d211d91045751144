//! The contracts' own unit tests (argument checks, personal-data detection,
//! keys, the SDK's error mapping) live in the separate `contracts/` workspace;
//! this runs them on the host as part of the node's test suite.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::Path;
use std::process::Command;

#[test]
fn the_contracts_workspace_unit_tests_pass() {
    let contracts = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../contracts");
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("contracts-host");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["test", "--locked", "--manifest-path"])
        .arg(contracts.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target)
        .current_dir(&contracts)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the contracts' unit tests failed:\n{text}");
    let passed: usize = text
        .lines()
        .filter_map(|l| l.strip_prefix("test result: ok. "))
        .filter_map(|l| l.split(' ').next()?.parse::<usize>().ok())
        .sum();
    assert!(passed >= 10, "only {passed} contract unit tests ran:\n{text}");
}
