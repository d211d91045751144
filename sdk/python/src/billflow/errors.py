"""Typed errors.

Every error the SDK raises is a :class:`BillflowError`. What a node or the
ledger refuses is a :class:`LedgerError` carrying the ledger's stable code
(``E_...``), the HTTP status and the node's message; a few subclasses let a
caller catch a family of refusals without comparing codes.
"""

from __future__ import annotations

from typing import Any


class BillflowError(Exception):
    """Base class of every error of this SDK."""


class LedgerError(BillflowError):
    """A refusal by a node's gateway or by the ledger.

    Attributes:
        code: the stable code, e.g. ``E_UNKNOWN_KEY`` or a contract's ``E_BILL_LOCKED``.
        status: the HTTP status (422 for a transaction the executor or a contract refused).
        message: the node's explanation (personal data in it is masked by the node).
        request_id: the id naming the request in the node's audit log, when the node gave one.
    """

    def __init__(self, code: str, status: int, message: str, request_id: str | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.code = code
        self.status = status
        self.message = message
        self.request_id = request_id

    @property
    def retryable(self) -> bool:
        """Whether another attempt (or another node) may succeed: 408, 429 and 5xx."""
        return self.status >= 500 or self.status in (408, 429)


class BadRequestError(LedgerError):
    """400: the request or transaction is malformed or invalid."""


class AuthenticationError(LedgerError):
    """401: the request or transaction signature, key, time or nonce was refused."""


class ForbiddenError(LedgerError):
    """403: the signer may not do this."""


class NotFoundError(LedgerError):
    """404: no such route, block, transaction, contract or record."""


class ConflictError(LedgerError):
    """409: the transaction id was used before by another transaction."""


class RateLimitedError(LedgerError):
    """429: over the tenant's request rate."""


class UnavailableError(LedgerError):
    """5xx: the node is busy, not ready, stopping, or failed."""


class ContractError(LedgerError):
    """422: the executor or a contract refused a call or a query."""


class TransactionFailed(ContractError):
    """A transaction committed with a failed receipt (the ledger recorded the refusal).

    Attributes:
        tx_id: the transaction id.
        receipt: the committed :class:`billflow.Receipt`.
    """

    def __init__(self, code: str, message: str, tx_id: str, receipt: Any) -> None:
        super().__init__(code, 422, message)
        self.tx_id = tx_id
        self.receipt = receipt


_BY_STATUS: dict[int, type[LedgerError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    422: ContractError,
    429: RateLimitedError,
}


def ledger_error(status: int, code: str, message: str, request_id: str | None = None) -> LedgerError:
    """The most specific :class:`LedgerError` for an HTTP status."""
    cls = _BY_STATUS.get(status) or (UnavailableError if status >= 500 else LedgerError)
    return cls(code, status, message, request_id)


class TransportError(BillflowError):
    """No node could be reached (connection refused, TLS failure, timeout)."""


class CommitTimeout(BillflowError):
    """A transaction did not commit within the time allowed; resubmitting it is safe."""

    def __init__(self, tx_id: str, seconds: float) -> None:
        super().__init__(f"transaction {tx_id} did not commit within {seconds:g} s")
        self.tx_id = tx_id


class CodecError(BillflowError, ValueError):
    """A value does not encode to, or bytes do not decode from, a type.

    Attributes:
        path: where in the value, e.g. ``args.range.start``.
    """

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.reason = message


class KeyFileError(BillflowError, ValueError):
    """A key file or key is unusable."""


class StreamError(BillflowError):
    """An event stream broke; ``cursor`` is where to resume from."""

    def __init__(self, message: str, cursor: str | None = None, close_code: int | None = None) -> None:
        super().__init__(message)
        self.cursor = cursor
        self.close_code = close_code


class ProofError(BillflowError):
    """A transaction proof does not hold (port of ``billflow_types::proof::ProofError``).

    Attributes:
        kind: ``wrong_chain``, ``tx_not_in_block``, ``receipt_not_in_block``,
            ``unknown_voters``, ``not_attested`` or ``bad_voter_change``.
        details: the variant's fields (``height``, ``valid``, ``voters``, ``index``, ...).
    """

    def __init__(self, kind: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.kind = kind
        self.details = details


class VerificationError(BillflowError):
    """An evidence proof does not hold (port of ``billflow_sdk::evidence::VerifyError``).

    Attributes:
        kind: ``other_document`` (the proof is for another hash), ``proof`` (a
            transaction proof fails; ``cause`` is the :class:`ProofError`),
            ``mismatch`` (a proven transaction is not what the proof claims) or
            ``malformed`` (the proof or genesis document does not parse).
    """

    def __init__(self, kind: str, message: str, cause: ProofError | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.cause = cause
