//! The gateway's audit log: one hash-chained JSON line per call in
//! `<dir>/audit.jsonl` ([`billflow_types::audit`]). Nothing is ever deleted.
//!
//! Requests hand entries to a writer thread, which appends whatever has
//! queued up and makes it durable with one `fdatasync` (group commit). A
//! request's answer leaves only once its entry is durable
//! ([`Audit::record`]), so a crash loses no entry of a call that was answered.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use billflow_types::Hash32;
use billflow_types::audit::{AuditEntry, verify_chain};

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

/// Appends to the audit log.
#[derive(Clone)]
pub(crate) struct Audit {
    tx: mpsc::Sender<Queued>,
}

/// Reads and verifies a whole audit log. Returns the entries, or where it breaks.
pub fn read_audit_log(path: &Path) -> std::io::Result<Result<Vec<AuditEntry>, billflow_types::audit::AuditBreak>> {
    Ok(parse_entries(&read_log(path)?))
}

/// The entries of the log written so far, checked against the hash chain: a
/// line the writer has not finished is left for the next read.
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
    pub(crate) fn open(dir: &Path) -> std::io::Result<Audit> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(AUDIT_FILE);
        cut_torn_tail(&path)?;
        let (next_seq, prev) = match read_audit_log(&path)? {
            Ok(entries) => entries.last().map_or((0, Hash32([0; 32])), |e| (e.seq + 1, e.hash)),
            Err(broken) => {
                return Err(std::io::Error::other(format!("the audit log {} is broken: {broken}", path.display())));
            }
        };
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("audit-log".into())
            .spawn(move || write_loop(path, file, rx, next_seq, prev))?;
        Ok(Audit { tx })
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

fn write_loop(path: PathBuf, file: File, rx: mpsc::Receiver<Queued>, mut seq: u64, mut prev: Hash32) {
    let mut out = BufWriter::new(file);
    let mut waiting = Vec::new();
    while let Ok(first) = rx.recv() {
        let mut next = Some(first);
        let mut written = true;
        while let Some((e, done)) = next.take() {
            waiting.push(done);
            let mut entry = AuditEntry {
                seq,
                time: e.time,
                request_id: e.request_id,
                subject: e.subject,
                object: e.object,
                action: e.action,
                result: e.result,
                prev,
                hash: Hash32([0; 32]),
            };
            entry.hash = entry.compute_hash();
            let line = serde_json::to_string(&entry).unwrap_or_default();
            if let Err(err) = writeln!(out, "{line}") {
                tracing::error!(path = %path.display(), error = %err, "cannot write the audit log");
                written = false;
            }
            seq += 1;
            prev = entry.hash;
            next = rx.try_recv().ok();
        }
        if let Err(err) = out.flush().and_then(|()| out.get_ref().sync_data()) {
            tracing::error!(path = %path.display(), error = %err, "cannot flush the audit log");
            written = false;
        }
        for done in waiting.drain(..) {
            let _ = done.send(written);
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

    #[test]
    fn the_log_continues_its_chain_across_restarts_and_refuses_a_broken_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(AUDIT_FILE);
        let lines = || std::fs::read_to_string(&path).map(|s| s.lines().count()).unwrap_or(0);
        let audit = Audit::open(dir.path()).unwrap();
        for n in 0..3 {
            // Acknowledged only once durable: the line is in the file by then.
            assert_eq!(audit.record(event(n)).blocking_recv(), Ok(true));
            assert_eq!(lines(), n as usize + 1);
        }
        drop(audit);
        let audit = Audit::open(dir.path()).unwrap();
        assert_eq!(audit.record(event(3)).blocking_recv(), Ok(true));
        assert_eq!(lines(), 4);
        let entries = read_audit_log(&path).unwrap().unwrap();
        assert_eq!(entries.iter().map(|e| e.seq).collect::<Vec<_>>(), [0, 1, 2, 3]);

        // A torn last line (a crash mid-write) is cut off; the chain goes on.
        std::fs::OpenOptions::new().append(true).open(&path).unwrap().write_all(b"{\"seq\":4,\"ti").unwrap();
        drop(Audit::open(dir.path()).unwrap());
        assert_eq!(read_audit_log(&path).unwrap().unwrap().len(), 4);

        // Edit one entry: the log names it and the gateway refuses to go on with it.
        let text = std::fs::read_to_string(&path).unwrap().replacen("\"r1\"", "\"rX\"", 1);
        std::fs::write(&path, text).unwrap();
        assert_eq!(read_audit_log(&path).unwrap().unwrap_err().seq, 1);
        assert!(Audit::open(dir.path()).is_err());
    }
}
