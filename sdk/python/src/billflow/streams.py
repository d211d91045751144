"""Event streams: a participant's own events (``/v1/events/stream``) and the
regulators' supervision stream (``/v1/supervision/stream``), over WebSockets
opened with a signed upgrade request.

Every event carries its cursor ``HEIGHT-TX-EVENT``; a stream resumes after
the last cursor it yielded when the node closes it (a reader too slow is
closed with code 4000) or a connection breaks, on the next node if need be,
so that an event is yielded once and none is skipped.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from .errors import BillflowError, CodecError, LedgerError, StreamError, TransportError, ledger_error

if TYPE_CHECKING:
    from .client import Client

CLOSE_RECONNECT = 4000
"""The close code of a node that drops a reader too slow to keep up."""


@dataclass(frozen=True)
class StreamEvent:
    """A committed event on an event or supervision stream, with its cursor."""

    cursor: str
    height: int
    tx_index: int
    event_index: int
    time_ms: int
    tx_id: str
    refused: bool
    """Whether the transaction failed (a refusal's events, such as risk alerts, are kept)."""
    contract: str
    topic: str
    data: bytes
    decoded: Any = None

    @property
    def position(self) -> tuple[int, int, int]:
        """The cursor as ``(height, tx, event)``, ordered as the ledger orders events."""
        return (self.height, self.tx_index, self.event_index)


@dataclass(frozen=True)
class EventPage:
    """A page of events and the cursor to ask for the next one from."""

    events: list[StreamEvent]
    next: str


def parse_cursor(cursor: str) -> tuple[int, int, int]:
    """``HEIGHT-TX-EVENT`` as a tuple (:class:`CodecError` if it is not one)."""
    parts = cursor.split("-") if isinstance(cursor, str) else []
    if len(parts) != 3 or not all(p.isascii() and p.isdigit() and len(p) <= 20 for p in parts):
        raise CodecError(f"a cursor is HEIGHT-TX-EVENT (e.g. 12-0-3), got {cursor!r:.64}")
    return int(parts[0]), int(parts[1]), int(parts[2])


def query_string(params: Sequence[tuple[str, str | None]]) -> str:
    """``k=v&...`` of the parameters given (``None`` left out), values percent-encoded
    keeping RFC 3986 unreserved characters and ``:``, as the Rust SDK does."""
    return "&".join(f"{k}={quote(v, safe='-._~:')}" for k, v in params if v is not None)


def stream_query(from_: str | None, types: Sequence[str] | None, participant: str | None) -> str:
    """The query of the event and supervision routes."""
    if from_ is not None:
        parse_cursor(from_)
    return query_string([("from", from_), ("types", ",".join(types) if types else None), ("participant", participant)])


class EventStream:
    """An iterator over committed events as they come, resumable from its cursor.

    Use it as a context manager (it closes its connection) and iterate, or
    call :meth:`next` with a timeout. :attr:`last` is the cursor of the last
    event yielded: give it as ``from_`` to a later stream to carry on.
    """

    def __init__(
        self,
        client: Client,
        path: str,
        from_: str | None,
        types: Sequence[str] | None,
        participant: str | None,
        reconnect: bool,
    ) -> None:
        self._client = client
        self._path = path
        self._types = list(types) if types else None
        self._participant = participant
        self._reconnect = reconnect
        self._socket: ClientConnection | None = None
        if from_ is None:
            # Live: from the tip's cursor, asked of the page route, so that a
            # reconnection misses nothing committed in between.
            pages = {"/v1/events/stream": "/v1/events", "/v1/supervision/stream": "/v1/supervision/events"}
            from_ = client._page(pages[path], None, self._types, participant).next
        self.last: str = from_
        self._position = parse_cursor(from_)

    def _connect(self) -> ClientConnection:
        client = self._client
        attempts = 2 * len(client.nodes)
        while True:
            query = stream_query(self.last, self._types, self._participant)
            base = client.node.replace("https://", "wss://", 1).replace("http://", "ws://", 1)
            url = f"{base}{self._path}" + (f"?{query}" if query else "")
            headers = client.auth_headers("GET", self._path, query, b"")
            try:
                socket = connect(
                    url,
                    ssl=client._ssl if url.startswith("wss://") else None,
                    additional_headers=headers,
                    open_timeout=10,
                    max_size=16 * 1024 * 1024,
                )
                # Held as a context (closed by close()), as websockets wants it used.
                return socket.__enter__()
            except InvalidStatus as e:
                error = _status_error(e)
                if not error.retryable:
                    raise error from None
                failure: BillflowError = error
            except (OSError, InvalidHandshake, TimeoutError) as e:
                failure = TransportError(f"{client.node}: cannot open {self._path}: {e}")
            attempts -= 1
            if attempts <= 0:
                raise failure
            client._rotate()
            time.sleep(0.3)

    def next(self, timeout: float | None = None) -> StreamEvent | None:
        """The next event; ``None`` if none came within ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if self._socket is None:
                self._socket = self._connect()
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                frame = self._socket.recv(timeout=left)
            except TimeoutError:
                return None
            except ConnectionClosed as e:
                self._socket = None
                code = e.rcvd.code if e.rcvd is not None else None
                reason = e.rcvd.reason if e.rcvd is not None else "the connection broke"
                if not self._reconnect:
                    raise StreamError(
                        f"the node closed the stream ({code}: {reason}); resume from {self.last}", self.last, code
                    ) from None
                time.sleep(0.2)
                continue
            if isinstance(frame, bytes):
                continue
            try:
                event = self._client.stream_event(json.loads(frame))
            except (ValueError, KeyError, TypeError) as e:
                raise StreamError(f"a stream frame does not parse: {e}", self.last) from None
            if event.position <= self._position:
                continue  # already yielded (a node resent it after a reconnection)
            self.last, self._position = event.cursor, event.position
            return event

    def __iter__(self) -> EventStream:
        return self

    def __next__(self) -> StreamEvent:
        while True:
            event = self.next(timeout=60.0)
            if event is not None:
                return event

    def close(self) -> None:
        """Closes the connection (a later :meth:`next` reconnects from :attr:`last`)."""
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def __enter__(self) -> EventStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _status_error(e: InvalidStatus) -> LedgerError:
    response = e.response
    try:
        body: Mapping[str, Any] = json.loads(response.body or b"")
        return ledger_error(response.status_code, body["code"], body["message"], body.get("request_id"))
    except (ValueError, KeyError, TypeError):
        text = (response.body or b"").decode("utf-8", "replace")[:200]
        return ledger_error(response.status_code, "E_HTTP", text)


__all__ = ["CLOSE_RECONNECT", "EventPage", "EventStream", "StreamEvent", "parse_cursor", "query_string", "stream_query"]
