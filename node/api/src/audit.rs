//! The gateway's audit log: one hash-chained JSON line per call
//! ([`billflow_types::audit`]), in `<dir>/audit.jsonl` and, once that passes
//! its segment size, in rotated segments `audit-<first entry>.jsonl` beside
//! it. The chain runs on across segments: a segment's first entry links to
//! the last entry of the one before. Nothing is ever deleted by the node.
//!
//! Requests hand entries to a writer thread, which appends whatever has
//! queued up and makes it durable with one `fdatasync` (group commit). A
//! request's answer leaves only once its entry is durable
//! ([`Audit::record`]), so a crash loses no entry of a call that was answered.
//!
//! Pages are read through a sparse index kept in memory (the segment, offset
//! and time of every [`INDEX_EVERY`]-th entry and of each segment's first),
//! not by scanning the files: a page reads from the indexed entry before
//! where it starts. The whole chain of the segments present is checked when
//! the log is opened; a page checks each entry it reads against its hash and
//! the one before it.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock, mpsc};

use billflow_types::Hash32;
use billflow_types::audit::{AuditBreak, AuditEntry, AuditHead, verify_chain_from};

/// Where the writer publishes the log's durable head.
pub(crate) type HeadSender = Option<std::sync::Arc<tokio::sync::watch::Sender<Option<AuditHead>>>>;

/// What a request contributes; the writer numbers and links it.
#[derive(Debug, Clone)]
pub(crate) struct Event {
    pub time: String,
    pub request_id: String,
    pub subject: String,
    pub object: String,
    pub action: String,
    pub result: String,
}

/// The live segment's file name in its directory.
pub const AUDIT_FILE: &str = "audit.jsonl";

/// A live segment that has grown past this is rotated (after a batch).
pub const SEGMENT_BYTES: u64 = 256 * 1024 * 1024;

/// The file name of the rotated segment whose first entry is `first`.
pub fn segment_name(first: u64) -> String {
    format!("audit-{first:020}.jsonl")
}

/// The log's files in `dir`, oldest first: the rotated segments present, by
/// their first entry, then the live one if it exists.
pub fn log_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut rotated = Vec::new();
    match std::fs::read_dir(dir) {
        Ok(entries) => {
            for entry in entries {
                let name = entry?.file_name().to_string_lossy().into_owned();
                let first = name.strip_prefix("audit-").and_then(|n| n.strip_suffix(".jsonl"));
                if let Some(first) = first.and_then(|f| f.parse::<u64>().ok()) {
                    rotated.push((first, dir.join(name)));
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    }
    rotated.sort();
    let mut files: Vec<PathBuf> = rotated.into_iter().map(|(_, p)| p).collect();
    let live = dir.join(AUDIT_FILE);
    if live.exists() {
        files.push(live);
    }
    Ok(files)
}

/// An entry on its way to the writer, with whom to tell once it is durable.
type Queued = (Event, tokio::sync::oneshot::Sender<bool>);

/// One entry in [`INDEX_EVERY`] is indexed (and each segment's first).
pub(crate) const INDEX_EVERY: u64 = 256;

/// One indexed entry.
#[derive(Debug, Clone)]
struct Point {
    seq: u64,
    /// The first entry of its segment (the segment's id).
    segment: u64,
    offset: u64,
    time: String,
}

/// The segments, where the durable part of the live one ends, and the sparse index.
#[derive(Debug, Default)]
struct Index {
    dir: PathBuf,
    points: Vec<Point>,
    /// The segments' ids (first entries), oldest first; the last is the live one.
    segments: Vec<u64>,
    /// Length of the live segment's durable, whole lines.
    durable_len: u64,
}

impl Index {
    /// Opens segment `id` and says how far to read it: the durable part of
    /// the live segment, all of a rotated one. Called under the lock, so a
    /// rotation cannot move the file between finding and opening it.
    fn open(&self, id: u64) -> std::io::Result<(File, u64)> {
        if self.segments.last() == Some(&id) {
            Ok((File::open(self.dir.join(AUDIT_FILE))?, self.durable_len))
        } else {
            let file = File::open(self.dir.join(segment_name(id)))?;
            let len = file.metadata()?.len();
            Ok((file, len))
        }
    }
}

/// Appends to the audit log, and reads pages of it.
#[derive(Clone)]
pub(crate) struct Audit {
    tx: mpsc::Sender<Queued>,
    index: Arc<RwLock<Index>>,
}

/// What a page asks for.
#[derive(Debug, Default)]
pub(crate) struct PageQuery<'a> {
    /// Entries after this position.
    pub after: Option<u64>,
    /// From this time (inclusive; a prefix of RFC 3339 UTC).
    pub from: Option<&'a str>,
    /// To this time (inclusive; a date covers its whole day).
    pub to: Option<&'a str>,
    /// Entries whose subject contains this.
    pub subject: Option<&'a str>,
    /// How many.
    pub limit: usize,
}

/// Past `to`, the read stops after this many entries in a row that are all
/// later (entries are in arrival order, and arrival times are close to it).
const PAST_TO: usize = 1_000;

/// Reads and verifies the audit log in `dir` (every segment present).
/// Returns the entries, or where it breaks.
pub fn read_audit_log(dir: &Path) -> std::io::Result<Result<Vec<AuditEntry>, AuditBreak>> {
    let mut all = Vec::new();
    for file in log_files(dir)? {
        match parse_lines(&read_log(&file)?) {
            Ok(entries) => all.extend(entries),
            Err(broken) => return Ok(Err(broken)),
        }
    }
    let start = all.first().map_or((0, Hash32([0; 32])), |e| (e.seq, e.prev));
    Ok(verify_chain_from(&all, start.0, start.1).map(|_| all))
}

/// The entries of the log written so far, checked against the hash chain: a
/// line the writer has not finished is left for the next read.
#[cfg(test)]
pub(crate) fn read_complete_entries(dir: &Path) -> std::io::Result<Result<Vec<AuditEntry>, AuditBreak>> {
    read_audit_log(dir)
}

/// A file's text (empty if there is none).
fn read_log(path: &Path) -> std::io::Result<String> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(e),
    }
}

/// Parses a segment's lines (whole lines only; the chain is checked by the caller).
fn parse_lines(text: &str) -> Result<Vec<AuditEntry>, AuditBreak> {
    let mut entries: Vec<AuditEntry> = Vec::new();
    for (n, line) in text.split_inclusive('\n').filter(|l| l.ends_with('\n')).enumerate() {
        match serde_json::from_str::<AuditEntry>(line) {
            Ok(e) => entries.push(e),
            Err(e) => {
                let seq = entries.last().map_or(n as u64, |p| p.seq + 1);
                return Err(AuditBreak { seq, reason: format!("line {} is not an audit entry: {e}", n + 1) });
            }
        }
    }
    Ok(entries)
}

impl Audit {
    /// Opens (or creates) the log in `dir`, checking the chain of the
    /// segments present, and starts its writer, which rotates the live
    /// segment once it passes `segment_bytes`.
    pub(crate) fn open(dir: &Path, heads: HeadSender) -> std::io::Result<Audit> {
        Audit::open_with(dir, heads, SEGMENT_BYTES)
    }

    pub(crate) fn open_with(dir: &Path, heads: HeadSender, segment_bytes: u64) -> std::io::Result<Audit> {
        std::fs::create_dir_all(dir)?;
        let live = dir.join(AUDIT_FILE);
        cut_torn_tail(&live)?;
        let mut index = Index { dir: dir.to_path_buf(), ..Index::default() };
        // What the next entry must be: its position and the hash it links to.
        let mut next: Option<(u64, Hash32)> = None;
        let mut offset = 0u64;
        let mut live_seen = false;
        for path in log_files(dir)? {
            let is_live = path == live;
            live_seen |= is_live;
            let text = read_log(&path)?;
            let broken =
                |b: AuditBreak| std::io::Error::other(format!("the audit log {} is broken: {b}", path.display()));
            let entries = parse_lines(&text).map_err(broken)?;
            let Some(first) = entries.first() else {
                if is_live {
                    index.segments.push(next.map_or(0, |(seq, _)| seq));
                }
                continue;
            };
            let (seq, prev) = next.unwrap_or((first.seq, first.prev));
            let after = verify_chain_from(&entries, seq, prev).map_err(broken)?;
            index.segments.push(first.seq);
            offset = 0;
            for (n, (entry, line)) in entries.iter().zip(text.split_inclusive('\n')).enumerate() {
                if n == 0 || entry.seq % INDEX_EVERY == 0 {
                    index.points.push(Point { seq: entry.seq, segment: first.seq, offset, time: entry.time.clone() });
                }
                offset += line.len() as u64;
            }
            next = Some((after, entries.last().map_or(prev, |e| e.hash)));
            if !is_live {
                offset = 0;
            }
        }
        let (next_seq, prev) = next.unwrap_or((0, Hash32([0; 32])));
        if !live_seen {
            // No live segment yet: it starts at the next entry.
            index.segments.push(next_seq);
        }
        index.durable_len = offset;
        let index = Arc::new(RwLock::new(index));
        let file = OpenOptions::new().create(true).append(true).open(&live)?;
        if let (Some(heads), Some(seq)) = (&heads, next_seq.checked_sub(1)) {
            heads.send_replace(Some(AuditHead { seq, hash: prev }));
        }
        let (tx, rx) = mpsc::channel();
        let writer = Writer {
            dir: dir.to_path_buf(),
            index: index.clone(),
            heads,
            seq: next_seq,
            prev,
            offset,
            segment_bytes,
            out: BufWriter::new(file),
        };
        std::thread::Builder::new().name("audit-log".into()).spawn(move || writer.run(rx))?;
        Ok(Audit { tx, index })
    }

    /// A page of the durable log: the entries that match `q`, oldest first,
    /// at most `q.limit`, and whether more follow. Reads from the indexed
    /// entry before the page's start, on through later segments; each entry
    /// read is checked against its hash and linked to the one read before it.
    pub(crate) fn page(&self, q: &PageQuery<'_>) -> std::io::Result<Result<(Vec<AuditEntry>, bool), AuditBreak>> {
        let lock = || self.index.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (segments, start) = {
            let index = lock();
            let first = q.after.map_or(0, |a| a.saturating_add(1));
            let by_seq = index.points.partition_point(|p| p.seq <= first).saturating_sub(1);
            // Times are in arrival order only roughly: start one indexed entry earlier.
            let by_time =
                q.from.map_or(0, |from| index.points.partition_point(|p| p.time.as_str() < from).saturating_sub(2));
            let start = index.points.get(by_seq.max(by_time)).map(|p| (p.segment, p.offset));
            (index.segments.clone(), start)
        };
        let Some((first_segment, offset)) = start else { return Ok(Ok((Vec::new(), false))) };
        let in_window = |time: &str| q.from.is_none_or(|f| time >= f);
        let before_end = |time: &str| {
            // Compared as bytes: a `to` date covers every time of its day, and no cut can fall inside a character.
            q.to.is_none_or(|t| time.as_bytes().get(..t.len()).unwrap_or(time.as_bytes()) <= t.as_bytes())
        };
        let mut page = Vec::new();
        let mut prev: Option<AuditEntry> = None;
        let mut past_to = 0;
        for &segment in segments.iter().skip_while(|s| **s != first_segment) {
            let (mut file, end) = lock().open(segment)?;
            let from = if segment == first_segment { offset } else { 0 };
            file.seek(SeekFrom::Start(from))?;
            for line in BufReader::new(file.take(end.saturating_sub(from))).lines() {
                let line = line?;
                let entry: AuditEntry = match serde_json::from_str(&line) {
                    Ok(e) => e,
                    Err(e) => {
                        let seq = prev.as_ref().map_or(0, |p| p.seq + 1);
                        return Ok(Err(AuditBreak { seq, reason: format!("not an audit entry: {e}") }));
                    }
                };
                let broken = |reason: &str| AuditBreak { seq: entry.seq, reason: reason.into() };
                if entry.compute_hash() != entry.hash {
                    return Ok(Err(broken("its content does not match its hash (edited)")));
                }
                if let Some(p) = &prev {
                    if entry.seq != p.seq + 1 || entry.prev != p.hash {
                        return Ok(Err(broken("does not link to the entry before it")));
                    }
                }
                let wanted = q.after.is_none_or(|a| entry.seq > a)
                    && in_window(&entry.time)
                    && q.subject.is_none_or(|s| entry.subject.contains(s));
                if before_end(&entry.time) {
                    past_to = 0;
                    if wanted {
                        if page.len() == q.limit {
                            return Ok(Ok((page, true)));
                        }
                        page.push(entry.clone());
                    }
                } else {
                    past_to += 1;
                    if past_to >= PAST_TO {
                        return Ok(Ok((page, false)));
                    }
                }
                prev = Some(entry);
            }
        }
        Ok(Ok((page, false)))
    }

    /// Queues an entry. The answer says, once the writer has synced the
    /// batch that holds it, whether it is durable: a caller that answers a
    /// request awaits it first.
    pub(crate) fn record(&self, event: Event) -> tokio::sync::oneshot::Receiver<bool> {
        let (done, durable) = tokio::sync::oneshot::channel();
        if self.tx.send((event, done)).is_err() {
            tracing::error!("the audit log writer has stopped; an entry was not written");
        }
        durable
    }
}

/// A crash can leave half a line at the end: cut it off (it was never
/// acknowledged as written). A break anywhere else is refused by the caller.
fn cut_torn_tail(path: &Path) -> std::io::Result<()> {
    let Ok(bytes) = std::fs::read(path) else { return Ok(()) };
    if bytes.is_empty() || bytes.ends_with(b"\n") {
        return Ok(());
    }
    let keep = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |p| p + 1);
    tracing::warn!(path = %path.display(), cut = bytes.len() - keep, "cutting a torn last line off the audit log");
    OpenOptions::new().write(true).open(path)?.set_len(keep as u64)
}

/// The writer thread's state.
struct Writer {
    dir: PathBuf,
    index: Arc<RwLock<Index>>,
    heads: HeadSender,
    /// The next entry's position.
    seq: u64,
    /// The last entry's hash.
    prev: Hash32,
    /// The live segment's length.
    offset: u64,
    /// The live segment is rotated once it passes this.
    segment_bytes: u64,
    out: BufWriter<File>,
}

impl Writer {
    fn run(mut self, rx: mpsc::Receiver<Queued>) {
        let mut waiting = Vec::new();
        let mut points = Vec::new();
        while let Ok(first) = rx.recv() {
            let mut next = Some(first);
            let mut written = true;
            let segment = self.index.read().unwrap_or_else(std::sync::PoisonError::into_inner).segments.last().copied();
            let segment = segment.unwrap_or(self.seq);
            while let Some((e, done)) = next.take() {
                waiting.push(done);
                let mut entry = AuditEntry {
                    seq: self.seq,
                    time: e.time,
                    request_id: e.request_id,
                    subject: e.subject,
                    object: e.object,
                    action: e.action,
                    result: e.result,
                    prev: self.prev,
                    hash: Hash32([0; 32]),
                };
                entry.hash = entry.compute_hash();
                let line = serde_json::to_string(&entry).unwrap_or_default();
                if let Err(err) = writeln!(self.out, "{line}") {
                    tracing::error!(dir = %self.dir.display(), error = %err, "cannot write the audit log");
                    written = false;
                }
                if self.offset == 0 || entry.seq % INDEX_EVERY == 0 {
                    points.push(Point { seq: entry.seq, segment, offset: self.offset, time: entry.time });
                }
                self.offset += line.len() as u64 + 1;
                self.seq += 1;
                self.prev = entry.hash;
                next = rx.try_recv().ok();
            }
            if let Err(err) = self.out.flush().and_then(|()| self.out.get_ref().sync_data()) {
                tracing::error!(dir = %self.dir.display(), error = %err, "cannot flush the audit log");
                written = false;
            }
            if written {
                let mut index = self.index.write().unwrap_or_else(std::sync::PoisonError::into_inner);
                index.points.append(&mut points);
                index.durable_len = self.offset;
                drop(index);
                if let (Some(heads), Some(last)) = (&self.heads, self.seq.checked_sub(1)) {
                    heads.send_replace(Some(AuditHead { seq: last, hash: self.prev }));
                }
                if self.offset >= self.segment_bytes {
                    if let Err(err) = self.rotate(segment) {
                        tracing::error!(dir = %self.dir.display(), error = %err, "cannot rotate the audit log");
                    }
                }
            }
            points.clear();
            for done in waiting.drain(..) {
                let _ = done.send(written);
            }
        }
    }

    /// Renames the live segment (whose first entry is `segment`) to its
    /// rotated name and starts a new one with the next entry. Under the
    /// index's lock, so that no reader opens a file as it moves.
    fn rotate(&mut self, segment: u64) -> std::io::Result<()> {
        let mut index = self.index.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        let live = self.dir.join(AUDIT_FILE);
        std::fs::rename(&live, self.dir.join(segment_name(segment)))?;
        let file = OpenOptions::new().create(true).append(true).open(&live)?;
        File::open(&self.dir)?.sync_all()?;
        self.out = BufWriter::new(file);
        self.offset = 0;
        index.segments.push(self.seq);
        index.durable_len = 0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(n: u32) -> Event {
        Event {
            time: "2026-11-21T10:00:00.000Z".into(),
            request_id: format!("r{n}"),
            subject: "anonymous".into(),
            object: "/v1/health".into(),
            action: "GET /v1/health".into(),
            result: "200".into(),
        }
    }

    fn timed(n: u32) -> Event {
        // Times in arrival order, one second apart from 10:00:00.
        let time = format!("2026-11-21T{:02}:{:02}:{:02}.000Z", 10 + n / 3600, n / 60 % 60, n % 60);
        Event { time, subject: if n % 2 == 0 { "tenant:acme".into() } else { "org:bank-b".into() }, ..event(n) }
    }

    #[test]
    fn pages_are_read_through_the_index_and_checked_entry_by_entry() {
        let dir = tempfile::tempdir().unwrap();
        let audit = Audit::open(dir.path(), None).unwrap();
        let total = 3 * INDEX_EVERY as u32 + 10;
        let pending: Vec<_> = (0..total).map(|n| audit.record(timed(n))).collect();
        for p in pending {
            assert_eq!(p.blocking_recv(), Ok(true));
        }
        let index_points = audit.index.read().unwrap().points.len();
        assert_eq!(index_points, 4, "one point per {INDEX_EVERY} entries");
        let page = |q: PageQuery<'_>| audit.page(&q).unwrap().unwrap();

        // Paging through everything with `after` returns each entry once, in order.
        let (mut seen, mut after) = (Vec::new(), None);
        loop {
            let (entries, more) = page(PageQuery { after, limit: 100, ..PageQuery::default() });
            seen.extend(entries.iter().map(|e| e.seq));
            after = entries.last().map(|e| e.seq);
            if !more {
                break;
            }
        }
        assert_eq!(seen, (0..u64::from(total)).collect::<Vec<_>>());

        // A time window and a subject, starting deep in the log.
        let (entries, more) = page(PageQuery {
            from: Some("2026-11-21T10:10:00"),
            to: Some("2026-11-21T10:10:09.999Z"),
            subject: Some("acme"),
            limit: 100,
            ..PageQuery::default()
        });
        assert!(!more);
        assert_eq!(entries.iter().map(|e| e.seq).collect::<Vec<_>>(), [600, 602, 604, 606, 608]);

        // An entry edited in place is named by the page that reads it.
        let path = dir.path().join(AUDIT_FILE);
        let text = std::fs::read_to_string(&path).unwrap().replacen("\"r700\"", "\"rX00\"", 1);
        std::fs::write(&path, text).unwrap();
        let broken = audit.page(&PageQuery { after: Some(650), limit: 100, ..PageQuery::default() }).unwrap();
        assert_eq!(broken.unwrap_err().seq, 700);
    }

    #[test]
    fn the_log_rotates_into_segments_that_chain_on_and_may_be_archived() {
        let dir = tempfile::tempdir().unwrap();
        // Ten entries a batch: a segment is rotated after the batch that fills it.
        let write = |audit: &Audit, range: std::ops::Range<u32>| {
            let all: Vec<u32> = range.collect();
            for chunk in all.chunks(10) {
                let pending: Vec<_> = chunk.iter().map(|n| audit.record(timed(*n))).collect();
                for p in pending {
                    assert_eq!(p.blocking_recv(), Ok(true));
                }
            }
        };
        let audit = Audit::open_with(dir.path(), None, 4096).unwrap();
        write(&audit, 0..300);
        let files = log_files(dir.path()).unwrap();
        assert!(files.len() > 5, "rotated into segments: {files:?}");
        let all = |audit: &Audit| {
            let (mut seen, mut after) = (Vec::new(), None);
            loop {
                let (entries, more) =
                    audit.page(&PageQuery { after, limit: 37, ..PageQuery::default() }).unwrap().unwrap();
                seen.extend(entries.iter().map(|e| e.seq));
                after = entries.last().map(|e| e.seq);
                if !more {
                    return seen;
                }
            }
        };
        assert_eq!(all(&audit), (0..300).collect::<Vec<_>>(), "pages run across the segments");
        drop(audit);

        // Reopened, the chain goes on from the last segment.
        let audit = Audit::open_with(dir.path(), None, 4096).unwrap();
        write(&audit, 300..310);
        assert_eq!(read_audit_log(dir.path()).unwrap().unwrap().len(), 310);
        drop(audit);

        // The oldest segments moved off the host: the rest still opens, verifies and pages.
        let files = log_files(dir.path()).unwrap();
        for old in &files[..3] {
            std::fs::remove_file(old).unwrap();
        }
        let audit = Audit::open_with(dir.path(), None, 4096).unwrap();
        let kept = read_audit_log(dir.path()).unwrap().unwrap();
        let first = kept[0].seq;
        assert!(first > 0 && kept.last().unwrap().seq == 309, "from {first}");
        assert_eq!(all(&audit), (first..310).collect::<Vec<_>>());

        // A segment edited in the middle is refused when the log opens.
        drop(audit);
        let files = log_files(dir.path()).unwrap();
        let text = std::fs::read_to_string(&files[1]).unwrap().replacen("\"r", "\"R", 1);
        std::fs::write(&files[1], text).unwrap();
        assert!(Audit::open_with(dir.path(), None, 4096).is_err());
    }

    #[test]
    fn the_log_continues_its_chain_across_restarts_and_refuses_a_broken_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(AUDIT_FILE);
        let lines = || std::fs::read_to_string(&path).map(|s| s.lines().count()).unwrap_or(0);
        let audit = Audit::open(dir.path(), None).unwrap();
        for n in 0..3 {
            // Acknowledged only once durable: the line is in the file by then.
            assert_eq!(audit.record(event(n)).blocking_recv(), Ok(true));
            assert_eq!(lines(), n as usize + 1);
        }
        drop(audit);
        let audit = Audit::open(dir.path(), None).unwrap();
        assert_eq!(audit.record(event(3)).blocking_recv(), Ok(true));
        assert_eq!(lines(), 4);
        let entries = read_audit_log(dir.path()).unwrap().unwrap();
        assert_eq!(entries.iter().map(|e| e.seq).collect::<Vec<_>>(), [0, 1, 2, 3]);

        // A torn last line (a crash mid-write) is cut off; the chain goes on.
        std::fs::OpenOptions::new().append(true).open(&path).unwrap().write_all(b"{\"seq\":4,\"ti").unwrap();
        drop(Audit::open(dir.path(), None).unwrap());
        assert_eq!(read_audit_log(dir.path()).unwrap().unwrap().len(), 4);

        // Edit one entry: the log names it and the gateway refuses to go on with it.
        let text = std::fs::read_to_string(&path).unwrap().replacen("\"r1\"", "\"rX\"", 1);
        std::fs::write(&path, text).unwrap();
        assert_eq!(read_audit_log(dir.path()).unwrap().unwrap_err().seq, 1);
        assert!(Audit::open(dir.path(), None).is_err());
    }
}
