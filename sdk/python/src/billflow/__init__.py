"""billflow: the Python SDK of the billflow ledger for supply-chain bill finance.

>>> import billflow
>>> client = billflow.Client.from_devnet("devnet/devnet.json", as_participant="91320500MA1FL0002T")
>>> client.query("flows", "party.get", {"id": "91320500MA1FL0002T"})

See README.md for a first integration.
"""

from . import evidence, flows
from .canonical import Domain, domain_hash, request_message
from .client import Client, Event, EvidenceApi, Receipt
from .codec import Interface, Method
from .errors import (
    AuthenticationError,
    BadRequestError,
    BillflowError,
    CodecError,
    CommitTimeout,
    ConflictError,
    ContractError,
    ForbiddenError,
    KeyFileError,
    LedgerError,
    NotFoundError,
    ProofError,
    RateLimitedError,
    StreamError,
    TransactionFailed,
    TransportError,
    UnavailableError,
    VerificationError,
)
from .keys import Key
from .proof import Genesis, TxProof
from .streams import EventPage, EventStream, StreamEvent
from .tx import SignedTx, Tx, new_tx_id

__version__ = "0.1.0"

__all__ = [
    "AuthenticationError",
    "BadRequestError",
    "BillflowError",
    "Client",
    "CodecError",
    "CommitTimeout",
    "ConflictError",
    "ContractError",
    "Domain",
    "Event",
    "EventPage",
    "EventStream",
    "EvidenceApi",
    "ForbiddenError",
    "Genesis",
    "Interface",
    "Key",
    "KeyFileError",
    "LedgerError",
    "Method",
    "NotFoundError",
    "ProofError",
    "RateLimitedError",
    "Receipt",
    "SignedTx",
    "StreamError",
    "StreamEvent",
    "TransactionFailed",
    "TransportError",
    "Tx",
    "TxProof",
    "UnavailableError",
    "VerificationError",
    "domain_hash",
    "evidence",
    "flows",
    "new_tx_id",
    "request_message",
]
