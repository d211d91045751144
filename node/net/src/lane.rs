//! Lanes: one long-lived stream to each peer that carries many requests and
//! their answers, each frame tagged with an id.
//!
//! A request on a substream of its own (libp2p's request-response) costs,
//! besides the request and the answer, the opening and closing of the
//! substream, the negotiation of its protocol, and a timer: at one
//! transaction a block that was a quarter of a node's CPU. A lane pays for
//! that once per connection. Each node opens its own lane to each peer and
//! sends its requests on it; the peer answers on the same stream, in any
//! order.
//!
//! Bulk transfers (a request larger than [`LANE_MAX`], or one sent with
//! [`crate::NetHandle::request_bulk`]) keep a substream of their own, so
//! that a block range on its way never holds up a vote or an append behind
//! it on the lane.
//!
//! A frame is a `u32` big-endian length of what follows, a kind byte, a
//! `u64` big-endian id, and the payload.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use billflow_types::NodeId;
use futures::io::BufReader;
use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, StreamExt};
use libp2p::{PeerId, Stream, StreamProtocol};
use tokio::sync::{mpsc, oneshot};

use crate::admission::Admission;
use crate::codec::MAX_MESSAGE;
use crate::swarm::InboundRequest;

/// The lanes' protocol id.
pub(crate) const LANE: StreamProtocol = StreamProtocol::new("/billflow/lane/1");
/// The largest request sent on a lane; larger ones go on a substream of their own.
pub(crate) const LANE_MAX: usize = 256 * 1024;

const REQUEST: u8 = 0;
const ANSWER: u8 = 1;
/// The peer took the request but gave no answer (its handler was busy or dropped it).
const NO_ANSWER: u8 = 2;
/// Frames queued for one lane's writer before senders wait.
const QUEUE: usize = 1024;
/// A writer gathers queued frames up to this many bytes into one write.
const GATHER: usize = 64 * 1024;

type Answer = Result<Vec<u8>, String>;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A frame of `payload`, which its callers keep within [`MAX_MESSAGE`].
fn frame(kind: u8, id: u64, payload: &[u8]) -> Vec<u8> {
    debug_assert!(payload.len() <= MAX_MESSAGE);
    let len = (1 + 8 + payload.len()) as u32;
    let mut out = Vec::with_capacity(4 + 9 + payload.len());
    out.extend_from_slice(&len.to_be_bytes());
    out.push(kind);
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

async fn read_frame<R: AsyncRead + Unpin>(r: &mut R) -> io::Result<(u8, u64, Vec<u8>)> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len).await?;
    let len = u32::from_be_bytes(len) as usize;
    if !(9..=9 + MAX_MESSAGE).contains(&len) {
        return Err(io::Error::new(io::ErrorKind::InvalidData, format!("a lane frame of {len} bytes")));
    }
    let mut kind = [0u8; 1];
    r.read_exact(&mut kind).await?;
    let mut id = [0u8; 8];
    r.read_exact(&mut id).await?;
    let (kind, id) = (kind[0], u64::from_be_bytes(id));
    let mut payload = vec![0u8; len - 9];
    r.read_exact(&mut payload).await?;
    Ok((kind, id, payload))
}

/// Writes what is queued, gathering frames that wait together into one
/// write and one flush, until the queue closes or the stream fails.
async fn write_queued<W: AsyncWrite + Unpin>(w: &mut W, queue: &mut mpsc::Receiver<Vec<u8>>) -> io::Result<()> {
    let mut buf = Vec::new();
    while let Some(first) = queue.recv().await {
        buf.clear();
        buf.extend_from_slice(&first);
        while buf.len() < GATHER {
            match queue.try_recv() {
                Ok(next) => buf.extend_from_slice(&next),
                Err(_) => break,
            }
        }
        w.write_all(&buf).await?;
        w.flush().await?;
    }
    w.close().await
}

/// This node's lane to one peer.
pub(crate) struct Lane {
    frames: mpsc::Sender<Vec<u8>>,
    pending: Mutex<HashMap<u64, oneshot::Sender<Answer>>>,
    next_id: AtomicU64,
}

/// Takes a request's entry out of the lane when its caller stops waiting.
struct Waiting<'a> {
    lane: &'a Lane,
    id: u64,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        lock(&self.lane.pending).remove(&self.id);
    }
}

impl Lane {
    /// Sends `payload` and waits for its answer; `Err` says why there is none.
    pub(crate) async fn call(&self, payload: &[u8]) -> Answer {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        lock(&self.pending).insert(id, tx);
        let _waiting = Waiting { lane: self, id };
        if self.frames.send(frame(REQUEST, id, payload)).await.is_err() {
            return Err("the lane closed".into());
        }
        rx.await.unwrap_or_else(|_| Err("the lane closed".into()))
    }

    fn answer(&self, id: u64, answer: Answer) {
        if let Some(waiter) = lock(&self.pending).remove(&id) {
            let _ = waiter.send(answer);
        }
    }

    async fn read_answers<R: AsyncRead + Unpin>(&self, r: &mut R) -> io::Result<()> {
        loop {
            let (kind, id, payload) = read_frame(r).await?;
            match kind {
                ANSWER => self.answer(id, Ok(payload)),
                NO_ANSWER => self.answer(id, Err("the peer gave no answer".into())),
                other => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("a frame of kind {other} on a lane"),
                    ));
                }
            }
        }
    }
}

/// Where this node's lane to a peer stands.
enum State {
    Opening,
    Open(Arc<Lane>),
}

/// The lanes of this node, one to each peer that has one open or opening.
#[derive(Clone, Default)]
pub(crate) struct Lanes {
    lanes: Arc<Mutex<HashMap<PeerId, State>>>,
}

impl Lanes {
    /// The open lane to `peer`, if there is one.
    pub(crate) fn get(&self, peer: &PeerId) -> Option<Arc<Lane>> {
        match lock(&self.lanes).get(peer) {
            Some(State::Open(lane)) => Some(lane.clone()),
            _ => None,
        }
    }

    /// Opens a lane to the connected `peer` in the background, unless one is
    /// open or being opened. Until it is, requests take substreams.
    pub(crate) fn open(&self, mut control: libp2p_stream::Control, peer: PeerId) {
        let fresh = match lock(&self.lanes).entry(peer) {
            Entry::Vacant(v) => {
                v.insert(State::Opening);
                true
            }
            Entry::Occupied(_) => false,
        };
        if fresh {
            let lanes = self.clone();
            tokio::spawn(async move {
                match control.open_stream(peer, LANE).await {
                    Ok(stream) => lanes.run(peer, stream).await,
                    Err(e) => {
                        lock(&lanes.lanes).remove(&peer);
                        tracing::debug!(%peer, error = %e, "lane not opened; requests take substreams");
                    }
                }
            });
        }
    }

    async fn run(&self, peer: PeerId, stream: Stream) {
        let (r, mut w) = stream.split();
        let mut r = BufReader::with_capacity(GATHER, r);
        let (frames, mut queue) = mpsc::channel(QUEUE);
        let lane = Arc::new(Lane { frames, pending: Mutex::new(HashMap::new()), next_id: AtomicU64::new(0) });
        lock(&self.lanes).insert(peer, State::Open(lane.clone()));
        tracing::debug!(%peer, "lane open");
        let ended = tokio::select! {
            r = write_queued(&mut w, &mut queue) => r,
            r = lane.read_answers(&mut r) => r,
        };
        // No request is queued from here on; each one waiting learns that it
        // has no answer, and the next request opens a new lane.
        queue.close();
        {
            let mut lanes = lock(&self.lanes);
            if matches!(lanes.get(&peer), Some(State::Open(l)) if Arc::ptr_eq(l, &lane)) {
                lanes.remove(&peer);
            }
        }
        let reason = match ended {
            Ok(()) => "the lane closed".to_string(),
            Err(e) => format!("the lane failed: {e}"),
        };
        tracing::debug!(%peer, %reason, "lane closed");
        for (_, waiter) in lock(&lane.pending).drain() {
            let _ = waiter.send(Err(reason.clone()));
        }
    }
}

/// Serves the lanes peers open to this node: each request goes to the
/// handler like one on a substream, and its answer back on the lane.
pub(crate) async fn accept(
    mut incoming: libp2p_stream::IncomingStreams,
    admission: Admission,
    requests: mpsc::Sender<InboundRequest>,
) {
    while let Some((peer, stream)) = incoming.next().await {
        if admission.check(&peer).is_err() {
            tracing::warn!(%peer, "a lane from a peer not admitted; closed");
            continue;
        }
        tokio::spawn(serve(peer, stream, admission.clone(), requests.clone()));
    }
}

async fn serve(peer: PeerId, stream: Stream, admission: Admission, requests: mpsc::Sender<InboundRequest>) {
    let (r, mut w) = stream.split();
    let mut r = BufReader::with_capacity(GATHER, r);
    let (answers, mut queue) = mpsc::channel(QUEUE);
    let ended = tokio::select! {
        r = write_queued(&mut w, &mut queue) => r,
        r = read_requests(&peer, &mut r, &admission, &requests, &answers) => r,
    };
    if let Err(e) = ended {
        tracing::debug!(%peer, error = %e, "a peer's lane ended");
    }
}

async fn read_requests<R: AsyncRead + Unpin>(
    peer: &PeerId,
    r: &mut R,
    admission: &Admission,
    requests: &mpsc::Sender<InboundRequest>,
    answers: &mpsc::Sender<Vec<u8>>,
) -> io::Result<()> {
    loop {
        let (kind, id, payload) = read_frame(r).await?;
        if kind != REQUEST {
            return Err(io::Error::new(io::ErrorKind::InvalidData, format!("a frame of kind {kind} from the opener")));
        }
        if payload.len() > LANE_MAX {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "a request larger than a lane carries"));
        }
        // Admission was checked at the handshake; check again in case it changed since.
        let from: NodeId =
            admission.check(peer).map_err(|e| io::Error::new(io::ErrorKind::PermissionDenied, e.to_string()))?;
        let (reply, answer) = oneshot::channel();
        let out = answers.clone();
        if requests.try_send(InboundRequest { from, payload, reply }).is_ok() {
            tokio::spawn(async move {
                let framed = match answer.await {
                    Ok(bytes) if bytes.len() <= MAX_MESSAGE => frame(ANSWER, id, &bytes),
                    _ => frame(NO_ANSWER, id, &[]),
                };
                let _ = out.send(framed).await;
            });
        } else {
            tracing::warn!(%peer, "request handler is busy; request refused");
            let _ = out.send(frame(NO_ANSWER, id, &[])).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn frames_read_back_as_written_and_oversized_ones_are_refused() {
        let mut bytes = frame(ANSWER, 7, b"hello");
        bytes.extend(frame(REQUEST, u64::MAX, b""));
        let mut r = futures::io::Cursor::new(bytes);
        assert_eq!(read_frame(&mut r).await.unwrap(), (ANSWER, 7, b"hello".to_vec()));
        assert_eq!(read_frame(&mut r).await.unwrap(), (REQUEST, u64::MAX, vec![]));
        assert!(read_frame(&mut r).await.is_err(), "the end of the stream is an error");

        let mut huge = ((9 + MAX_MESSAGE + 1) as u32).to_be_bytes().to_vec();
        huge.extend([REQUEST; 9]);
        let err = read_frame(&mut futures::io::Cursor::new(huge)).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        let mut short = 3u32.to_be_bytes().to_vec();
        short.extend([0u8; 9]);
        assert!(read_frame(&mut futures::io::Cursor::new(short)).await.is_err(), "a frame shorter than its header");
    }
}
