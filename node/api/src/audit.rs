//! The gateway's audit log: one hash-chained JSON line per call in
//! `<dir>/audit.jsonl` ([`billflow_types::audit`]). Nothing is ever deleted.
//!
//! Requests hand entries to a writer thread, which appends whatever has
//! queued up and makes it durable with one `fdatasync` (group commit). A
//! request's answer leaves only once its entry is durable
//! ([`Audit::record`]), so a crash loses no entry of a call that was answered.
//!
//! Pages are read through a sparse index kept in memory (the position and
//! time of every [`INDEX_EVERY`]-th entry), not by scanning the file: a page
//! reads from the indexed entry before where it starts. The whole chain is
//! checked when the log is opened; a page checks each entry it reads against
//! its hash and the one before it.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock, mpsc};

use billflow_types::Hash32;
use billflow_types::audit::{AuditBreak, AuditEntry, AuditHead, verify_chain};

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

/// The log's file name in its directory.
pub const AUDIT_FILE: &str = "audit.jsonl";

/// An entry on its way to the writer, with whom to tell once it is durable.
type Queued = (Event, tokio::sync::oneshot::Sender<bool>);

/// One entry in [`INDEX_EVERY`] is indexed.
pub(crate) const INDEX_EVERY: u64 = 256;

/// Where the durable part of the log is, and its sparse index.
#[derive(Debug, Default)]
struct Index {
    /// `(seq, byte offset, time)` of every entry whose seq is a multiple of [`INDEX_EVERY`].
    points: Vec<(u64, u64, String)>,
    /// Length of the durable, whole lines.
    durable_len: u64,
}

/// Appends to the audit log, and reads pages of it.
#[derive(Clone)]
pub(crate) struct Audit {
    tx: mpsc::Sender<Queued>,
    path: PathBuf,
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

/// Reads and verifies a whole audit log. Returns the entries, or where it breaks.
pub fn read_audit_log(path: &Path) -> std::io::Result<Result<Vec<AuditEntry>, billflow_types::audit::AuditBreak>> {
    Ok(parse_entries(&read_log(path)?))
}

/// The entries of the log written so far, checked against the hash chain: a
/// line the writer has not finished is left for the next read.
#[cfg(test)]
pub(crate) fn read_complete_entries(
    path: &Path,
) -> std::io::Result<Result<Vec<AuditEntry>, billflow_types::audit::AuditBreak>> {
    let text = read_log(path)?;
    Ok(parse_entries(&text[..text.rfind('\n').map_or(0, |end| end + 1)]))
}

/// The log's text (empty if there is no log yet).
fn read_log(path: &Path) -> std::io::Result<String> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(e),
    }
}

/// Parses the log's lines and checks their chain.
fn parse_entries(text: &str) -> Result<Vec<AuditEntry>, billflow_types::audit::AuditBreak> {
    let mut entries = Vec::new();
    for (n, line) in text.lines().enumerate() {
        match serde_json::from_str::<AuditEntry>(line) {
            Ok(e) => entries.push(e),
            Err(e) => {
                return Err(billflow_types::audit::AuditBreak {
                    seq: n as u64,
                    reason: format!("line {} is not an audit entry: {e}", n + 1),
                });
            }
        }
    }
    verify_chain(&entries).map(|_| entries)
}

impl Audit {
    /// Opens (or creates) the log in `dir`, checking the chain so far, and
    /// starts its writer.
    pub(crate) fn open(dir: &Path, heads: HeadSender) -> std::io::Result<Audit> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(AUDIT_FILE);
        cut_torn_tail(&path)?;
        let text = read_log(&path)?;
        let entries = parse_entries(&text)
            .map_err(|broken| std::io::Error::other(format!("the audit log {} is broken: {broken}", path.display())))?;
        let (next_seq, prev) = entries.last().map_or((0, Hash32([0; 32])), |e| (e.seq + 1, e.hash));
        let mut index = Index { points: Vec::new(), durable_len: text.len() as u64 };
        let mut offset = 0u64;
        for (entry, line) in entries.iter().zip(text.split_inclusive('\n')) {
            if entry.seq % INDEX_EVERY == 0 {
                index.points.push((entry.seq, offset, entry.time.clone()));
            }
            offset += line.len() as u64;
        }
        drop(entries);
        let index = Arc::new(RwLock::new(index));
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        if let (Some(heads), Some(seq)) = (&heads, next_seq.checked_sub(1)) {
            heads.send_replace(Some(AuditHead { seq, hash: prev }));
        }
        let (tx, rx) = mpsc::channel();
        let writer = Writer { path: path.clone(), index: index.clone(), heads, seq: next_seq, prev, offset };
        std::thread::Builder::new().name("audit-log".into()).spawn(move || writer.run(file, rx))?;
        Ok(Audit { tx, path, index })
    }

    /// A page of the durable log: the entries that match `q`, oldest first,
    /// at most `q.limit`, and whether more follow. Reads from the indexed
    /// entry before the page's start; each entry read is checked against its
    /// hash and linked to the one read before it.
    pub(crate) fn page(&self, q: &PageQuery<'_>) -> std::io::Result<Result<(Vec<AuditEntry>, bool), AuditBreak>> {
        let (offset, end) = {
            let index = self.index.read().unwrap_or_else(std::sync::PoisonError::into_inner);
            let first = q.after.map_or(0, |a| a.saturating_add(1));
            let by_seq = index.points.partition_point(|(seq, _, _)| *seq <= first).saturating_sub(1);
            // Times are in arrival order only roughly: start one indexed entry earlier.
            let by_time = q
                .from
                .map_or(0, |from| index.points.partition_point(|(_, _, time)| time.as_str() < from).saturating_sub(2));
            let offset = index.points.get(by_seq.max(by_time)).map_or(0, |(_, offset, _)| *offset);
            (offset, index.durable_len)
        };
        let mut file = File::open(&self.path)?;
        file.seek(SeekFrom::Start(offset))?;
        let reader = BufReader::new(file.take(end.saturating_sub(offset)));
        let in_window = |time: &str| q.from.is_none_or(|f| time >= f);
        let before_end = |time: &str| {
            // Compared as bytes: a `to` date covers every time of its day, and no cut can fall inside a character.
            q.to.is_none_or(|t| time.as_bytes().get(..t.len()).unwrap_or(time.as_bytes()) <= t.as_bytes())
        };
        let mut page = Vec::new();
        let mut prev: Option<AuditEntry> = None;
        let mut past_to = 0;
        for line in reader.lines() {
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
                    break;
                }
            }
            prev = Some(entry);
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
    path: PathBuf,
    index: Arc<RwLock<Index>>,
    heads: HeadSender,
    /// The next entry's position.
    seq: u64,
    /// The last entry's hash.
    prev: Hash32,
    /// The file's length.
    offset: u64,
}

impl Writer {
    fn run(mut self, file: File, rx: mpsc::Receiver<Queued>) {
        let mut out = BufWriter::new(file);
        let mut waiting = Vec::new();
        let mut points = Vec::new();
        while let Ok(first) = rx.recv() {
            let mut next = Some(first);
            let mut written = true;
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
                if let Err(err) = writeln!(out, "{line}") {
                    tracing::error!(path = %self.path.display(), error = %err, "cannot write the audit log");
                    written = false;
                }
                if entry.seq % INDEX_EVERY == 0 {
                    points.push((entry.seq, self.offset, entry.time));
                }
                self.offset += line.len() as u64 + 1;
                self.seq += 1;
                self.prev = entry.hash;
                next = rx.try_recv().ok();
            }
            if let Err(err) = out.flush().and_then(|()| out.get_ref().sync_data()) {
                tracing::error!(path = %self.path.display(), error = %err, "cannot flush the audit log");
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
            }
            points.clear();
            for done in waiting.drain(..) {
                let _ = done.send(written);
            }
        }
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
        let entries = read_audit_log(&path).unwrap().unwrap();
        assert_eq!(entries.iter().map(|e| e.seq).collect::<Vec<_>>(), [0, 1, 2, 3]);

        // A torn last line (a crash mid-write) is cut off; the chain goes on.
        std::fs::OpenOptions::new().append(true).open(&path).unwrap().write_all(b"{\"seq\":4,\"ti").unwrap();
        drop(Audit::open(dir.path(), None).unwrap());
        assert_eq!(read_audit_log(&path).unwrap().unwrap().len(), 4);

        // Edit one entry: the log names it and the gateway refuses to go on with it.
        let text = std::fs::read_to_string(&path).unwrap().replacen("\"r1\"", "\"rX\"", 1);
        std::fs::write(&path, text).unwrap();
        assert_eq!(read_audit_log(&path).unwrap().unwrap_err().seq, 1);
        assert!(Audit::open(dir.path(), None).is_err());
    }
}
