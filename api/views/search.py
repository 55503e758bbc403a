"""One search box for the order board (#25): an order number, the last four digits of the resident's
phone, the community and building, or the resident's family name.

A search finds only what staff see of an order (12.1: the address masked to its community and
building, the name to its family name, the phone to its last four digits): a search for a whole
address or name would tell, order by order, what the masked page hides, without the audited 查看完整.
An order keeps what is searched in two columns written whenever it is saved (``api.models``, a mapper
event): ``search_text`` (``searched``: community, masked address and masked name, folded and joined)
and ``phone_tail``. Both are cleared with the personal data they come from.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from heating_standard.privacy import mask_address, mask_name

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


def searched(community: str | None, address: str | None, building: str | None, name: str | None) -> str | None:
    """What an order is found by: what staff see of its community, address and contact name."""
    return search_text(community, mask_address(address, community, building), mask_name(name))


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


def parse(query: str | None) -> Search | None:
    """A search box's text as a search; None when nothing is left to search for."""
    text = folded(query or "")[:MAX_QUERY]
    if not text:
        return None
    return Search(
        text=text,
        number=text.upper() if _ORDER_NUMBER.fullmatch(text) else None,
        phone_tail=text if _PHONE_TAIL.fullmatch(text) else None,
    )
