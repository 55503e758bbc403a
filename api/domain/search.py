"""One search box for the order board (#25): an order number, the last four digits of the resident's
phone, a fragment of the address or community, or the resident's name.

An order keeps what is searched in two columns written whenever it is saved (``api.models``, a mapper
event): ``search_text``, its community, address and contact name folded and joined, and ``phone_tail``,
the phone's last four digits. Both are cleared with the personal data they come from (12.1).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MAX_QUERY = 64
SEPARATOR = "|"  # between the folded parts of ``search_text``: no query matches across two of them
_SPACES = re.compile(r"\s+")
_NOT_DIGITS = re.compile(r"\D")
_ORDER_NUMBER = re.compile(r"(gd)?\d{6,}")  # "GD" and at least six digits of a number, or a long run of digits
_PHONE_TAIL = re.compile(r"\d{4}")


def folded(text: str) -> str:
    """What is compared: NFKC (full-width digits and letters as half-width), lower case, no spaces."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", text)).lower().replace(SEPARATOR, "")


def search_text(*parts: str | None) -> str | None:
    """The folded parts an order is found by (community, address, contact name); None without any."""
    kept = [folded(p) for p in parts if p and folded(p)]
    return SEPARATOR.join(kept) if kept else None


def phone_tail(phone: str | None) -> str | None:
    """The last four digits of a phone number (a resident reads them out), None without four."""
    digits = _NOT_DIGITS.sub("", unicodedata.normalize("NFKC", phone or ""))
    return digits[-4:] if len(digits) >= 4 else None


@dataclass(frozen=True)
class Search:
    """A query read: the folded text, and which other readings it allows."""

    text: str
    number: str | None  # part of an order number ("GD2026…" or a long run of its digits), upper case
    phone_tail: str | None  # exactly four digits
    name: bool  # may be a name (it has no digits)


def parse(query: str | None) -> Search | None:
    """A search box's text as a search; None when nothing is left to search for."""
    text = folded(query or "")[:MAX_QUERY]
    if not text:
        return None
    return Search(
        text=text,
        number=text.upper() if _ORDER_NUMBER.fullmatch(text) else None,
        phone_tail=text if _PHONE_TAIL.fullmatch(text) else None,
        name=not any(c.isdigit() for c in text),
    )
