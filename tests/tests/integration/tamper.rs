//! `verify` finds a flipped byte on disk and names the height it belongs to.

use std::path::{Path, PathBuf};

use billflow_tests::{NodeProcess, tenant_signer};

use crate::register_enterprise;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn block_file(data: &Path) -> PathBuf {
    data.join("blocks").join("seg-000000.blk")
}

/// The (offset, payload length) of the record holding file offset `at`.
fn record_around(bytes: &[u8], at: usize) -> (usize, usize) {
    let mut off = 0;
    while off < bytes.len() {
        let len = u32::from_le_bytes(bytes[off + 12..off + 16].try_into().unwrap()) as usize;
        if at < off + 20 + len {
            return (off, len);
        }
        off += 20 + len;
    }
    panic!("offset {at} is past the last record");
}

/// Flips one bit at `at`; with `fix_checksum`, rewrites the record's checksum so
/// only the ledger's own hashes can catch the change.
fn flip(file: &Path, at: usize, fix_checksum: bool) {
    let mut bytes = std::fs::read(file).unwrap();
    bytes[at] ^= 0x01;
    if fix_checksum {
        let (off, len) = record_around(&bytes, at);
        let crc = crc32fast::hash(&bytes[off + 20..off + 20 + len]);
        bytes[off + 16..off + 20].copy_from_slice(&crc.to_le_bytes());
    }
    std::fs::write(file, bytes).unwrap();
}

fn find_all(haystack: &[u8], needle: &[u8]) -> Vec<usize> {
    haystack.windows(needle.len()).enumerate().filter(|(_, w)| *w == needle).map(|(i, _)| i).collect()
}

fn assert_fails_at(data: &Path, height: u64, what: &str) {
    let (ok, out) = billflow_tests::verify(data).unwrap();
    assert!(!ok, "verify passed a tampered store ({what}): {out}");
    assert!(out.contains(&format!("height {height}")), "verify did not name height {height} ({what}): {out}");
}

#[tokio::test]
async fn verify_names_the_height_of_a_flipped_byte() {
    let _one = billflow_tests::exclusive().await;
    let dir = tempfile::tempdir().unwrap();
    let node = NodeProcess::start(dir.path()).unwrap();
    let client = node.client();
    let tenant = tenant_signer();
    for n in 1..=5u64 {
        let (tx, _, _) = register_enterprise(&tenant, n, &format!("tamper-{n}"));
        assert_eq!(client.submit(&tx, true).await.unwrap().height, Some(n));
    }
    assert!(node.stop().unwrap());
    let (ok, out) = billflow_tests::verify(dir.path()).unwrap();
    assert!(ok, "{out}");

    let original = std::fs::read(block_file(dir.path())).unwrap();
    // Block 3 holds transaction tamper-3; its participant's record is a state value written there.
    let tx_id_at = find_all(&original, b"tamper-3")[0];
    let name_at = *find_all(&original, b"Enterprise 3 Trading").last().unwrap();

    let cases = [
        ("a transaction byte", tx_id_at + 2, false),
        ("a transaction byte with the record checksum rewritten", tx_id_at + 2, true),
        ("a state value with the record checksum rewritten", name_at + 3, true),
        ("a state value", name_at + 3, false),
    ];
    for (i, (what, at, fix)) in cases.into_iter().enumerate() {
        let copy = dir.path().join(format!("case-{i}"));
        copy_dir(&dir.path().join("blocks"), &copy.join("blocks"));
        copy_dir(&dir.path().join("index"), &copy.join("index"));
        flip(&block_file(&copy), at, fix);
        assert_fails_at(&copy, 3, what);
    }

    // The same byte of a state value flipped inside the sled index, in every copy
    // sled's log holds (only one is live, and which one is sled's business):
    // sled's own checksums refuse the page (or, had it been read, the replay
    // would differ); either way verify fails, though sled cannot say which
    // height the page held.
    let copy = dir.path().join("case-index");
    copy_dir(&dir.path().join("blocks"), &copy.join("blocks"));
    copy_dir(&dir.path().join("index"), &copy.join("index"));
    let db = copy.join("index").join("db");
    let index = std::fs::read(&db).unwrap();
    for value_at in find_all(&index, b"Enterprise 3 Trading") {
        flip(&db, value_at + 3, false);
    }
    let (ok, out) = billflow_tests::verify(&copy).unwrap();
    assert!(!ok, "verify passed a corrupted index: {out}");

    // The untouched original still verifies.
    let (ok, out) = billflow_tests::verify(dir.path()).unwrap();
    assert!(ok, "{out}");
}
