//! `billflow-devnet` refuses what it cannot run with a clear message and a
//! non-zero exit, and touches nothing it was not given.

#![allow(clippy::unwrap_used, missing_docs)]

use std::process::Command;

fn devnet(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_billflow-devnet")).args(args).output().unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn bad_input_is_refused_and_nothing_is_started() {
    let dir = tempfile::tempdir().unwrap();
    let net = dir.path().join("net");
    let net = net.to_str().unwrap();
    let missing = dir.path().join("no-such-node");
    let (ok, out) = devnet(&["--node-binary", missing.to_str().unwrap(), "--voters", "0", "--dir", net]);
    assert!(!ok && out.contains("at least one voter"), "{out}");

    // A directory that holds something else is not taken over.
    std::fs::create_dir_all(dir.path().join("other")).unwrap();
    std::fs::write(dir.path().join("other/notes.txt"), "mine").unwrap();
    let other = dir.path().join("other");
    let some_file = std::env::current_exe().unwrap();
    let (ok, out) = devnet(&["--node-binary", some_file.to_str().unwrap(), "--dir", other.to_str().unwrap()]);
    assert!(!ok && out.contains("is not empty and holds no devnet.json"), "{out}");
    assert_eq!(std::fs::read_dir(&other).unwrap().count(), 1);

    // No node executable: nothing is generated.
    let (ok, out) = devnet(&["--node-binary", missing.to_str().unwrap(), "--dir", net]);
    assert!(!ok && out.contains("is not a billflow-node executable"), "{out}");
    assert!(!dir.path().join("net").exists());
}
