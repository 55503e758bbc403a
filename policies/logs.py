"""Log lines as JSON, one per line, carrying the correlation id of the message or staff action they
belong to, with personal data masked (docs/metrics.md, "Logs").

One resident's message gets one correlation id where it enters (the channel's webhook, from the push's
own key, so the platform's retries of one push share it); each process passes it on in the
``X-Correlation-ID`` header (Rasa to the action server, the action server to the backend, the backend to
the channel and Rasa), and each process that receives it logs under it. A staff member's request to
the backend gets one of its own. Standard library only: both environments import it.

Masked in every line, whatever logged it: mobile numbers (``138****5678``), landlines, 18-digit
identity numbers, and WeChat openids (``o…`` of 28 characters), which become a short keyed digest so that
one resident's lines can still be found together without the openid being written.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import logging
import os
import re
import secrets
import sys
from datetime import datetime, timedelta, timezone
from typing import Any

CORRELATION_HEADER = "X-Correlation-ID"
# Lines carry Beijing time whatever the machine's TZ (China keeps no daylight saving time).
BEIJING = timezone(timedelta(hours=8))
correlation_id: contextvars.ContextVar[str] = contextvars.ContextVar("correlation_id", default="")

# What a caller may send as a correlation id: anything else is replaced by a new one (a header is
# the attacker's input: no newlines, no quotes, bounded).
ACCEPTED_ID = re.compile(r"[A-Za-z0-9_.:-]{8,64}")

# A mobile number, with or without the country code and with spaces or dashes in it (138 1234 5678).
MOBILE = re.compile(r"(?<![0-9])((?:\+?86[ -]?)?)(1[3-9][0-9])[ -]?[0-9]{4}[ -]?([0-9]{4})(?![0-9])")
LANDLINE = re.compile(r"(?<![0-9])(\(?0[0-9]{2,3}\)?)[ -]?[0-9]{3,4}([0-9]{4})(?![0-9])")
IDENTITY = re.compile(r"(?<![0-9])([1-9][0-9]{5})[0-9]{8}([0-9]{3}[0-9Xx])(?![0-9A-Za-z])")
IDENTITY_15 = re.compile(r"(?<![0-9])([1-9][0-9]{5})[0-9]{6}([0-9]{3})(?![0-9])")  # the older 15 digits
# A WeChat openid: o and 27 more letters, digits, _ or - (a stand-in's may be a little shorter or longer),
# with a capital or a digit among them (a word such as "outside_the_window_or_quota" is not one).
OPENID = re.compile(r"(?<![A-Za-z0-9_-])o(?=[A-Za-z0-9_-]*[A-Z0-9])[A-Za-z0-9_-]{19,40}(?![A-Za-z0-9_-])")
# SQLAlchemy writes a failed statement's values into its message: a resident's words, address, phone.
PARAMETERS = re.compile(r"\[parameters: [^\n]*\]")
FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
# The product's own loggers: their level is set, not left to the root's.
OWN_LOGGERS = ("heating", "api", "channels", "actions", "bot", "policies")
# Fields of the record that are Python's own, not extras a caller passed with ``extra=``.
STANDARD_FIELDS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def new_correlation_id() -> str:
    return secrets.token_hex(8)


def correlation_for(seed: str) -> str:
    """A correlation id derived from ``seed`` (a push's key): the same for every retry of the push, and
    revealing nothing of it."""
    return hashlib.sha256(("correlation:" + seed).encode()).hexdigest()[:16]


def accepted(value: str | None) -> str | None:
    """``value`` when it may be used as a correlation id, else None."""
    return value if value and ACCEPTED_ID.fullmatch(value) else None


def _openid_digest(match: re.Match[str]) -> str:
    salt = os.environ.get("LOG_MASK_SALT", "")
    return "openid#" + hashlib.sha256((salt + match.group(0)).encode()).hexdigest()[:10]


def mask(text: str) -> str:
    """``text`` with phone numbers, identity numbers, openids and a failed statement's values masked."""
    text = PARAMETERS.sub("[parameters: hidden]", text)
    text = OPENID.sub(_openid_digest, text)
    if any("０" <= char <= "９" for char in text):
        text = text.translate(FULL_WIDTH_DIGITS)
    text = IDENTITY.sub(r"\1********\2", text)
    text = IDENTITY_15.sub(r"\1******\2", text)
    text = MOBILE.sub(r"\1\2****\3", text)
    return LANDLINE.sub(r"\1-****\2", text)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: Beijing time (ISO 8601, +08:00), level, logger, process, the
    correlation id, the message and any extras, every text masked."""

    def __init__(self, process: str) -> None:
        super().__init__()
        self.process = process

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, BEIJING).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "process": self.process,
            "correlation_id": getattr(record, "correlation_id", "") or correlation_id.get(),
            "message": mask(record.getMessage()),
        }
        for key, value in vars(record).items():
            if key not in STANDARD_FIELDS and key not in line:
                line[key] = mask(value) if isinstance(value, str) else value
        if record.exc_info:
            line["exception"] = mask(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False, default=str)


class PlainFormatter(logging.Formatter):
    """The development format, masked like the JSON lines, with the correlation id when there is one."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = mask(super().format(record))
        cid = correlation_id.get()
        return f"{text} [{cid}]" if cid else text


def formatter(process: str, style: str | None = None) -> logging.Formatter:
    """The formatter ``LOG_FORMAT`` asks for (``json``, the default, or ``plain``)."""
    chosen = (style or os.environ.get("LOG_FORMAT") or "json").strip().lower()
    return PlainFormatter() if chosen == "plain" else JsonFormatter(process)


def configure(process: str, level: int = logging.INFO, loggers: tuple[str, ...] = ()) -> None:
    """Every handler of the root logger (one on stderr when there is none) and of ``loggers`` writes
    ``formatter(process)`` lines; the handlers of ``loggers`` are kept (a framework's own), only their
    format changes."""
    chosen = formatter(process)
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler(sys.stderr))
    root.setLevel(level)
    for name in OWN_LOGGERS:  # a library may lower the root's level later (loading a model does)
        logging.getLogger(name).setLevel(level)
    for name in ("", *loggers):
        for handler in logging.getLogger(name).handlers:
            if _writes_lines(handler):
                handler.setFormatter(chosen)


def _writes_lines(handler: logging.Handler) -> bool:
    """A handler writing the process's lines (a stream's, a file's, a framework's colored one); not a
    test runner's capture, which keeps its own format."""
    return isinstance(handler, logging.StreamHandler) and not type(handler).__module__.startswith("_pytest")
