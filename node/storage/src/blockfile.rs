//! Append-only block files: the ledger's record of every committed block, with
//! its receipts and state changes, outside sled.
//!
//! As in Hyperledger Fabric's block store, the block files are the source of
//! truth and sled holds what can be rebuilt from them (indexes, latest state).
//! Each record is framed as
//! `magic "BFB1" ‖ height u64 ‖ length u32 ‖ crc32 u32 ‖ payload`, all
//! little-endian, where the payload is the canonical encoding of a
//! [`StoredBlock`]. Files are `blocks/seg-NNNNNN.blk`, each closed once it
//! passes [`SEGMENT_BYTES`]. A torn record at the end of the last file (a crash
//! mid-append) is cut off on open; a bad record anywhere else is corruption.

use std::fs::{self, File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use billflow_types::{Block, BlockHeader, Canonical, Genesis, Receipt, SignedTx, StateChange};
use borsh::{BorshDeserialize, BorshSerialize};

use crate::{Result, StorageError};

const MAGIC: &[u8; 4] = b"BFB1";
/// A frame's header: magic, number (height or log index), length, checksum.
pub(crate) const HEADER_LEN: usize = 20;
/// A file is closed and a new one started once it holds this many bytes.
pub const SEGMENT_BYTES: u64 = 256 * 1024 * 1024;
/// The largest record accepted on read (guards against a corrupt length).
const MAX_RECORD_BYTES: u32 = 1 << 30;

/// What one record holds: everything a committed block wrote.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct StoredBlock {
    /// The block.
    pub block: Block,
    /// Its receipts, in transaction order.
    pub receipts: Vec<Receipt>,
    /// Its state changes, sorted by contract and key.
    pub changes: Vec<StateChange>,
    /// The genesis document, with block 0 only.
    pub genesis: Option<Genesis>,
    /// Consensus metadata written with the block (e.g. which log entry it applied).
    pub meta: Vec<(String, Vec<u8>)>,
}

/// Where a record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct BlockPos {
    /// File number.
    pub segment: u32,
    /// Offset of the record's frame.
    pub offset: u64,
    /// Payload length.
    pub len: u32,
}

impl BlockPos {
    /// The offset just past this record.
    pub fn end(&self) -> u64 {
        self.offset + HEADER_LEN as u64 + u64::from(self.len)
    }
}

/// Where one receipt's canonical bytes lie inside a block record, with their
/// checksum: what the transaction index keeps so that a receipt is read from
/// the block files alone, without a copy in the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub(crate) struct ReceiptSpan {
    /// File number.
    pub segment: u32,
    /// Offset of the receipt's first byte in the file.
    pub offset: u64,
    /// Length of its encoding.
    pub len: u32,
    /// CRC-32 of its encoding.
    pub crc: u32,
}

/// The spans of `stored`'s receipts in its record at `pos`. A record's payload
/// is the canonical encoding of a [`StoredBlock`]: the block, then the count
/// of receipts (u32) and each receipt's encoding in turn.
pub(crate) fn receipt_spans(stored: &StoredBlock, pos: BlockPos) -> Result<Vec<ReceiptSpan>> {
    let block_len =
        borsh::object_length(&stored.block).map_err(|e| io("measure a block's encoding", std::io::Error::other(e)))?;
    let mut offset = pos.offset + HEADER_LEN as u64 + block_len as u64 + 4;
    let mut spans = Vec::with_capacity(stored.receipts.len());
    for receipt in &stored.receipts {
        let bytes = receipt.encode();
        let len =
            u32::try_from(bytes.len()).map_err(|_| io("frame a receipt", std::io::ErrorKind::InvalidInput.into()))?;
        spans.push(ReceiptSpan { segment: pos.segment, offset, len, crc: crc32fast::hash(&bytes) });
        offset += u64::from(len);
    }
    Ok(spans)
}

/// Reads the receipt at `span` from the block files, checking its checksum.
pub(crate) fn read_receipt(readers: &Readers, span: ReceiptSpan, what: impl Fn() -> String) -> Result<Receipt> {
    let corrupt = |reason: String| StorageError::Corrupt { what: what(), reason };
    let file = readers.file(span.segment).map_err(|e| corrupt(e.to_string()))?;
    let mut bytes = vec![0u8; span.len as usize];
    file.read_exact_at(&mut bytes, span.offset).map_err(|e| {
        corrupt(format!("{} bytes at offset {} of block file {}: {e}", span.len, span.offset, span.segment))
    })?;
    if crc32fast::hash(&bytes) != span.crc {
        return Err(corrupt(format!("checksum mismatch at offset {} of block file {}", span.offset, span.segment)));
    }
    Receipt::decode(&bytes).map_err(|e| corrupt(e.to_string()))
}

/// How many block files [`Readers`] keeps open.
const READERS_KEPT: usize = 8;

/// Block files open for reading, the most recently read first, so that a
/// read at a known position is a `pread`, not an open, a stat and a close
/// (a tenth of a node's time serving transaction reads). Files are only ever
/// appended to while a store is open, so a handle never goes stale.
pub(crate) struct Readers {
    dir: PathBuf,
    open: Mutex<Vec<(u32, Arc<File>)>>,
}

impl Readers {
    pub(crate) fn new(dir: &Path) -> Readers {
        Readers { dir: dir.to_path_buf(), open: Mutex::new(Vec::with_capacity(READERS_KEPT)) }
    }

    /// Block file `segment`, open for reading.
    fn file(&self, segment: u32) -> std::result::Result<Arc<File>, String> {
        if let Ok(mut open) = self.open.lock()
            && let Some(i) = open.iter().position(|(s, _)| *s == segment)
        {
            let entry = open.remove(i);
            let file = entry.1.clone();
            open.insert(0, entry);
            return Ok(file);
        }
        let path = segment_path(&self.dir, segment);
        let file = Arc::new(File::open(&path).map_err(|e| format!("block file {} unreadable: {e}", path.display()))?);
        // A poisoned list only loses the cache: the file just opened serves.
        if let Ok(mut open) = self.open.lock()
            && !open.iter().any(|(s, _)| *s == segment)
        {
            open.insert(0, (segment, file.clone()));
            open.truncate(READERS_KEPT);
        }
        Ok(file)
    }
}

/// A record found after the newest indexed one.
pub(crate) struct Unindexed {
    pub height: u64,
    pub pos: BlockPos,
    pub stored: StoredBlock,
}

pub(crate) struct BlockFiles {
    dir: PathBuf,
    segment: u32,
    file: File,
    len: u64,
    /// Records written since the last sync.
    pub(crate) unsynced: bool,
}

impl Drop for BlockFiles {
    /// A store closed in order leaves its records durable.
    fn drop(&mut self) {
        if self.unsynced {
            let _ = self.file.sync_data();
        }
    }
}

/// Whether the block files in `dir` reach to the end of the record at `pos`
/// (its file is there and long enough). An index that points past them was
/// written out before the records it names were made durable, and a crash
/// took those records.
pub(crate) fn reach(dir: &Path, pos: BlockPos) -> Result<bool> {
    match fs::metadata(segment_path(dir, pos.segment)) {
        Ok(m) => Ok(m.len() >= pos.end()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io("stat block file", e)),
    }
}

fn segment_path(dir: &Path, segment: u32) -> PathBuf {
    dir.join(format!("seg-{segment:06}.blk"))
}

pub(crate) fn io(what: &str, e: std::io::Error) -> StorageError {
    StorageError::Io(format!("{what}: {e}"))
}

/// The outcome of reading the frame at an offset.
pub(crate) enum Frame {
    /// A whole, intact record.
    Record { height: u64, pos: BlockPos, payload: Vec<u8> },
    /// Nothing (more) at this offset.
    End,
    /// A frame that is cut short or does not check.
    Bad(String),
}

pub(crate) fn read_frame(file: &File, segment: u32, offset: u64, file_len: u64) -> Frame {
    read_frame_of(file, MAGIC, segment, offset, file_len)
}

/// Appends to `out` the frame of `payload`, numbered `number`, under `magic`.
pub(crate) fn push_frame(out: &mut Vec<u8>, magic: &[u8; 4], number: u64, payload: &[u8]) -> Result<u32> {
    let len =
        u32::try_from(payload.len()).map_err(|_| io("frame a record", std::io::ErrorKind::InvalidInput.into()))?;
    out.extend_from_slice(magic);
    out.extend_from_slice(&number.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    out.extend_from_slice(payload);
    Ok(len)
}

/// Reads the frame under `magic` at `offset` of `file` (segment `segment`).
pub(crate) fn read_frame_of(file: &File, magic: &[u8; 4], segment: u32, offset: u64, file_len: u64) -> Frame {
    if offset == file_len {
        return Frame::End;
    }
    if offset + HEADER_LEN as u64 > file_len {
        return Frame::Bad("frame header cut short".into());
    }
    let mut header = [0u8; HEADER_LEN];
    if let Err(e) = file.read_exact_at(&mut header, offset) {
        return Frame::Bad(format!("unreadable frame header: {e}"));
    }
    if &header[..4] != magic {
        return Frame::Bad("no record marker".into());
    }
    let height = u64::from_le_bytes(header[4..12].try_into().unwrap_or_default());
    let len = u32::from_le_bytes(header[12..16].try_into().unwrap_or_default());
    let crc = u32::from_le_bytes(header[16..20].try_into().unwrap_or_default());
    if len > MAX_RECORD_BYTES || offset + HEADER_LEN as u64 + u64::from(len) > file_len {
        return Frame::Bad(format!("record of {len} bytes runs past the end of the file"));
    }
    let mut payload = vec![0u8; len as usize];
    if let Err(e) = file.read_exact_at(&mut payload, offset + HEADER_LEN as u64) {
        return Frame::Bad(format!("unreadable record: {e}"));
    }
    if crc32fast::hash(&payload) != crc {
        return Frame::Bad("record checksum mismatch".into());
    }
    Frame::Record { height, pos: BlockPos { segment, offset, len }, payload }
}

impl BlockFiles {
    /// Opens the block files in `dir`, positioned to append after `last` (the
    /// newest record the index knows, `None` for an empty chain). Returns the
    /// records found after it (written, but not yet indexed when the process
    /// stopped) and cuts off a torn tail.
    pub(crate) fn open(dir: &Path, last: Option<BlockPos>) -> Result<(BlockFiles, Vec<Unindexed>)> {
        fs::create_dir_all(dir).map_err(|e| io("create block directory", e))?;
        let (mut segment, mut offset) = match last {
            Some(p) => (p.segment, p.end()),
            None => (0, 0),
        };
        let mut pending = Vec::new();
        loop {
            let path = segment_path(dir, segment);
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(|e| io("open block file", e))?;
            let file_len = file.metadata().map_err(|e| io("stat block file", e))?.len();
            if offset > file_len {
                return Err(StorageError::Corrupt {
                    what: format!("block file {}", path.display()),
                    reason: format!("the index points to offset {offset}, the file holds {file_len} bytes"),
                });
            }
            loop {
                match read_frame(&file, segment, offset, file_len) {
                    Frame::Record { height, pos, payload } => {
                        let stored = StoredBlock::decode(&payload).map_err(|e| StorageError::Corrupt {
                            what: format!("block {height}"),
                            reason: e.to_string(),
                        })?;
                        offset = pos.end();
                        pending.push(Unindexed { height, pos, stored });
                    }
                    Frame::End => break,
                    Frame::Bad(_) => {
                        // A torn append: the record was never acknowledged.
                        file.set_len(offset).map_err(|e| io("cut torn block record", e))?;
                        file.sync_all().map_err(|e| io("sync block file", e))?;
                        break;
                    }
                }
            }
            let next = segment_path(dir, segment + 1);
            if next.exists() && offset >= SEGMENT_BYTES {
                segment += 1;
                offset = 0;
                continue;
            }
            let mut files = BlockFiles { dir: dir.to_path_buf(), segment, file, len: offset, unsynced: false };
            files.file.seek(SeekFrom::Start(offset)).map_err(|e| io("seek block file", e))?;
            return Ok((files, pending));
        }
    }

    /// Appends a record and syncs it to disk.
    #[cfg(test)]
    pub(crate) fn append(&mut self, height: u64, payload: &[u8]) -> Result<BlockPos> {
        let pos = self.write(height, payload)?;
        self.sync()?;
        Ok(pos)
    }

    /// Appends a record without syncing it: [`BlockFiles::sync`] makes every
    /// record written so far durable. A segment that fills is synced before
    /// the next one is started, so only the current segment is ever unsynced.
    pub(crate) fn write(&mut self, height: u64, payload: &[u8]) -> Result<BlockPos> {
        if self.len >= SEGMENT_BYTES {
            self.sync()?;
            let segment = self.segment + 1;
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(true)
                .open(segment_path(&self.dir, segment))
                .map_err(|e| io("create block file", e))?;
            fs::File::open(&self.dir).and_then(|d| d.sync_all()).map_err(|e| io("sync block directory", e))?;
            self.segment = segment;
            self.file = file;
            self.len = 0;
        }
        let mut frame = Vec::with_capacity(HEADER_LEN + payload.len());
        let len = push_frame(&mut frame, MAGIC, height, payload)?;
        let pos = BlockPos { segment: self.segment, offset: self.len, len };
        if let Err(e) = self.file.write_all(&frame) {
            // Leave no partial frame behind for the next append to follow.
            let _ = self.file.set_len(self.len);
            let _ = self.file.seek(SeekFrom::Start(self.len));
            return Err(io("append block", e));
        }
        self.len += frame.len() as u64;
        self.unsynced = true;
        Ok(pos)
    }

    /// Makes every record written so far durable.
    pub(crate) fn sync(&mut self) -> Result<()> {
        if self.unsynced {
            self.file.sync_data().map_err(|e| io("sync block file", e))?;
            self.unsynced = false;
        }
        Ok(())
    }
}

/// Reads the record at `pos` from the block files.
pub(crate) fn read(readers: &Readers, pos: BlockPos, height: u64) -> Result<StoredBlock> {
    let payload = read_payload(readers, pos, height)?;
    StoredBlock::decode(&payload)
        .map_err(|e| StorageError::Corrupt { what: format!("block {height}"), reason: e.to_string() })
}

/// Transaction `index` of the block whose record is at `pos`, with the
/// block's header, decoding only the header and the transactions up to it: a
/// record's payload begins with the block, its header and then the count of
/// transactions (u32) and each transaction's encoding in turn. `None` if the
/// block holds fewer.
pub(crate) fn read_tx(
    readers: &Readers,
    pos: BlockPos,
    height: u64,
    index: u32,
) -> Result<Option<(BlockHeader, SignedTx)>> {
    let payload = read_payload(readers, pos, height)?;
    let corrupt = |e: std::io::Error| StorageError::Corrupt { what: format!("block {height}"), reason: e.to_string() };
    let mut rest = payload.as_slice();
    let header = BlockHeader::deserialize_reader(&mut rest).map_err(corrupt)?;
    let count = u32::deserialize_reader(&mut rest).map_err(corrupt)?;
    if index >= count {
        return Ok(None);
    }
    for _ in 0..index {
        SignedTx::deserialize_reader(&mut rest).map_err(corrupt)?;
    }
    let tx = SignedTx::deserialize_reader(&mut rest).map_err(corrupt)?;
    Ok(Some((header, tx)))
}

/// The bytes of the record at `pos`, as written (the canonical encoding of a
/// [`StoredBlock`]), checked against their checksum but not decoded.
pub(crate) fn read_payload(readers: &Readers, pos: BlockPos, height: u64) -> Result<Vec<u8>> {
    let corrupt = |reason: String| StorageError::Corrupt { what: format!("block {height}"), reason };
    let file = readers.file(pos.segment).map_err(corrupt)?;
    let file_len = file.metadata().map_err(|e| io("stat block file", e))?.len();
    match read_frame(&file, pos.segment, pos.offset, file_len) {
        Frame::Record { height: h, pos: p, payload } => {
            if h != height || p != pos {
                return Err(corrupt(format!("the record at this position is for height {h}")));
            }
            Ok(payload)
        }
        Frame::End => Err(corrupt("record missing from the block file".into())),
        Frame::Bad(reason) => Err(corrupt(reason)),
    }
}

/// Reads every whole record of the block files in `dir`, oldest first, without
/// opening them for writing or taking any lock, and hands each block to
/// `visit`. A node may be appending meanwhile: a record cut short at the end
/// of the newest file ends the scan there, so what is read is always a
/// consistent prefix of the chain. Returns how many blocks were read.
pub fn scan(dir: &Path, mut visit: impl FnMut(StoredBlock) -> Result<()>) -> Result<u64> {
    scan_records(dir, |_, stored| visit(stored))
}

/// [`scan`], handing each block over with its record's position.
pub(crate) fn scan_records(dir: &Path, mut visit: impl FnMut(BlockPos, StoredBlock) -> Result<()>) -> Result<u64> {
    let mut count = 0u64;
    for segment in 0.. {
        let path = segment_path(dir, segment);
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => break,
            Err(e) => return Err(io("open block file", e)),
        };
        let file_len = file.metadata().map_err(|e| io("stat block file", e))?.len();
        let last = !segment_path(dir, segment + 1).exists();
        let mut offset = 0;
        loop {
            match read_frame(&file, segment, offset, file_len) {
                Frame::Record { height, pos, payload } => {
                    let corrupt = |reason: String| StorageError::Corrupt { what: format!("block {height}"), reason };
                    if height != count {
                        return Err(corrupt(format!("found where block {count} belongs")));
                    }
                    visit(pos, StoredBlock::decode(&payload).map_err(|e| corrupt(e.to_string()))?)?;
                    offset = pos.end();
                    count += 1;
                }
                Frame::End => break,
                Frame::Bad(_) if last => return Ok(count),
                Frame::Bad(reason) => {
                    return Err(StorageError::Corrupt { what: format!("block file {}", path.display()), reason });
                }
            }
        }
    }
    Ok(count)
}
