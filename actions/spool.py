"""Orders kept in a database while the backend is down, so that no restart loses them.

A conversation whose filing could not reach the backend is recorded here (by its idempotency key);
the action server's retry loop (``actions/server.py``) asks Rasa to re-run the filing in that
conversation until the backend takes it. The order itself stays in the conversation's tracker (Rasa's
SQL tracker store); this table only says which conversations are waiting and when to try next.

The table is the ``spool`` store of ``bot/stores.py``: SQLite under ``var/`` by default, PostgreSQL
(``ACTION_SPOOL_DB``) when several action servers run; its schema comes from migrations. Each attempt
is claimed with one conditional UPDATE, so two action servers never retry the same order at once.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

import sqlalchemy as sa

from bot.stores import make_engine, require_current, url_from_env
from policies.backoff import stepped

BACKOFF_SECONDS = (60, 120, 300, 600, 900)

waiting_table = sa.Table(
    "waiting",
    sa.MetaData(),
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("sender_id", sa.String(200), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", sa.Float, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)

_engines: dict[str, sa.engine.Engine] = {}
_engines_lock = threading.Lock()


def _engine(url: str) -> sa.engine.Engine:
    """One engine per database for the life of the process, checked once against the migrations."""
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            engine = make_engine(url)
            require_current("spool", engine)
            _engines[url] = engine
        return engine


@dataclass(frozen=True)
class Waiting:
    key: str
    sender_id: str
    attempts: int


def delay_after(attempts: int, scale: float = 1.0) -> float:
    """Seconds before the next attempt once ``attempts`` were made (1, 2, 5, 10, then 15 minutes, times
    ``scale``: SPOOL_BACKOFF_SCALE, which only tests of whole outages set below 1)."""
    return stepped(BACKOFF_SECONDS, attempts) * scale


class FilingSpool:
    """One row per conversation waiting to file."""

    def __init__(self, url: str, backoff_scale: float = 1.0):
        self.engine = _engine(url)
        self.backoff_scale = backoff_scale

    @classmethod
    def from_env(cls) -> FilingSpool:
        return cls(url_from_env("spool"), float(os.environ.get("SPOOL_BACKOFF_SCALE") or 1.0))

    def keep(self, key: str, sender_id: str, now: float | None = None) -> None:
        """Record a conversation whose order is waiting (a second call for the same key changes nothing)."""
        now = time.time() if now is None else now
        row = {
            "key": key,
            "sender_id": sender_id,
            "attempts": 0,
            "next_attempt_at": now + delay_after(0, self.backoff_scale),
        }
        with self.engine.begin() as db:
            try:
                with db.begin_nested():
                    db.execute(waiting_table.insert().values(**row, created_at=now))
            except sa.exc.IntegrityError:  # kept already (a retried turn, or another action server)
                pass

    def done(self, key: str) -> None:
        """The backend took the order (or refused it for good): stop retrying."""
        with self.engine.begin() as db:
            db.execute(waiting_table.delete().where(waiting_table.c.key == key))

    def due(self, now: float | None = None) -> list[Waiting]:
        now = time.time() if now is None else now
        query = (
            sa.select(waiting_table.c.key, waiting_table.c.sender_id, waiting_table.c.attempts)
            .where(waiting_table.c.next_attempt_at <= now)
            .order_by(waiting_table.c.next_attempt_at)
        )
        with self.engine.connect() as db:
            return [Waiting(*row) for row in db.execute(query)]

    def claim(self, waiting: Waiting, now: float | None = None) -> bool:
        """Take this attempt: the next one waits longer. False when another process took it first."""
        now = time.time() if now is None else now
        attempts = waiting.attempts + 1
        with self.engine.begin() as db:
            taken = db.execute(
                waiting_table.update()
                .where(waiting_table.c.key == waiting.key, waiting_table.c.attempts == waiting.attempts)
                .values(attempts=attempts, next_attempt_at=now + delay_after(attempts, self.backoff_scale))
            ).rowcount
        return bool(taken)
