"""The backend's log lines: JSON built and masked by ``heating_standard.privacy.log_line``, under the
current correlation id (``policies.correlation``). ``LOG_FORMAT=plain`` keeps the development format,
masked the same way. The conversation side has the same adapter in its own environment (bot/logs.py):
what a line holds and how it is masked has one home, ``heating_standard.privacy``."""

from __future__ import annotations

import logging
import os
import sys

from heating_standard.privacy import log_line, mask_log
from policies.correlation import correlation_id

# The product's own loggers: their level is set, not left to the root's (a library may lower it later).
OWN_LOGGERS = ("heating", "api", "channels", "actions", "bot", "policies")
# Fields of the record that are Python's own, not extras a caller passed with ``extra=``.
STANDARD_FIELDS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    def __init__(self, process: str, salt: str = "") -> None:
        super().__init__()
        self.process, self.salt = process, salt

    def format(self, record: logging.LogRecord) -> str:
        extras = {k: v for k, v in vars(record).items() if k not in STANDARD_FIELDS}
        exception = self.formatException(record.exc_info) if record.exc_info else None
        cid = str(getattr(record, "correlation_id", "") or correlation_id.get())
        extras.pop("correlation_id", None)
        return log_line(
            record.created, record.levelname, record.name, self.process, cid, record.getMessage(), extras, exception,
            self.salt,
        )  # fmt: skip


class PlainFormatter(logging.Formatter):
    def __init__(self, salt: str = "") -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.salt = salt

    def format(self, record: logging.LogRecord) -> str:
        text = mask_log(super().format(record), self.salt)
        cid = correlation_id.get()
        return f"{text} [{cid}]" if cid else text


def formatter(process: str, style: str | None = None) -> logging.Formatter:
    """The formatter ``LOG_FORMAT`` asks for (``json``, the default, or ``plain``), keyed by ``LOG_MASK_SALT``."""
    salt = os.environ.get("LOG_MASK_SALT", "")
    chosen = (style or os.environ.get("LOG_FORMAT") or "json").strip().lower()
    return PlainFormatter(salt) if chosen == "plain" else JsonFormatter(process, salt)


def configure(process: str, level: int = logging.INFO, loggers: tuple[str, ...] = ()) -> None:
    """Every handler of the root logger (one on stderr when there is none) and of ``loggers`` writes
    ``formatter(process)`` lines; a test runner's capture keeps its own format."""
    chosen = formatter(process)
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler(sys.stderr))
    root.setLevel(level)
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(level)
    for name in ("", *loggers):
        for handler in logging.getLogger(name).handlers:
            if isinstance(handler, logging.StreamHandler) and not type(handler).__module__.startswith("_pytest"):
                handler.setFormatter(chosen)
