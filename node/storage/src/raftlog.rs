//! The Raft log: append-only segment files outside sled, with one
//! `fdatasync` per append, the shape of etcd's write-ahead log.
//!
//! An append of one or more entries is one `write` and one `fdatasync`: the
//! only synchronous durable write on the path from a proposal to its commit.
//! Each entry is framed as in the block files,
//! `magic "BFR1" ‖ index u64 ‖ length u32 ‖ crc32 u32 ‖ payload`, in
//! `raft/log-NNNNNN.wal`; a file is closed once it passes [`SEGMENT_BYTES`].
//! Beside them, `raft/vote` and `raft/purged` are replaced atomically and
//! durably (written, synced, renamed, directory synced); `raft/committed` is
//! replaced atomically but not synced, and at most once every
//! [`COMMITTED_EVERY`] (and when the log is closed), as openraft needs it only
//! as a hint: an older committed id is still committed.
//!
//! On open, the files are read in order; a frame that is cut short or does
//! not check at the end of the newest file is a torn append that was never
//! acknowledged and is cut off; a bad frame anywhere else, or entries that
//! are not numbered one after another, is corruption. Entries at or below the
//! purge point are dropped from view, and files that hold only such entries
//! are deleted.

use std::collections::{BTreeMap, VecDeque};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use crate::blockfile::{Frame, HEADER_LEN, io, push_frame, read_frame_of};
use crate::{Result, StorageError};

const MAGIC: &[u8; 4] = b"BFR1";
/// A log file is closed and a new one started once it holds this many bytes.
pub const SEGMENT_BYTES: u64 = 64 * 1024 * 1024;

/// Where an entry's frame is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pos {
    segment: u32,
    offset: u64,
    len: u32,
}

impl Pos {
    fn end(&self) -> u64 {
        self.offset + HEADER_LEN as u64 + u64::from(self.len)
    }
}

/// The file being appended to.
struct Writer {
    segment: u32,
    file: File,
    len: u64,
}

/// What readers see: the kept entries' positions and the files that hold them.
#[derive(Default)]
struct View {
    /// Log index of `positions[0]`.
    first: u64,
    positions: VecDeque<Pos>,
    files: BTreeMap<u32, Arc<File>>,
}

impl View {
    fn next_index(&self) -> u64 {
        self.first + self.positions.len() as u64
    }
}

/// The Raft log of one node; see the module documentation.
pub(crate) struct RaftLog {
    dir: PathBuf,
    /// Held for a whole write (append, truncate, purge), so writes are serialised.
    writer: Mutex<Writer>,
    /// Updated only after a write is durable: a reader never sees an entry
    /// that a crash could take back.
    view: RwLock<View>,
    /// The newest committed id openraft saved, and when it was last written.
    committed: Mutex<CommittedHint>,
}

/// How often, at most, the committed id is written to its file.
const COMMITTED_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

#[derive(Default)]
struct CommittedHint {
    newest: Option<Vec<u8>>,
    written: Option<std::time::Instant>,
    unwritten: bool,
}

fn segment_path(dir: &Path, segment: u32) -> PathBuf {
    dir.join(format!("log-{segment:06}.wal"))
}

fn value_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(|e| io("sync the consensus log directory", e))
}

/// Replaces file `name` in `dir` with `bytes` atomically; durably if `durable`.
fn replace(dir: &Path, name: &str, bytes: &[u8], durable: bool) -> Result<()> {
    let tmp = dir.join(format!("{name}.tmp"));
    let write = || -> std::io::Result<()> {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        if durable {
            f.sync_data()?;
        }
        fs::rename(&tmp, value_path(dir, name))
    };
    write().map_err(|e| io(&format!("write consensus value {name}"), e))?;
    if durable {
        sync_dir(dir)?;
    }
    Ok(())
}

/// The segment numbers present in `dir`, in order.
fn segments(dir: &Path) -> Result<Vec<u32>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| io("list the consensus log", e))? {
        let name = entry.map_err(|e| io("list the consensus log", e))?.file_name();
        let name = name.to_string_lossy();
        if let Some(n) = name.strip_prefix("log-").and_then(|n| n.strip_suffix(".wal")) {
            let n = n.parse().map_err(|_| StorageError::Corrupt {
                what: format!("consensus log file {name}"),
                reason: "not a numbered log file".into(),
            })?;
            out.push(n);
        }
    }
    out.sort_unstable();
    Ok(out)
}

fn open_rw(path: &Path, truncate: bool) -> Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(truncate)
        .open(path)
        .map_err(|e| io("open consensus log file", e))
}

impl RaftLog {
    /// Opens (or creates) the log in `dir`.
    pub(crate) fn open(dir: &Path) -> Result<RaftLog> {
        fs::create_dir_all(dir).map_err(|e| io("create the consensus log directory", e))?;
        let purged = Self::read_value(dir, "purged")?.map(|b| purge_index(&b)).transpose()?;
        let segments = segments(dir)?;
        let mut view = View::default();
        let mut writer = None;
        for (i, &segment) in segments.iter().enumerate() {
            let last = i + 1 == segments.len();
            let path = segment_path(dir, segment);
            let file = open_rw(&path, false)?;
            let file_len = file.metadata().map_err(|e| io("stat consensus log file", e))?.len();
            let mut offset = 0;
            loop {
                match read_frame_of(&file, MAGIC, segment, offset, file_len) {
                    // Purged before a crash, not yet deleted: out of view.
                    Frame::Record { height: index, pos, .. } if purged.is_some_and(|p| index <= p) => {
                        offset = pos.end();
                    }
                    Frame::Record { height: index, pos, .. } => {
                        if !view.positions.is_empty() && index != view.next_index() {
                            return Err(StorageError::Corrupt {
                                what: format!("consensus log entry {index}"),
                                reason: format!("found where entry {} belongs", view.next_index()),
                            });
                        }
                        if view.positions.is_empty() {
                            view.first = index;
                        }
                        view.positions.push_back(Pos { segment, offset, len: pos.len });
                        offset = pos.end();
                    }
                    Frame::End => break,
                    Frame::Bad(_) if last => {
                        // A torn append: it was never acknowledged.
                        file.set_len(offset).map_err(|e| io("cut a torn consensus log entry", e))?;
                        file.sync_all().map_err(|e| io("sync consensus log file", e))?;
                        break;
                    }
                    Frame::Bad(reason) => {
                        return Err(StorageError::Corrupt {
                            what: format!("consensus log file {}", path.display()),
                            reason,
                        });
                    }
                }
            }
            if last {
                let append = file.try_clone().map_err(|e| io("open consensus log file", e))?;
                writer = Some(Writer { segment, file: append, len: offset });
            }
            view.files.insert(segment, Arc::new(file));
        }
        let writer = match writer {
            Some(w) => w,
            None => Writer { segment: 0, file: open_rw(&segment_path(dir, 0), false)?, len: 0 },
        };
        let log = RaftLog {
            dir: dir.to_path_buf(),
            writer: Mutex::new(writer),
            view: RwLock::new(view),
            committed: Mutex::default(),
        };
        if let Some(upto) = purged {
            log.forget_upto(upto)?;
        }
        Ok(log)
    }

    fn read_value(dir: &Path, name: &str) -> Result<Option<Vec<u8>>> {
        match fs::read(value_path(dir, name)) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(&format!("read consensus value {name}"), e)),
        }
    }

    fn lock_writer(&self) -> Result<std::sync::MutexGuard<'_, Writer>> {
        self.writer.lock().map_err(|_| StorageError::Io("a previous consensus log write panicked".into()))
    }

    fn read_view(&self) -> Result<std::sync::RwLockReadGuard<'_, View>> {
        self.view.read().map_err(|_| StorageError::Io("a previous consensus log write panicked".into()))
    }

    fn write_view(&self) -> Result<std::sync::RwLockWriteGuard<'_, View>> {
        self.view.write().map_err(|_| StorageError::Io("a previous consensus log write panicked".into()))
    }

    /// Appends entries `(index, bytes)`, which must follow the last one, in
    /// one write and one `fdatasync`.
    pub(crate) fn append(&self, entries: &[(u64, Vec<u8>)]) -> Result<()> {
        let Some((first, _)) = entries.first() else { return Ok(()) };
        let mut writer = self.lock_writer()?;
        let next = {
            let view = self.read_view()?;
            (!view.positions.is_empty()).then(|| view.next_index())
        };
        let start = next.unwrap_or(*first);
        for (expected, (index, _)) in (start..).zip(entries) {
            if *index != expected {
                return Err(StorageError::Io(format!(
                    "consensus log entry {index} appended where entry {expected} belongs"
                )));
            }
        }
        if writer.len >= SEGMENT_BYTES {
            writer.file.sync_data().map_err(|e| io("sync consensus log file", e))?;
            let segment = writer.segment + 1;
            let file = open_rw(&segment_path(&self.dir, segment), true)?;
            sync_dir(&self.dir)?;
            *writer = Writer { segment, file, len: 0 };
        }
        let mut frames = Vec::with_capacity(entries.iter().map(|(_, b)| b.len() + HEADER_LEN).sum());
        let mut positions = Vec::with_capacity(entries.len());
        for (index, bytes) in entries {
            let offset = writer.len + frames.len() as u64;
            let len = push_frame(&mut frames, MAGIC, *index, bytes)?;
            positions.push(Pos { segment: writer.segment, offset, len });
        }
        let written = writer.file.write_all_at(&frames, writer.len).and_then(|()| writer.file.sync_data());
        if let Err(e) = written {
            // Leave no partial frame behind for the next append to follow.
            let _ = writer.file.set_len(writer.len);
            return Err(io("append to the consensus log", e));
        }
        writer.len += frames.len() as u64;
        let mut view = self.write_view()?;
        if view.positions.is_empty() {
            view.first = *first;
        }
        view.positions.extend(positions);
        if let std::collections::btree_map::Entry::Vacant(slot) = view.files.entry(writer.segment) {
            let reader = writer.file.try_clone().map_err(|e| io("open consensus log file", e))?;
            slot.insert(Arc::new(reader));
        }
        Ok(())
    }

    /// Entries with indexes in `[from, to)`, in order, as `(index, bytes)`.
    pub(crate) fn entries(&self, from: u64, to: u64) -> Result<Vec<(u64, Vec<u8>)>> {
        let (wanted, files) = {
            let view = self.read_view()?;
            let from = from.max(view.first);
            let to = to.min(view.next_index());
            if from >= to {
                return Ok(Vec::new());
            }
            let wanted: Vec<(u64, Pos)> = (from..to).map(|i| (i, view.positions[(i - view.first) as usize])).collect();
            (wanted, view.files.clone())
        };
        let mut out = Vec::with_capacity(wanted.len());
        // Consecutive frames of one file are read with one `pread`.
        let mut i = 0;
        while i < wanted.len() {
            let (_, first) = wanted[i];
            let mut j = i + 1;
            while j < wanted.len()
                && wanted[j].1.segment == first.segment
                && wanted[j].1.offset == wanted[j - 1].1.end()
            {
                j += 1;
            }
            let end = wanted[j - 1].1.end();
            let file = files.get(&first.segment).ok_or_else(|| StorageError::Corrupt {
                what: format!("consensus log entry {}", wanted[i].0),
                reason: format!("log file {} is gone", first.segment),
            })?;
            let mut buf = vec![0u8; (end - first.offset) as usize];
            file.read_exact_at(&mut buf, first.offset).map_err(|e| io("read the consensus log", e))?;
            for &(index, pos) in &wanted[i..j] {
                let at = (pos.offset - first.offset) as usize;
                let frame = &buf[at..at + HEADER_LEN + pos.len as usize];
                out.push((index, check_frame(frame, index)?));
            }
            i = j;
        }
        Ok(out)
    }

    /// The newest entry.
    pub(crate) fn last(&self) -> Result<Option<(u64, Vec<u8>)>> {
        let next = {
            let view = self.read_view()?;
            if view.positions.is_empty() {
                return Ok(None);
            }
            view.next_index()
        };
        Ok(self.entries(next - 1, next)?.pop())
    }

    /// Removes the entries from `from` on, durably.
    pub(crate) fn truncate(&self, from: u64) -> Result<()> {
        let mut writer = self.lock_writer()?;
        let mut view = self.write_view()?;
        if from >= view.next_index() || view.positions.is_empty() {
            return Ok(());
        }
        let keep = from.saturating_sub(view.first) as usize;
        let cut = view.positions[keep];
        for segment in (cut.segment + 1)..=writer.segment {
            view.files.remove(&segment);
            match fs::remove_file(segment_path(&self.dir, segment)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io("remove consensus log file", e)),
            }
        }
        let file = open_rw(&segment_path(&self.dir, cut.segment), false)?;
        file.set_len(cut.offset).map_err(|e| io("truncate the consensus log", e))?;
        file.sync_all().map_err(|e| io("sync consensus log file", e))?;
        sync_dir(&self.dir)?;
        *writer = Writer { segment: cut.segment, file, len: cut.offset };
        view.positions.truncate(keep);
        Ok(())
    }

    /// Records the purge point `bytes` (openraft's log id of entry `upto`)
    /// durably, then forgets the entries up to `upto` and deletes the files
    /// that hold nothing else.
    pub(crate) fn purge(&self, upto: u64, bytes: &[u8]) -> Result<()> {
        let mut value = upto.to_le_bytes().to_vec();
        value.extend_from_slice(bytes);
        {
            let _serialised = self.lock_writer()?;
            replace(&self.dir, "purged", &value, true)?;
        }
        self.forget_upto(upto)
    }

    fn forget_upto(&self, upto: u64) -> Result<()> {
        let mut writer = self.lock_writer()?;
        let mut view = self.write_view()?;
        while view.first <= upto && !view.positions.is_empty() {
            view.positions.pop_front();
            view.first += 1;
        }
        if view.positions.is_empty() {
            view.first = view.first.max(upto.saturating_add(1));
            if writer.len > 0 {
                // Nothing kept: the next entry starts a file of its own, and
                // every file before it goes.
                let segment = writer.segment + 1;
                let file = open_rw(&segment_path(&self.dir, segment), true)?;
                sync_dir(&self.dir)?;
                *writer = Writer { segment, file, len: 0 };
            }
        }
        let oldest_kept = view.positions.front().map_or(writer.segment, |p| p.segment);
        let gone: Vec<u32> = view.files.keys().copied().filter(|s| *s < oldest_kept && *s != writer.segment).collect();
        for segment in gone {
            view.files.remove(&segment);
            match fs::remove_file(segment_path(&self.dir, segment)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io("remove consensus log file", e)),
            }
        }
        Ok(())
    }

    /// Consensus value `name` (`vote`, `committed`, or `purged` without its index).
    pub(crate) fn value(&self, name: &str) -> Result<Option<Vec<u8>>> {
        if name == "committed" {
            if let Some(newest) = &self.lock_committed()?.newest {
                return Ok(Some(newest.clone()));
            }
        }
        let bytes = Self::read_value(&self.dir, name)?;
        Ok(match (name, bytes) {
            ("purged", Some(b)) => Some(b.get(8..).unwrap_or_default().to_vec()),
            (_, b) => b,
        })
    }

    /// Replaces consensus value `name`: durably, except `committed`, which
    /// reaches its file at most once every [`COMMITTED_EVERY`] and when the
    /// log is dropped (openraft saves it after every commit).
    pub(crate) fn put_value(&self, name: &str, bytes: &[u8]) -> Result<()> {
        if name == "committed" {
            let mut hint = self.lock_committed()?;
            hint.newest = Some(bytes.to_vec());
            hint.unwritten = true;
            if hint.written.is_some_and(|at| at.elapsed() < COMMITTED_EVERY) {
                return Ok(());
            }
            let _serialised = self.lock_writer()?;
            replace(&self.dir, name, bytes, false)?;
            (hint.written, hint.unwritten) = (Some(std::time::Instant::now()), false);
            return Ok(());
        }
        let _serialised = self.lock_writer()?;
        replace(&self.dir, name, bytes, true)
    }

    fn lock_committed(&self) -> Result<std::sync::MutexGuard<'_, CommittedHint>> {
        self.committed.lock().map_err(|_| StorageError::Io("a previous consensus log write panicked".into()))
    }

    /// Bytes the log and its values occupy on disk.
    pub(crate) fn size_on_disk(&self) -> u64 {
        fs::read_dir(&self.dir)
            .map(|entries| entries.flatten().filter_map(|e| e.metadata().ok()).map(|m| m.len()).sum())
            .unwrap_or(0)
    }
}

/// The index a stored purge point names.
fn purge_index(bytes: &[u8]) -> Result<u64> {
    bytes.get(..8).and_then(|b| b.try_into().ok()).map(u64::from_le_bytes).ok_or_else(|| StorageError::Corrupt {
        what: "consensus purge point".into(),
        reason: format!("{} bytes", bytes.len()),
    })
}

/// The payload of a frame read back whole, checked again: the file may have
/// been changed under a running node.
fn check_frame(frame: &[u8], index: u64) -> Result<Vec<u8>> {
    let corrupt =
        |reason: &str| StorageError::Corrupt { what: format!("consensus log entry {index}"), reason: reason.into() };
    let (header, payload) = frame.split_at(HEADER_LEN);
    if &header[..4] != MAGIC {
        return Err(corrupt("no entry marker"));
    }
    let number = u64::from_le_bytes(header[4..12].try_into().unwrap_or_default());
    let crc = u32::from_le_bytes(header[16..20].try_into().unwrap_or_default());
    if number != index {
        return Err(corrupt(&format!("the frame is numbered {number}")));
    }
    if crc32fast::hash(payload) != crc {
        return Err(corrupt("checksum mismatch"));
    }
    Ok(payload.to_vec())
}

impl Drop for RaftLog {
    /// Writes the newest committed id if it has not reached its file yet.
    fn drop(&mut self) {
        let hint = self.committed.get_mut().unwrap_or_else(|p| p.into_inner());
        if let (true, Some(newest)) = (hint.unwritten, &hint.newest) {
            // A hint only: if it cannot be written, the older one stands.
            let _ = replace(&self.dir, "committed", newest, false);
        }
    }
}
