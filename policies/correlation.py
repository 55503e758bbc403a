"""One correlation id per resident's message or staff request, passed from process to process
(docs/metrics.md, "Logs").

The channel derives a message's id from its push's key, so that the platform's retries of one push
share it; each process passes it on in the ``X-Correlation-ID`` header, and each process that receives
one runs under it (``correlation_id``). Standard library only: both environments import it.
"""

from __future__ import annotations

import contextvars
import hashlib
import re
import secrets

CORRELATION_HEADER = "X-Correlation-ID"
correlation_id: contextvars.ContextVar[str] = contextvars.ContextVar("correlation_id", default="")

# What a caller may send as a correlation id: anything else is replaced by a new one (a header is
# the attacker's input: no newlines, no quotes, bounded).
ACCEPTED_ID = re.compile(r"[A-Za-z0-9_.:-]{8,64}")


def new_correlation_id() -> str:
    return secrets.token_hex(8)


def correlation_for(seed: str) -> str:
    """A correlation id derived from ``seed`` (a push's key): the same for every retry of the push, and
    revealing nothing of it."""
    return hashlib.sha256(("correlation:" + seed).encode()).hexdigest()[:16]


def accepted(value: str | None) -> str | None:
    """``value`` when it may be used as a correlation id, else None."""
    return value if value and ACCEPTED_ID.fullmatch(value) else None
