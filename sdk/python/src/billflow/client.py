"""The client of a billflow network's gateways.

Every request is signed (docs/api.md, "Signed requests") when the client holds
a key; HTTPS trusts only the consortium's CA certificates when ``ca`` is
given. Reads move on to the next node when one cannot answer; submissions
resubmit the *same* signed transaction to the next node until it commits (the
ledger executes a transaction id once, ever, so a retry never executes twice).
"""

from __future__ import annotations

import json
import os
import secrets
import ssl
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from . import evidence as _evidence
from . import tx as _tx
from .canonical import Domain, request_message
from .codec import Interface
from .errors import (
    BillflowError,
    CodecError,
    CommitTimeout,
    LedgerError,
    NotFoundError,
    ProofError,
    TransactionFailed,
    TransportError,
    VerificationError,
    ledger_error,
)
from .flows import is_credit_code
from .keys import Key
from .proof import Genesis, TxProof
from .streams import EventPage, EventStream, StreamEvent, query_string, stream_query

SYSTEM_CONTRACT = "system"
SYSTEM_VERSION = "1.0.0"
_MAX_WAIT_MS = 30_000


@dataclass(frozen=True)
class Event:
    """An event in a receipt, with its data decoded by the emitting contract's interface."""

    contract: str
    topic: str
    data: bytes
    decoded: Any = None


@dataclass(frozen=True)
class Receipt:
    """The committed outcome of a transaction."""

    tx_id: str
    tx_hash: str
    height: int | None
    index: int | None
    success: bool
    failure: tuple[str, str] | None
    """``(code, message)`` of a failed transaction."""
    events: list[Event]
    fuel_used: int
    view: dict[str, Any] = field(repr=False)
    """The node's answer as it came (``TxView``)."""

    def event(self, topic: str) -> Event | None:
        """The first event of ``topic``, if any."""
        return next((e for e in self.events if e.topic == topic), None)


def _ssl_context(ca: str | os.PathLike[str] | bytes) -> ssl.SSLContext:
    pem = ca.decode("ascii") if isinstance(ca, bytes) else Path(ca).read_text("ascii")
    if "-----BEGIN CERTIFICATE-----" not in pem:
        raise BillflowError("the CA file holds no PEM certificate")
    context = ssl.create_default_context(cadata=pem)  # only these CAs: no system roots
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


class Client:
    """A client of one network's gateways (one per thread: it keeps which node it talks to).

    Args:
        nodes: the gateways' base URLs (``https://node-a:7101``), tried in order.
        ca: the consortium's CA certificates (``cas.pem`` path or PEM bytes); HTTPS
            then trusts only them. Without it, the system's roots.
        key: the signing key (:class:`Key` or a PKCS#8 PEM file path); without
            one, requests go unsigned (public routes only).
        key_id: the key's registered id (``demo-platform.key1``).
        tenant: the tenant the key acts under (``None`` for consortium organisations and banks).
        chain_id: the chain id transactions name (asked of a node when not given).
        timeout: seconds one HTTP request may take (a commit wait is at most 30 s).
        interfaces: interface documents to use instead of asking the nodes
            (contract name to document), e.g. to pin a reviewed interface.
        genesis: the genesis file, for :meth:`EvidenceApi.verify`.
    """

    def __init__(
        self,
        nodes: Sequence[str],
        *,
        ca: str | os.PathLike[str] | bytes | None = None,
        key: Key | str | os.PathLike[str] | None = None,
        key_id: str | None = None,
        tenant: str | None = None,
        chain_id: str | None = None,
        timeout: float = 40.0,
        interfaces: Mapping[str, Mapping[str, Any] | Interface] | None = None,
        genesis: str | os.PathLike[str] | None = None,
    ) -> None:
        if isinstance(nodes, str) or not nodes:
            raise BillflowError("a client needs a list of at least one node URL")
        if key is not None and not isinstance(key, Key):
            key = Key.from_file(key)
        if (key is None) != (key_id is None):
            raise BillflowError("give both key and key_id, or neither")
        self.nodes = [n.rstrip("/") for n in nodes]
        self.key, self.key_id, self.tenant = key, key_id, tenant
        self.genesis = genesis
        self._ca = ca
        self._chain_id = chain_id
        self._timeout = timeout
        self._current = 0
        self._pinned = {k: v if isinstance(v, Interface) else Interface(v) for k, v in (interfaces or {}).items()}
        self._interfaces: dict[str, Interface] = {}
        self._no_interface: set[str] = set()
        self._devnet: dict[str, Any] | None = None
        verify: ssl.SSLContext | bool = _ssl_context(ca) if ca is not None else True
        # Idle connections go after 5 s, before the gateway closes them (10 s).
        self._http = httpx.Client(verify=verify, timeout=timeout, limits=httpx.Limits(keepalive_expiry=5.0))
        self._ssl = verify if isinstance(verify, ssl.SSLContext) else None
        self.evidence = EvidenceApi(self)

    # ---- construction ----

    @classmethod
    def from_devnet(cls, path: str | os.PathLike[str], as_participant: str | None = None, **options: Any) -> Client:
        """A client of the devnet described by ``devnet.json`` (every node, its CA, chain and genesis).

        It signs with ``as_participant``'s key (a demo participant, a notary
        participant, or a regulator or administrator organisation listed in
        ``devnet.json``); enterprises act under the devnet's tenant. Without
        ``as_participant``, it signs as the devnet's tenant platform.
        """
        devnet = json.loads(Path(path).read_text("utf-8"))
        identity = _devnet_identity(devnet, as_participant)
        client = cls(
            [n["api_url"] for n in devnet["nodes"]],
            ca=devnet["ca_cert"],
            chain_id=devnet["chain_id"],
            genesis=devnet["genesis"],
            **identity,
            **options,
        )
        client._devnet = devnet
        return client

    def as_participant(self, who: str) -> Client:
        """This devnet client, signing as ``who`` (see :meth:`from_devnet`)."""
        if self._devnet is None:
            raise BillflowError("as_participant needs a client made by Client.from_devnet; use with_key")
        client = self.with_key(**_devnet_identity(self._devnet, who))
        client._devnet = self._devnet
        return client

    def with_key(self, key: Key | str | os.PathLike[str], key_id: str, tenant: str | None = None) -> Client:
        """The same network and settings, signing with another key."""
        client = Client(
            self.nodes,
            ca=self._ca,
            key=key,
            key_id=key_id,
            tenant=tenant,
            chain_id=self._chain_id,
            timeout=self._timeout,
            interfaces=self._pinned,
            genesis=self.genesis,
        )
        client._interfaces = self._interfaces  # interfaces are the network's, not the key's
        return client

    def close(self) -> None:
        """Closes the connections."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Client(nodes={self.nodes!r}, key_id={self.key_id!r}, tenant={self.tenant!r})"

    # ---- requests ----

    @property
    def node(self) -> str:
        """The node requests go to now."""
        return self.nodes[self._current % len(self.nodes)]

    def _rotate(self) -> None:
        self._current += 1

    def auth_headers(self, method: str, path: str, query: str, body: bytes) -> dict[str, str]:
        """The four signature headers of a request (empty without a key)."""
        if self.key is None or self.key_id is None:
            return {}
        timestamp = _tx.now_ms()
        nonce = secrets.token_hex(16)
        message = request_message(method, path, query, timestamp, nonce, body)
        return {
            "x-billflow-key": self.key_id,
            "x-billflow-timestamp": str(timestamp),
            "x-billflow-nonce": nonce,
            "x-billflow-signature": self.key.sign(Domain.API_REQUEST, message).hex(),
        }

    def _send(
        self,
        method: str,
        path: str,
        query: str = "",
        body: bytes | None = None,
        content_type: str | None = None,
        *,
        signed: bool = True,
    ) -> httpx.Response:
        url = f"{self.node}{path}" + (f"?{query}" if query else "")
        headers = {"content-type": content_type} if content_type else {}
        request = self._http.build_request(method, url, content=body, headers=headers)
        # Sign what goes on the request line, exactly.
        raw = request.url.raw_path.decode("ascii")
        sent_path, _, sent_query = raw.partition("?")
        if signed:
            request.headers.update(self.auth_headers(method, sent_path, sent_query, body or b""))
        try:
            return self._http.send(request)
        except httpx.HTTPError as e:
            raise TransportError(f"{self.node}: {type(e).__name__}: {e}") from e

    @staticmethod
    def _answer(response: httpx.Response) -> Any:
        if response.is_success:
            try:
                return response.json()
            except ValueError:
                raise BillflowError(f"the node's answer is not JSON: {response.text[:200]!r}") from None
        try:
            body = response.json()
            code, message = body["code"], body["message"]
            request_id = body.get("request_id") or response.headers.get("x-request-id")
        except (ValueError, KeyError, TypeError):
            code, message, request_id = "E_HTTP", response.text[:200], response.headers.get("x-request-id")
        raise ledger_error(response.status_code, code, message, request_id)

    def _object(
        self,
        method: str,
        path: str,
        query: str = "",
        body: bytes | None = None,
        content_type: str | None = None,
        *,
        failover: bool = True,
        signed: bool = True,
    ) -> dict[str, Any]:
        """:meth:`request` whose answer must be a JSON object."""
        answer = self.request(method, path, query, body, content_type, failover=failover, signed=signed)
        if not isinstance(answer, dict):
            raise BillflowError(f"{method} {path}: the node answered {type(answer).__name__}, not an object")
        return answer

    def request(
        self,
        method: str,
        path: str,
        query: str = "",
        body: bytes | None = None,
        content_type: str | None = None,
        *,
        failover: bool = True,
        signed: bool = True,
    ) -> Any:
        """A gateway call: its JSON answer, or a :class:`LedgerError`.

        With ``failover`` (reads and queries), a node that cannot be reached
        or answers 408, 429 or 5xx is left for the next, each node once.
        The request is signed when the client holds a key, unless ``signed``
        is false (a submission: the transaction's own signature authenticates it).
        """
        tries = len(self.nodes) if failover else 1
        while True:
            try:
                return self._answer(self._send(method, path, query, body, content_type, signed=signed))
            except (TransportError, LedgerError) as e:
                retry = isinstance(e, TransportError) or (isinstance(e, LedgerError) and e.retryable)
                tries -= 1
                if not retry or tries <= 0:
                    raise
                self._rotate()

    # ---- network and contracts ----

    @property
    def chain_id(self) -> str:
        """The chain id (asked of a node once when not configured)."""
        if self._chain_id is None:
            self._chain_id = str(self.health()["chain_id"])
        return self._chain_id

    def health(self) -> dict[str, Any]:
        """The current node's health (``GET /v1/health``)."""
        return self._object("GET", "/v1/health")

    def network(self) -> dict[str, Any]:
        """Members, roles, leader and heights as the node sees them."""
        return self._object("GET", "/v1/network")

    def genesis_document(self) -> dict[str, Any]:
        """The stored genesis document (``GET /v1/genesis``); check it against a hash you trust."""
        return self._object("GET", "/v1/genesis")

    def contracts(self) -> list[dict[str, Any]]:
        """Every deployed contract."""
        answer = self.request("GET", "/v1/contracts")
        if not isinstance(answer, list):
            raise BillflowError("GET /v1/contracts: the node did not answer a list")
        return answer

    def contract(self, name: str) -> dict[str, Any] | None:
        """A deployed contract's record (``None``: none by that name)."""
        try:
            return self._object("GET", f"/v1/contracts/{_seg(name)}")
        except NotFoundError:
            return None

    def active_version(self, contract: str) -> str:
        """The version transactions to ``contract`` must name now."""
        if contract == SYSTEM_CONTRACT:
            # Built into the node, not a deployed contract: its interface names its version.
            try:
                return self.interface(SYSTEM_CONTRACT).version
            except NotFoundError:
                return SYSTEM_VERSION
        record = self.contract(contract)
        if record is None:
            raise NotFoundError("E_NOT_FOUND", 404, f"no contract named {contract} is deployed")
        return str(record["version"])

    def interface(self, contract: str, *, refresh: bool = False) -> Interface:
        """The contract's interface (for its active version), cached; pinned ones win."""
        if contract in self._pinned:
            return self._pinned[contract]
        if refresh or contract not in self._interfaces:
            self._interfaces[contract] = Interface(self._object("GET", f"/v1/contracts/{_seg(contract)}/interface"))
        return self._interfaces[contract]

    def _interface_for(self, contract: str, version: str) -> Interface:
        iface = self.interface(contract)
        if iface.version != version and contract not in self._pinned:
            iface = self.interface(contract, refresh=True)  # upgraded since it was cached
        return iface

    def encode_args(self, contract: str, method: str, args: Any) -> bytes:
        """The canonical bytes of a method's arguments given as JSON, by the contract's interface."""
        return self.interface(contract).encode_args(method, args)

    def node_encode(self, contract: str, method: str, args: Any) -> bytes:
        """The node's own encoding of ``args`` (``POST /v1/contracts/{name}/encode/{method}``), for
        cross-checking; never sign what a node hands you, encode with :meth:`encode_args`."""
        body = json.dumps({"args": args}).encode()
        path = f"/v1/contracts/{_seg(contract)}/encode/{_seg(method)}"
        return bytes.fromhex(self._object("POST", path, body=body, content_type="application/json")["args"])

    # ---- transactions ----

    def sign(self, contract: str, method: str, args: bytes, version: str, *, tx_id: str | None = None) -> _tx.SignedTx:
        """A transaction signed with this client's key."""
        if self.key is None or self.key_id is None:
            raise BillflowError("signing a transaction needs a key (Client(key=..., key_id=...))")
        return _tx.build(
            chain_id=self.chain_id,
            key=self.key,
            key_id=self.key_id,
            tenant=self.tenant,
            contract=contract,
            version=version,
            method=method,
            args=args,
            tx_id=tx_id,
        )

    def submit_signed(self, signed: _tx.SignedTx, *, timeout: float = 30.0, as_json: bool = False) -> dict[str, Any]:
        """Submits a signed transaction and waits until it commits (its ``TxView``).

        When a node cannot be reached, times out or answers 408, 429 or 5xx,
        the same transaction goes to the next node, until ``timeout`` seconds
        have passed (:class:`CommitTimeout`). ``as_json`` sends the JSON form
        instead of the canonical bytes.
        """
        if as_json:
            body, content_type = json.dumps(signed.to_json()).encode(), "application/json"
        else:
            body, content_type = signed.encode(), "application/octet-stream"
        deadline = time.monotonic() + timeout
        while True:
            wait_ms = max(1, min(_MAX_WAIT_MS, int((deadline - time.monotonic()) * 1000)))
            try:
                view = self._object(
                    "POST",
                    "/v1/transactions",
                    f"wait=true&timeout_ms={wait_ms}",
                    body,
                    content_type,
                    failover=False,
                    signed=False,
                )
                if view.get("status") == "committed":
                    return view
            except (TransportError, LedgerError) as e:
                if isinstance(e, LedgerError) and not e.retryable:
                    raise
                if time.monotonic() >= deadline:
                    raise
                self._rotate()
                time.sleep(0.2)
                continue
            if time.monotonic() >= deadline:
                raise CommitTimeout(signed.tx.tx_id, timeout)

    def submit(
        self,
        contract: str,
        method: str,
        args: Any,
        version: str | None = None,
        *,
        tx_id: str | None = None,
        timeout: float = 30.0,
        as_json: bool = False,
    ) -> Receipt:
        """Signs a call of ``contract.method`` with ``args``, submits it, waits for the commit.

        Args:
            args: the arguments as JSON (encoded by the contract's interface), or
                ``bytes`` already in canonical form.
            version: the contract version meant; default the active one.
            tx_id: the transaction id (default a fresh one); resubmitting an id never executes twice.

        Returns:
            The :class:`Receipt`. A transaction the ledger refused raises
            :class:`TransactionFailed` (its ``code`` is the executor's or the
            contract's, its ``receipt`` the committed one).
        """
        version = version or self.active_version(contract)
        if isinstance(args, (bytes, bytearray)):
            encoded = bytes(args)
        else:
            iface = self._interface_for(contract, version)
            if iface.method(method).kind != "write":
                raise CodecError(f"{contract}.{method} is a query: use Client.query")
            encoded = iface.encode_args(method, args)
        signed = self.sign(contract, method, encoded, version, tx_id=tx_id)
        receipt = self.receipt(self.submit_signed(signed, timeout=timeout, as_json=as_json))
        if receipt.failure is not None:
            raise TransactionFailed(receipt.failure[0], receipt.failure[1], receipt.tx_id, receipt)
        return receipt

    def receipt(self, view: Mapping[str, Any]) -> Receipt:
        """A node's ``TxView`` as a :class:`Receipt`, events decoded where an interface names them."""
        r = view.get("receipt") or {}
        failure = r.get("failure")
        events = r.get("events", [])
        # What the node decoded (``decoded_events``, one per event), used where the SDK has no interface.
        node_decoded = list(view.get("decoded_events") or [])
        node_decoded += [None] * (len(events) - len(node_decoded))
        return Receipt(
            tx_id=str(view["tx_id"]),
            tx_hash=str(view["tx_hash"]),
            height=view.get("height"),
            index=view.get("index"),
            success=r.get("status") == "success",
            failure=(failure["code"], failure["message"]) if failure else None,
            events=[
                Event(
                    e["contract"],
                    e["topic"],
                    bytes.fromhex(e["data"]),
                    self._decode_event(e["contract"], e["topic"], e["data"], node_decoded[n]),
                )
                for n, e in enumerate(events)
            ],
            fuel_used=int(r.get("fuel_used", 0)),
            view=dict(view),
        )

    def _decode_event(self, contract: str, topic: str, data_hex: str, node_decoded: Any) -> Any:
        try:
            if contract in self._no_interface:
                raise NotFoundError("E_NOT_FOUND", 404, f"{contract} serves no interface")
            try:
                iface = self.interface(contract)
            except NotFoundError:
                self._no_interface.add(contract)  # not asked again for every event
                raise
            return iface.decode_event(topic, bytes.fromhex(data_hex))
        except NotFoundError:
            if contract == _evidence.CONTRACT:
                return self._decode_builtin(topic, data_hex, node_decoded)
            return node_decoded
        except (BillflowError, ValueError):
            return node_decoded  # no interface names it: what the node decoded, if anything

    @staticmethod
    def _decode_builtin(topic: str, data_hex: str, node_decoded: Any) -> Any:
        try:
            return _evidence.builtin_interface().decode_event(topic, bytes.fromhex(data_hex))
        except (BillflowError, ValueError):
            return node_decoded

    def transaction(self, tx_id: str) -> dict[str, Any]:
        """A transaction's status and receipt (``TxView``; the signer's own or its tenant's)."""
        return self._object("GET", f"/v1/transactions/{_seg(tx_id)}")

    def transaction_proof(self, tx_id: str) -> dict[str, Any]:
        """The Merkle paths, header and attestations proving a committed transaction."""
        return self._object("GET", f"/v1/transactions/{_seg(tx_id)}/proof")

    def verify_transaction(
        self, tx_id: str, genesis: Any = None, *, genesis_hash: bytes | str | None = None, wait: float = 10.0
    ) -> TxProof:
        """Fetches a committed transaction's proof and checks it offline against ``genesis``
        (default: the client's genesis file): the transaction and its receipt are in a
        block attested by a majority of the voters in force. Attestations gather in the
        moments after a commit: while too few are there, the proof is asked for again,
        for at most ``wait`` seconds."""
        loaded = Genesis.load(genesis if genesis is not None else self._require_genesis())
        if genesis_hash is not None and loaded.hash() != _evidence.as_hash(genesis_hash):
            raise VerificationError("malformed", "the genesis document does not hash to the hash given")
        deadline = time.monotonic() + wait
        while True:
            proof = TxProof.from_json(self.transaction_proof(tx_id))
            try:
                proof.verify(loaded)
                return proof
            except ProofError as e:
                if e.kind != "not_attested" or time.monotonic() >= deadline:
                    raise
            time.sleep(0.3)

    def _require_genesis(self) -> str | os.PathLike[str]:
        if self.genesis is None:
            raise BillflowError("verifying needs the genesis file (Client(genesis=...) or the genesis argument)")
        return self.genesis

    # ---- queries ----

    def query(self, contract: str, method: str, args: Any = None) -> Any:
        """Runs a read-only query of the contract's active version as this key; the decoded result.

        A refusal by the contract is a :class:`ContractError` (status 422) with its code.
        """
        iface = self.interface(contract)
        return iface.decode_result(method, self.query_raw(contract, method, iface.encode_args(method, args)))

    def query_raw(self, contract: str, method: str, args: bytes) -> bytes:
        """A query with canonical argument bytes; the output bytes."""
        path = f"/v1/contracts/{_seg(contract)}/query/{_seg(method)}"
        answer = self._object("POST", path, body=args, content_type="application/octet-stream")
        return bytes.fromhex(answer["output"])

    # ---- events, supervision, inbox ----

    def _page(self, path: str, from_: str | None, types: Sequence[str] | None, participant: str | None) -> EventPage:
        answer = self._object("GET", path, stream_query(from_, types, participant))
        return EventPage([self.stream_event(e) for e in answer["events"]], str(answer["next"]))

    def events(self, from_: str | None = None, types: Sequence[str] | None = None) -> EventPage:
        """One page (at most 1000) of the signer's own events after cursor ``from_``
        (without it: none, and the tip's cursor), filtered by topic prefixes."""
        return self._page("/v1/events", from_, types, None)

    def iter_events(self, from_: str = "0-0-0", types: Sequence[str] | None = None) -> Iterator[StreamEvent]:
        """Every one of the signer's events after ``from_`` up to the tip, page after page."""
        cursor = from_
        while True:
            page = self.events(cursor, types)
            yield from page.events
            if not page.events:
                return
            cursor = page.next

    def event_stream(
        self, from_: str | None = None, types: Sequence[str] | None = None, *, reconnect: bool = True
    ) -> EventStream:
        """The signer's events as they commit (``/v1/events/stream``), after cursor ``from_``."""
        return EventStream(self, "/v1/events/stream", from_, types, None, reconnect)

    def supervision_events(
        self, from_: str | None = None, types: Sequence[str] | None = None, participant: str | None = None
    ) -> EventPage:
        """A page of every committed event and risk alert (regulators' keys)."""
        return self._page("/v1/supervision/events", from_, types, participant)

    def supervise(
        self,
        from_: str | None = None,
        types: Sequence[str] | None = None,
        participant: str | None = None,
        *,
        reconnect: bool = True,
    ) -> EventStream:
        """The supervision stream (regulators' keys): every committed event and risk alert."""
        return EventStream(self, "/v1/supervision/stream", from_, types, participant, reconnect)

    def stream_event(self, e: Mapping[str, Any]) -> StreamEvent:
        """A stream frame or page item as a :class:`StreamEvent` (data decoded where an interface names it)."""
        return StreamEvent(
            cursor=str(e["cursor"]),
            height=int(e["height"]),
            tx_index=int(e["tx_index"]),
            event_index=int(e["event_index"]),
            time_ms=int(e["time_ms"]),
            tx_id=str(e["tx_id"]),
            refused=bool(e["refused"]),
            contract=str(e["contract"]),
            topic=str(e["topic"]),
            data=bytes.fromhex(e["data"]),
            decoded=self._decode_event(e["contract"], e["topic"], e["data"], e.get("decoded")),
        )

    def inbox(self) -> dict[str, Any]:
        """What waits for the signer's answer: ``requests`` to sign, refuse or approve, and a
        bank's fund ``movements`` to report (participants' keys)."""
        return self._object("GET", "/v1/inbox")

    def audit(
        self,
        *,
        from_: str | None = None,
        to: str | None = None,
        subject: str | None = None,
        after: int | None = None,
        limit: int = 100,
    ) -> dict[str, Any]:
        """A page of the node's hash-chained audit log (regulators' keys)."""
        query = query_string(
            [
                ("from", from_),
                ("to", to),
                ("subject", subject),
                ("after", None if after is None else str(after)),
                ("limit", str(limit)),
            ]
        )
        return self._object("GET", "/v1/audit", query)


class EvidenceApi:
    """The evidence contract: submit a document's hash, co-sign it, fetch and verify its proof."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def submit(
        self,
        data: bytes | None = None,
        *,
        hash: bytes | str | None = None,
        doc_type: str = "document",
        metadata: Mapping[str, str] | Sequence[Sequence[str]] | None = None,
        tx_id: str | None = None,
        timeout: float = 30.0,
    ) -> Receipt:
        """Records a document's SHA-256 (of ``data``, or ``hash`` given) with its type and metadata.

        Only the hash reaches the ledger, never the document. Metadata pairs
        keep their order; personal data in them is refused (``E_PERSONAL_DATA``).
        """
        if (data is None) == (hash is None):
            raise BillflowError("give the document's data or its hash, one of them")
        digest = _evidence.document_hash(data) if data is not None else _evidence.as_hash(hash)  # type: ignore[arg-type]
        args = _evidence.submit_args(digest, doc_type, metadata or ())
        return self._submit("submit", args, tx_id, timeout)

    def cosign(self, hash: bytes | str, *, tx_id: str | None = None, timeout: float = 30.0) -> Receipt:
        """A notary's co-signature of a submitted document (notary participants' keys)."""
        args = {"hash": _evidence.as_hash(hash).hex()}
        return self._submit("cosign", args, tx_id, timeout)

    def _submit(self, method: str, args: dict[str, Any], tx_id: str | None, timeout: float) -> Receipt:
        client = self._client
        version = client.active_version(_evidence.CONTRACT)
        try:
            iface = client._interface_for(_evidence.CONTRACT, version)
        except NotFoundError:
            # A node that serves no interfaces yet: the SDK's own copy of the
            # evidence types (the same ones its proof checks decode with).
            iface = _evidence.builtin_interface()
        encoded = iface.encode_args(method, args)
        return client.submit(_evidence.CONTRACT, method, encoded, version, tx_id=tx_id, timeout=timeout)

    def proof(self, hash: bytes | str) -> dict[str, Any] | None:
        """The evidence record with the proof of its submission and co-signatures (``None``: not on the ledger)."""
        try:
            return self._client._object("GET", f"/v1/evidence/{_evidence.as_hash(hash).hex()}")
        except NotFoundError:
            return None

    def verify(
        self,
        hash: bytes | str,
        genesis: Any = None,
        *,
        genesis_hash: bytes | str | None = None,
        wait: float = 10.0,
    ) -> _evidence.Verdict:
        """Fetches the proof of ``hash`` and verifies it offline against ``genesis``
        (default: the client's genesis file). Trust comes from the genesis, not the node.

        A block's attestations gather in the moments after it commits: while too
        few voters have attested it, the proof is asked for again, for at most
        ``wait`` seconds; any other refusal is final.
        """
        loaded = Genesis.load(genesis if genesis is not None else self._client._require_genesis())
        deadline = time.monotonic() + wait
        while True:
            proof = self.proof(hash)
            if proof is None:
                raise NotFoundError("E_NOT_FOUND", 404, f"no evidence for {_evidence.as_hash(hash).hex()}")
            try:
                return _evidence.verify(proof, loaded, hash, genesis_hash=genesis_hash)
            except VerificationError as e:
                gathering = e.cause is not None and e.cause.kind == "not_attested"
                if not gathering or time.monotonic() >= deadline:
                    raise
            time.sleep(0.3)


def _seg(segment: str) -> str:
    """A path segment, percent-encoded."""
    return quote(segment, safe="")


def _devnet_identity(devnet: Mapping[str, Any], who: str | None) -> dict[str, Any]:
    platform = devnet["tenant_keys"][0]["owner"] if devnet.get("tenant_keys") else None
    if who is None:
        if platform is None:
            return {}
        k = devnet["tenant_keys"][0]
        return {"key": k["key_file"], "key_id": k["key_id"], "tenant": k["owner"]}
    lists = ("participant_keys", "notary_keys", "regulator_keys", "admin_keys", "tenant_keys")
    for name in lists:
        for k in devnet.get(name, []):
            if k["owner"] == who:
                tenant: str | None
                if name == "tenant_keys":
                    tenant = who
                elif name in ("participant_keys", "notary_keys"):
                    enterprise = k["kind"] == "enterprise" if "kind" in k else is_credit_code(who)
                    tenant = k.get("tenant") or (platform if enterprise else None)
                else:
                    tenant = None
                return {"key": k["key_file"], "key_id": k["key_id"], "tenant": tenant}
    known = [k["owner"] for name in lists for k in devnet.get(name, [])]
    raise BillflowError(f"devnet.json has no key of {who}; it has {', '.join(known)}")
