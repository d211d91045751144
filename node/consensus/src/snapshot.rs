//! Snapshots on disk. A snapshot is the whole block history (every block with
//! its receipts and state changes), which grows with the ledger, so it is
//! written to and read from a file under `<data>/snapshots` block by block and
//! never held in memory whole.
//!
//! Format: the magic `BFSNAP1\n` and the last height (`u64`, little-endian),
//! then one record per block from height 0: a little-endian `u32` length and
//! the block's canonical bytes. A file cut short at a record boundary is
//! refused by the height. A backup may go on after the last block with the
//! node's audit log: the magic `BFAUDIT1`, its length (`u64`, little-endian)
//! and its complete lines; older backups end after the blocks.

use std::fs::File;
use std::io::{BufReader, BufWriter, ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};

use billflow_chain::Chain;
use billflow_storage::{Store, StoredBlock};
use billflow_types::{Canonical, ChainTip};
use tokio::io::{AsyncRead, AsyncSeek, AsyncWrite, ReadBuf};

const MAGIC: &[u8; 8] = b"BFSNAP1\n";
/// Starts the audit section after a backup's blocks.
const AUDIT_MAGIC: &[u8; 8] = b"BFAUDIT1";
/// No block record is larger (the block size limits keep them far below).
const MAX_RECORD: u32 = 256 << 20;
/// Blocks installed in one step.
const INSTALL_BATCH: usize = 64;

/// Why a snapshot could not be written or installed.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// Reading or writing the file.
    #[error("snapshot file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not a snapshot, or is cut short or damaged.
    #[error("snapshot file {path} is not a valid snapshot: {reason}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Reading the ledger or installing blocks.
    #[error(transparent)]
    Ledger(#[from] billflow_chain::ChainError),
    /// Reading a block to write.
    #[error(transparent)]
    Storage(#[from] billflow_storage::StorageError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SnapshotError + '_ {
    move |source| SnapshotError::Io { path: path.to_path_buf(), source }
}

/// A snapshot file being sent or received: openraft reads and writes it in chunks.
/// A file being received is removed when it is dropped before it was
/// installed: a transfer abandoned, or one for a snapshot already installed.
#[derive(Debug)]
pub struct SnapshotFile {
    file: tokio::fs::File,
    path: PathBuf,
    incoming: bool,
}

impl Drop for SnapshotFile {
    fn drop(&mut self) {
        if self.incoming {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

impl SnapshotFile {
    /// Opens `path` for reading from the start.
    pub fn open(path: &Path) -> std::io::Result<SnapshotFile> {
        Ok(SnapshotFile {
            file: tokio::fs::File::from_std(File::open(path)?),
            path: path.to_path_buf(),
            incoming: false,
        })
    }

    /// Creates (or empties) `path` for a snapshot being received.
    pub async fn create(path: &Path) -> std::io::Result<SnapshotFile> {
        let file = tokio::fs::OpenOptions::new().read(true).write(true).create(true).truncate(true).open(path).await?;
        Ok(SnapshotFile { file, path: path.to_path_buf(), incoming: true })
    }

    /// Makes what was received durable and keeps the file when this is
    /// dropped: it is about to be installed. Returns its path.
    ///
    /// A transfer the leader left and later took up again may have lost its
    /// name meanwhile: a snapshot made in between removes the files of
    /// transfers it takes for abandoned. What was received is then written out
    /// again under the name from the handle still open.
    pub async fn received(mut self) -> std::io::Result<PathBuf> {
        use tokio::io::{AsyncSeekExt, AsyncWriteExt};
        self.file.flush().await?;
        if tokio::fs::try_exists(&self.path).await? {
            self.file.sync_all().await?;
        } else {
            tracing::warn!(path = %self.path.display(), "a snapshot transfer's file was removed while it went on; writing it out again");
            self.file.seek(std::io::SeekFrom::Start(0)).await?;
            let mut out = tokio::fs::File::create(&self.path).await?;
            tokio::io::copy(&mut self.file, &mut out).await?;
            out.sync_all().await?;
        }
        self.incoming = false;
        Ok(self.path.clone())
    }
}

impl AsyncRead for SnapshotFile {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.file).poll_read(cx, buf)
    }
}

impl AsyncWrite for SnapshotFile {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.file).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.file).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.file).poll_shutdown(cx)
    }
}

impl AsyncSeek for SnapshotFile {
    fn start_seek(mut self: Pin<&mut Self>, position: std::io::SeekFrom) -> std::io::Result<()> {
        Pin::new(&mut self.file).start_seek(position)
    }

    fn poll_complete(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<u64>> {
        Pin::new(&mut self.file).poll_complete(cx)
    }
}

/// The directory of a store's snapshots.
pub fn dir(store: &Store) -> PathBuf {
    store.dir().join("snapshots")
}

/// Writes blocks `0..=height` of `store` to `path` (through a temporary file,
/// renamed when complete and durable) and returns the file's size. The store
/// is made durable first: openraft purges the log below a snapshot, and a
/// node applies again from its log only what its store lost.
pub fn write(store: &Store, height: u64, path: &Path) -> Result<u64, SnapshotError> {
    store.flush()?;
    write_blocks(path, None, |emit| {
        for h in 0..=height {
            let stored = store.stored_block(h)?.ok_or_else(|| SnapshotError::Invalid {
                path: path.to_path_buf(),
                reason: format!("block {h} is missing from the ledger"),
            })?;
            emit(&stored)?;
        }
        Ok(())
    })
    .map(|(size, _)| size)
}

/// Writes an online backup of the node whose data directory is `data` to
/// `out`: every whole block in its block files, read without a lock while the
/// node runs (a consistent prefix of its chain), in the snapshot format, then
/// the complete lines of its audit log (`audit_log`, if it has one).
/// Returns the file's size and the last height it holds.
pub fn backup(data: &Path, audit_log: &Path, out: &Path) -> Result<(u64, u64), SnapshotError> {
    let blocks = data.join("blocks");
    if !blocks.is_dir() {
        return Err(io(&blocks)(std::io::Error::new(
            ErrorKind::NotFound,
            "no block files: not a node's data directory",
        )));
    }
    // Complete lines only: the writer may be appending one right now.
    let audit = match std::fs::read(audit_log) {
        Ok(bytes) => Some(bytes[..bytes.iter().rposition(|b| *b == b'\n').map_or(0, |p| p + 1)].to_vec()),
        Err(e) if e.kind() == ErrorKind::NotFound => None,
        Err(e) => return Err(io(audit_log)(e)),
    };
    let (size, last) = write_blocks(out, audit.as_deref(), |emit| {
        billflow_storage::scan_block_files(&blocks, |stored| {
            emit(&stored).map_err(|e| billflow_storage::StorageError::Io(e.to_string()))
        })?;
        Ok(())
    })?;
    last.map(|h| (size, h)).ok_or_else(|| SnapshotError::Invalid { path: blocks, reason: "no block yet".into() })
}

/// Writes the blocks `produce` emits, in height order from 0, to `path`
/// (then `audit`, the audit section, if given) through a temporary file
/// renamed when complete and durable. Returns the size and the last height written.
fn write_blocks(
    path: &Path,
    audit: Option<&[u8]>,
    produce: impl FnOnce(&mut dyn FnMut(&StoredBlock) -> Result<(), SnapshotError>) -> Result<(), SnapshotError>,
) -> Result<(u64, Option<u64>), SnapshotError> {
    use std::io::{Seek, SeekFrom};
    let partial = path.with_extension("partial");
    let file = File::create(&partial).map_err(io(&partial))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    out.write_all(MAGIC).map_err(io(&partial))?;
    // The last height, filled in at the end.
    out.write_all(&u64::MAX.to_le_bytes()).map_err(io(&partial))?;
    let mut size = MAGIC.len() as u64 + 8;
    let mut last: Option<u64> = None;
    let mut emit = |stored: &StoredBlock| -> Result<(), SnapshotError> {
        let h = stored.block.header.height;
        if h != last.map_or(0, |l| l + 1) {
            return Err(SnapshotError::Invalid { path: path.to_path_buf(), reason: format!("block {h} out of order") });
        }
        let bytes = stored.encode();
        let len = u32::try_from(bytes.len()).ok().filter(|l| *l <= MAX_RECORD).ok_or_else(|| {
            SnapshotError::Invalid { path: path.to_path_buf(), reason: format!("block {h} is too large") }
        })?;
        out.write_all(&len.to_le_bytes()).map_err(io(&partial))?;
        out.write_all(&bytes).map_err(io(&partial))?;
        size += 4 + u64::from(len);
        last = Some(h);
        Ok(())
    };
    let produced = produce(&mut emit).and_then(|()| {
        let Some(audit) = audit else { return Ok(()) };
        out.write_all(AUDIT_MAGIC).map_err(io(&partial))?;
        out.write_all(&(audit.len() as u64).to_le_bytes()).map_err(io(&partial))?;
        out.write_all(audit).map_err(io(&partial))?;
        size += 16 + audit.len() as u64;
        Ok(())
    });
    if let Err(e) = produced {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    let mut file = out.into_inner().map_err(|e| io(&partial)(e.into_error()))?;
    if let Some(h) = last {
        file.seek(SeekFrom::Start(MAGIC.len() as u64)).map_err(io(&partial))?;
        file.write_all(&h.to_le_bytes()).map_err(io(&partial))?;
    }
    file.sync_all().map_err(io(&partial))?;
    std::fs::rename(&partial, path).map_err(io(path))?;
    Ok((size, last))
}

/// Reads a snapshot file block by block: its header, then each record,
/// checked against the height the header promises.
struct Reader {
    input: BufReader<File>,
    path: PathBuf,
    /// The last height, as the header says.
    last: u64,
    /// Records read so far.
    count: u64,
}

impl Reader {
    fn open(path: &Path) -> Result<Reader, SnapshotError> {
        let file = File::open(path).map_err(io(path))?;
        let mut reader =
            Reader { input: BufReader::with_capacity(1 << 20, file), path: path.to_path_buf(), last: 0, count: 0 };
        let mut header = [0u8; 16];
        reader.input.read_exact(&mut header).map_err(|_| reader.invalid("shorter than its header".into()))?;
        if &header[..8] != MAGIC {
            return Err(reader.invalid("it does not start with the snapshot header".into()));
        }
        reader.last = u64::from_le_bytes(header[8..].try_into().unwrap_or_default());
        Ok(reader)
    }

    fn invalid(&self, reason: String) -> SnapshotError {
        SnapshotError::Invalid { path: self.path.clone(), reason }
    }

    /// The next block, or `None` after the last one the header names.
    fn next(&mut self) -> Result<Option<StoredBlock>, SnapshotError> {
        let count = self.count;
        if count > self.last {
            return Ok(None);
        }
        let mut len = [0u8; 4];
        match self.input.read_exact(&mut len) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::UnexpectedEof && count > self.last => return Ok(None),
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => {
                return Err(self.invalid(format!("it ends after {count} of {} blocks", self.last + 1)));
            }
            Err(e) => return Err(io(&self.path)(e)),
        }
        let len = u32::from_le_bytes(len);
        if len > MAX_RECORD {
            return Err(self.invalid(format!("record {count} claims {len} bytes")));
        }
        let mut bytes = vec![0u8; len as usize];
        self.input.read_exact(&mut bytes).map_err(|_| self.invalid(format!("record {count} is cut short")))?;
        let stored = StoredBlock::decode(&bytes).map_err(|e| self.invalid(format!("record {count}: {e}")))?;
        if stored.block.header.height != count || count > self.last {
            return Err(self.invalid(format!("record {count} holds block {}", stored.block.header.height)));
        }
        self.count += 1;
        Ok(Some(stored))
    }
}

impl Reader {
    /// Skips the remaining blocks, then reads the audit section, if the file has one.
    fn audit(&mut self) -> Result<Option<Vec<u8>>, SnapshotError> {
        while self.count <= self.last {
            let mut len = [0u8; 4];
            self.input.read_exact(&mut len).map_err(|_| self.invalid(format!("record {} is cut short", self.count)))?;
            let len = u32::from_le_bytes(len);
            if len > MAX_RECORD {
                return Err(self.invalid(format!("record {} claims {len} bytes", self.count)));
            }
            self.input.seek_relative(i64::from(len)).map_err(io(&self.path))?;
            self.count += 1;
        }
        let mut magic = [0u8; 8];
        match self.input.read_exact(&mut magic) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(io(&self.path)(e)),
        }
        let mut len = [0u8; 8];
        if &magic != AUDIT_MAGIC || self.input.read_exact(&mut len).is_err() {
            return Err(self.invalid("what follows the last block is not an audit log".into()));
        }
        let mut text = Vec::new();
        let len = u64::from_le_bytes(len);
        (&mut self.input).take(len).read_to_end(&mut text).map_err(io(&self.path))?;
        if text.len() as u64 != len {
            return Err(self.invalid(format!("its audit log is cut short ({} of {len} bytes)", text.len())));
        }
        Ok(Some(text))
    }
}

/// The audit log a backup carries after its blocks, if any (backups made
/// before backups carried one have none).
pub fn audit_of(path: &Path) -> Result<Option<Vec<u8>>, SnapshotError> {
    Reader::open(path)?.audit()
}

/// The genesis document a snapshot or backup file starts with (block 0's).
pub fn genesis_of(path: &Path) -> Result<billflow_types::Genesis, SnapshotError> {
    let mut reader = Reader::open(path)?;
    let first = reader.next()?.ok_or_else(|| reader.invalid("it holds no block".into()))?;
    first.genesis.ok_or_else(|| reader.invalid("block 0 carries no genesis document".into()))
}

/// Reads the snapshot at `path` block by block and installs into `chain` the
/// blocks it does not have. Returns the chain's tip and the number of blocks read.
///
/// A file that is not a snapshot, is cut short or holds a block that does not
/// decode is refused before or at that block; blocks before it stay installed,
/// which is harmless: they are the ledger's own history, checked as they are committed.
pub fn install(chain: &Chain, path: &Path) -> Result<(ChainTip, u64), SnapshotError> {
    let mut reader = Reader::open(path)?;
    let mut batch = Vec::with_capacity(INSTALL_BATCH);
    while let Some(stored) = reader.next()? {
        batch.push(stored);
        if batch.len() == INSTALL_BATCH {
            chain.install_blocks(batch.drain(..))?;
        }
    }
    let tip = chain.install_blocks(batch)?;
    Ok((tip, reader.count))
}

/// Removes every snapshot (`*.snap`) and every abandoned transfer (`*.part`)
/// in `dir` except `keep`. Called when a snapshot was installed or built,
/// when any transfer left is one the leader gave up (Raft keeps it open until
/// the next one begins). Should the leader take it up again after all, its
/// data is still in the open handle, and [`SnapshotFile::received`] writes it
/// out again. A snapshot being built (`*.partial`) stays.
pub fn remove_others(dir: &Path, keep: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path != keep && path.extension().is_some_and(|e| e == "snap" || e == "part") {
            if let Err(e) = std::fs::remove_file(&path) {
                tracing::warn!(path = %path.display(), error = %e, "cannot remove an old snapshot file");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use billflow_chain::{Chain, ChainConfig};
    use billflow_storage::Store;
    use billflow_types::ConsensusRef;
    use billflow_types::dev::{dev_genesis, dev_registration};

    use super::*;

    fn open(dir: &Path) -> Chain {
        let config = ChainConfig { node_id: "n1".parse().unwrap(), mempool_capacity: 100 };
        Chain::open(Store::open(dir).unwrap(), &dev_genesis(), config).unwrap()
    }

    #[tokio::test]
    async fn a_transfer_whose_file_was_removed_is_written_out_again_when_received() {
        use tokio::io::AsyncWriteExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("incoming-0.part");
        let mut file = SnapshotFile::create(&path).await.unwrap();
        file.write_all(b"first chunk ").await.unwrap();
        // A snapshot made meanwhile takes the transfer for abandoned.
        remove_others(dir.path(), &dir.path().join("1-10-9.snap"));
        assert!(!path.exists());
        file.write_all(b"second chunk").await.unwrap();
        assert_eq!(file.received().await.unwrap(), path);
        assert_eq!(std::fs::read(&path).unwrap(), b"first chunk second chunk");

        // An undisturbed transfer keeps its file, and a dropped one loses it.
        let mut file = SnapshotFile::create(&path).await.unwrap();
        file.write_all(b"whole").await.unwrap();
        assert_eq!(file.received().await.unwrap(), path);
        assert_eq!(std::fs::read(&path).unwrap(), b"whole");
        let other = dir.path().join("incoming-1.part");
        drop(SnapshotFile::create(&other).await.unwrap());
        assert!(!other.exists());
    }

    #[tokio::test]
    async fn a_backup_carries_the_complete_lines_of_the_audit_log() {
        let dirs: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
        let source = open(dirs[0].path());
        for n in 1..=5u64 {
            assert!(source.submit(dev_registration(n, billflow_chain::now_ms())).unwrap().is_ok());
            let proposal = source.next_proposal().await;
            source.apply(&proposal, ConsensusRef { term: 1, index: n }, Vec::new()).unwrap();
        }
        let audit_log = dirs[0].path().join("audit.jsonl");
        // Two whole entries and one the writer is still appending.
        std::fs::write(&audit_log, "{\"seq\":0}\n{\"seq\":1}\n{\"seq\":2,\"ti").unwrap();
        let out = dirs[0].path().join("node.backup");
        let (size, height) = backup(dirs[0].path(), &audit_log, &out).unwrap();
        assert_eq!((size, height), (std::fs::metadata(&out).unwrap().len(), 5));
        assert_eq!(audit_of(&out).unwrap().as_deref(), Some(&b"{\"seq\":0}\n{\"seq\":1}\n"[..]));
        let target = open(dirs[1].path());
        assert_eq!(install(&target, &out).unwrap().0, source.tip(), "the audit section does not disturb the blocks");

        // A node without an audit log, and a snapshot, carry none.
        let bare = dirs[0].path().join("bare.backup");
        backup(dirs[0].path(), &dirs[0].path().join("no-such-log"), &bare).unwrap();
        assert_eq!(audit_of(&bare).unwrap(), None);
        let snap = dirs[0].path().join("s.snap");
        write(source.store(), 5, &snap).unwrap();
        assert_eq!(audit_of(&snap).unwrap(), None);

        // Cut inside the audit section, or something else after the blocks: refused.
        let bytes = std::fs::read(&out).unwrap();
        let cut = dirs[1].path().join("cut.backup");
        std::fs::write(&cut, &bytes[..bytes.len() - 3]).unwrap();
        assert!(matches!(audit_of(&cut), Err(SnapshotError::Invalid { .. })));
        let snap_bytes = std::fs::read(&snap).unwrap();
        std::fs::write(&cut, [&snap_bytes[..], b"garbage!garbage!"].concat()).unwrap();
        assert!(matches!(audit_of(&cut), Err(SnapshotError::Invalid { .. })));
    }

    #[tokio::test]
    async fn a_snapshot_file_rebuilds_the_chain_and_damaged_files_are_refused() {
        let dirs: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
        let source = open(dirs[0].path());
        for n in 1..=70u64 {
            assert!(source.submit(dev_registration(n, billflow_chain::now_ms())).unwrap().is_ok());
            let proposal = source.next_proposal().await;
            source.apply(&proposal, ConsensusRef { term: 1, index: n }, Vec::new()).unwrap();
        }
        let tip = source.tip();
        assert_eq!(tip.height, 70);
        let path = dirs[0].path().join("s.snap");
        let size = write(source.store(), tip.height, &path).unwrap();
        assert_eq!(size, std::fs::metadata(&path).unwrap().len());

        let target = open(dirs[1].path());
        let bytes = std::fs::read(&path).unwrap();
        let damaged = dirs[1].path().join("damaged");
        let cases: [(&str, Vec<u8>); 6] = [
            ("not a snapshot", b"{\"blocks\": []}".to_vec()),
            ("header only", MAGIC.to_vec()),
            ("no block", [&MAGIC[..], &0u64.to_le_bytes()].concat()),
            (
                "cut after the first block",
                bytes[..20 + u32::from_le_bytes(bytes[16..20].try_into().unwrap()) as usize].to_vec(),
            ),
            ("a huge length", [&MAGIC[..], &70u64.to_le_bytes(), &u32::MAX.to_le_bytes()].concat()),
            ("cut short", bytes[..bytes.len() / 3].to_vec()),
        ];
        for (what, content) in cases {
            std::fs::write(&damaged, content).unwrap();
            let err = install(&target, &damaged).unwrap_err();
            assert!(matches!(err, SnapshotError::Invalid { .. }), "{what}: {err}");
        }
        // What was installed before the cut is the source's own history.
        let partial = target.tip();
        assert_eq!(target.store().block(partial.height).unwrap(), source.store().block(partial.height).unwrap());

        let (installed, count) = install(&target, &path).unwrap();
        assert_eq!((installed, count), (tip, 71));
        let receipt = |c: &Chain| c.store().receipts(70).unwrap();
        assert_eq!(receipt(&target), receipt(&source));
    }
}
