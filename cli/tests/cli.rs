//! The `billflow` command line without a node: keys, and refusals that need
//! no network. (Against a devnet: `tests/tests/integration/cli.rs`.)

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::process::Command;

fn billflow(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_billflow")).args(args).output().unwrap()
}

#[test]
fn keys_new_writes_a_private_key_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tenant.key");
    let out = billflow(&["--json", "keys", "new", "--out", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let key = billflow_sdk::read_key(&path).unwrap();
    assert_eq!(printed["public_key"], key.public().to_hex());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
    // Never overwritten.
    let again = billflow(&["keys", "new", "--out", path.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(1), "{}", String::from_utf8_lossy(&again.stderr));
    assert_eq!(billflow_sdk::read_key(&path).unwrap().public(), key.public());
}

#[test]
fn usage_errors_exit_2_and_bad_hashes_are_refused() {
    assert_eq!(billflow(&["no-such-command"]).status.code(), Some(2));
    let out = billflow(&["evidence", "get", "not-a-hash"]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn flows_usage_errors_exit_2_before_any_network() {
    // Not whole fen: refused while parsing, no node needed.
    let out = billflow(&["order", "create", "O-1", "--seller", "S", "--amount", "1.234", "--date", "2025-03-06"]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("whole fen"));
    // --as names a devnet participant: it needs --devnet.
    let out = billflow(&["--as", "bank-a", "bill", "list"]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: E_USAGE: --as needs --devnet"));
}
