//! The `billflow-genesis` command as operators run it (docs/operations.md):
//! the ceremony's `init` and `inspect`, and `issue-node` for a node joining
//! later, whose printed key admits it. Bad input exits non-zero and names
//! what is wrong, writing nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::Path;
use std::process::Command;

fn genesis(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_billflow-genesis")).args(args).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn the_ceremony_and_a_node_issued_later() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("consortium");
    let (ok, text) = genesis(&[
        "init",
        "--out",
        path(&out),
        "--chain-id",
        "billflow-test",
        "--org",
        "notary-a:notary",
        "--org",
        "bank-b:bank",
        "--tenant",
        "acme:notary-a",
    ]);
    assert!(ok, "{text}");
    let hash = text.split("(hash ").nth(1).unwrap().split(')').next().unwrap().to_string();
    assert!(text.contains("every organisation's CA, for clients"), "{text}");
    let (ok, described) = genesis(&["inspect", path(&out.join("genesis.json"))]);
    assert!(ok && described.contains(&hash) && described.contains("billflow-test"), "{described}");

    let bank = out.join("orgs/bank-b");
    let joining = bank.join("nodes/bank-b-2");
    let (ok, text) = genesis(&[
        "issue-node",
        "--ca",
        path(&bank),
        "--node-id",
        "bank-b-2",
        "--org",
        "bank-b",
        "--role",
        "bank",
        "--host",
        "node2.bank-b.example",
        "--out",
        path(&joining),
    ]);
    assert!(ok, "{text}");
    let public_key = text.trim().rsplit(' ').next().unwrap();
    assert_eq!(public_key.len(), 64, "{text}");
    let (ok, cert) = genesis(&["inspect", path(&joining.join("node.pem"))]);
    assert!(ok && cert.contains("bank-b-2") && cert.contains("node2.bank-b.example"), "{cert}");

    // Bad input: a directory without the CA, a role that does not exist.
    let (ok, text) = genesis(&[
        "issue-node",
        "--ca",
        path(dir.path()),
        "--node-id",
        "bank-b-3",
        "--org",
        "bank-b",
        "--role",
        "bank",
        "--out",
        path(&bank.join("nodes/bank-b-3")),
    ]);
    assert!(!ok && text.contains("ca.pem"), "{text}");
    assert!(!bank.join("nodes/bank-b-3").exists());
    let (ok, text) = genesis(&[
        "issue-node",
        "--ca",
        path(&bank),
        "--node-id",
        "x-1",
        "--org",
        "bank-b",
        "--role",
        "broker",
        "--out",
        path(&bank.join("nodes/x-1")),
    ]);
    assert!(!ok && text.contains("role must be notary, bank or regulator"), "{text}");
    assert!(!bank.join("nodes/x-1").exists());
}
