"""Production refuses a shared secret (a token, an app secret) that a guess could find."""

from __future__ import annotations

# At least this many characters in production.
MIN_SECRET_LENGTH = 16
# The samples shipped in .env.example begin so.
SAMPLE_PREFIX = "dev-"


def weak_secret(value: str) -> bool:
    """True for a value production must not run with: empty, short, or a shipped sample."""
    return len(value) < MIN_SECRET_LENGTH or value.startswith(SAMPLE_PREFIX)
