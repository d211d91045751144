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
        copy_dir(&dir.path().join("kv"), &copy.join("kv"));
        flip(&block_file(&copy), at, fix);
        assert_fails_at(&copy, 3, what);
    }

    // The same byte of a state value flipped inside the index's files, in every
    // copy they hold (its journal, or a table written from it): the index's
    // own checksums refuse the batch or block (or, had it been read, the
    // replay would differ); either way verify fails, though the index cannot
    // say which height the value belonged to.
    let copy = dir.path().join("case-index");
    copy_dir(&dir.path().join("blocks"), &copy.join("blocks"));
    copy_dir(&dir.path().join("kv"), &copy.join("kv"));
    let mut flipped = 0;
    for file in files_under(&copy.join("kv")) {
        for value_at in find_all(&std::fs::read(&file).unwrap(), b"Enterprise 3 Trading") {
            flip(&file, value_at + 3, false);
            flipped += 1;
        }
    }
    assert!(flipped > 0, "the value is in none of the index's files");
    let (ok, out) = billflow_tests::verify(&copy).unwrap();
    assert!(!ok, "verify passed a corrupted index: {out}");

    // The untouched original still verifies.
    let (ok, out) = billflow_tests::verify(dir.path()).unwrap();
    assert!(ok, "{out}");
}

/// Every file under `dir`.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            out.extend(files_under(&entry.path()));
        } else {
            out.push(entry.path());
        }
    }
    out
}

/// One edit of a stopped node's index, made with the index library's own API.
type Edit = fn(&fjall::Keyspace);
/// An edit of a consensus log file's frames, `(index, payload)`.
type WalEdit = fn(&mut Vec<(u64, Vec<u8>)>);

/// The value at the first key under `prefix` after `skip` others.
fn nth(tree: &fjall::Keyspace, prefix: &[u8], skip: usize) -> (fjall::Slice, fjall::Slice) {
    tree.prefix(prefix).nth(skip).unwrap().into_inner().unwrap()
}

/// Swaps the values of the first two keys under `prefix`.
fn swap(tree: &fjall::Keyspace, prefix: &[u8]) {
    let (a, av) = nth(tree, prefix, 0);
    let (b, bv) = nth(tree, prefix, 1);
    tree.insert(a, bv).unwrap();
    tree.insert(b, av).unwrap();
}

/// Every record kind a voter stores, edited in turn through the index
/// library's API (as anyone with the files and the library could), is caught
/// by `verify`; each case names what it caught.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn verify_catches_an_edit_of_each_record_kind_made_with_the_index_librarys_api() {
    use billflow_sdk::types::{Canonical, ChainParams, ChainTip, Genesis};
    let _one = billflow_tests::exclusive().await;
    let mut c =
        crate::cluster::Cluster::start(&crate::cluster::VOTERS_AND_OBSERVER[..3], ChainParams::default(), false, None)
            .await;
    let leader = c.wait_leader(&c.alive(), std::time::Duration::from_secs(20)).await;
    for n in 1..=6u64 {
        let (tx, _, _) = register_enterprise(&c.tenant(), 600_000 + n, &format!("index-edit-{n}"));
        assert!(crate::raft::commit(&c.client(leader), &tx).await);
    }
    let follower = (0..3).find(|i| *i != leader).unwrap();
    let height = c.height(leader).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while c.height(follower).await < height {
        assert!(std::time::Instant::now() < deadline, "the follower did not catch up");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    c.kill(follower);
    let data = c.data_dir(follower);
    let (ok, out) = billflow_tests::verify(&data).unwrap();
    assert!(ok, "{out}");

    let cases: [(&str, Edit, &str); 9] = [
        (
            "the tip",
            |l| {
                let mut tip = ChainTip::decode(&l.get(b"m:tip").unwrap().unwrap()).unwrap();
                tip.state_hash.0[0] ^= 1;
                l.insert(b"m:tip", tip.encode()).unwrap();
            },
            "tip",
        ),
        (
            "the genesis document",
            |l| {
                let mut genesis = Genesis::decode(&l.get(b"m:genesis").unwrap().unwrap()).unwrap();
                genesis.genesis_time_ms += 1;
                l.insert(b"m:genesis", genesis.encode()).unwrap();
            },
            "genesis",
        ),
        ("a block's position", |l| swap(l, b"b:"), "height"),
        ("the block-hash index", |l| swap(l, b"h:"), "height"),
        ("the transaction index", |l| swap(l, b"t:"), "height"),
        (
            "a transaction's index entry removed",
            |l| {
                let (key, _) = nth(l, b"t:", 2);
                l.remove(key).unwrap();
            },
            "height",
        ),
        (
            "a transaction index entry pointed at another transaction's receipt",
            |l| {
                // A `t:` value is the location (12 bytes), then the receipt's
                // place in the block files and its checksum (docs/storage.md).
                let (key, value) = nth(l, b"t:", 3);
                let (_, other) = nth(l, b"t:", 4);
                l.insert(key, [&value[..12], &other[12..]].concat()).unwrap();
            },
            "is not the block's",
        ),
        (
            "a state value",
            |l| {
                let (key, value) = l
                    .prefix(b"s:")
                    .map(|g| g.into_inner().unwrap())
                    .find(|(k, _)| k.windows(12).any(|w| w == b"participant/"))
                    .unwrap();
                l.insert(key, [value.as_ref(), b" "].concat()).unwrap();
            },
            "height",
        ),
        (
            "an attestation",
            |l| {
                let (_, other) = nth(l, b"a:", 0);
                let (key, _) = nth(l, b"a:", 5);
                l.insert(key, other).unwrap();
            },
            "height",
        ),
    ];
    for (i, (what, edit, says)) in cases.into_iter().enumerate() {
        let copy = data.parent().unwrap().join(format!("index-edit-{i}"));
        copy_dir(&data, &copy);
        {
            let db = fjall::Database::builder(copy.join("kv")).open().unwrap();
            edit(&db.keyspace("ledger", fjall::KeyspaceCreateOptions::default).unwrap());
            db.persist(fjall::PersistMode::SyncAll).unwrap();
        }
        let (ok, out) = billflow_tests::verify(&copy).unwrap();
        assert!(!ok, "verify passed a store with {what} edited: {out}");
        assert!(out.contains(says), "{what}: {out}");
        eprintln!("{what}: {}", out.lines().last().unwrap_or_default());
    }

    // The consensus log's own files, rewritten frame by frame with valid
    // checksums (its format is documented), as anyone with the files could.
    let wal_cases: [(&str, WalEdit, &str); 2] = [
        (
            "a consensus log entry",
            |frames| {
                let n = frames.len();
                frames[n - 2].1 = frames[n - 3].1.clone();
            },
            "says it is entry",
        ),
        (
            "a consensus log entry removed",
            |frames| {
                let n = frames.len();
                frames.remove(n - 3);
            },
            "belongs",
        ),
    ];
    for (i, (what, edit, says)) in wal_cases.into_iter().enumerate() {
        let copy = data.parent().unwrap().join(format!("wal-edit-{i}"));
        copy_dir(&data, &copy);
        let wal = newest_wal(&copy.join("raft"));
        let mut frames = read_wal(&std::fs::read(&wal).unwrap());
        edit(&mut frames);
        std::fs::write(&wal, write_wal(&frames)).unwrap();
        let (ok, out) = billflow_tests::verify(&copy).unwrap();
        assert!(!ok, "verify passed a store with {what} edited: {out}");
        assert!(out.contains(says), "{what}: {out}");
        eprintln!("{what}: {}", out.lines().last().unwrap_or_default());
    }
}

/// The newest file of a consensus log directory.
fn newest_wal(dir: &Path) -> PathBuf {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "wal"))
        .collect();
    files.sort();
    files.pop().unwrap()
}

/// The frames of a consensus log file: `"BFR1" ‖ index u64 ‖ length u32 ‖ crc32 u32 ‖ payload`.
fn read_wal(bytes: &[u8]) -> Vec<(u64, Vec<u8>)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        assert_eq!(&bytes[at..at + 4], b"BFR1");
        let index = u64::from_le_bytes(bytes[at + 4..at + 12].try_into().unwrap());
        let len = u32::from_le_bytes(bytes[at + 12..at + 16].try_into().unwrap()) as usize;
        out.push((index, bytes[at + 20..at + 20 + len].to_vec()));
        at += 20 + len;
    }
    out
}

fn write_wal(frames: &[(u64, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (index, payload) in frames {
        out.extend_from_slice(b"BFR1");
        out.extend_from_slice(&index.to_le_bytes());
        out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        out.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
        out.extend_from_slice(payload);
    }
    out
}
