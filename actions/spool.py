"""Orders kept on disk while the backend is down, so that no restart loses them.

A conversation whose filing could not reach the backend is recorded here (by its idempotency key);
the action server's retry loop (``actions/server.py``) asks Rasa to re-run the filing in that
conversation until the backend takes it. The order itself stays in the conversation's tracker (Rasa's
SQL tracker store); this table only says which conversations are waiting and when to try next.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BACKOFF_SECONDS = (60, 120, 300, 600, 900)


@dataclass(frozen=True)
class Waiting:
    key: str
    sender_id: str
    attempts: int


class FilingSpool:
    """A small SQLite table: one row per conversation waiting to file."""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS waiting (key TEXT PRIMARY KEY, sender_id TEXT NOT NULL, "
                "attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at REAL NOT NULL, created_at REAL NOT NULL)"
            )

    @classmethod
    def from_env(cls) -> FilingSpool:
        return cls(Path(os.environ.get("ACTION_SPOOL_PATH") or ROOT / "var" / "filing_spool.sqlite3"))

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30)
        try:
            with db:
                yield db
        finally:
            db.close()

    def keep(self, key: str, sender_id: str, now: float | None = None) -> None:
        """Record a conversation whose order is waiting (again)."""
        now = time.time() if now is None else now
        with self._db() as db:
            db.execute(
                "INSERT INTO waiting (key, sender_id, next_attempt_at, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(key) DO NOTHING",
                (key, sender_id, now + BACKOFF_SECONDS[0], now),
            )

    def done(self, key: str) -> None:
        """The backend took the order (or refused it for good): stop retrying."""
        with self._db() as db:
            db.execute("DELETE FROM waiting WHERE key = ?", (key,))

    def due(self, now: float | None = None) -> list[Waiting]:
        now = time.time() if now is None else now
        with self._db() as db:
            rows = db.execute(
                "SELECT key, sender_id, attempts FROM waiting WHERE next_attempt_at <= ? ORDER BY next_attempt_at",
                (now,),
            ).fetchall()
        return [Waiting(*row) for row in rows]

    def postpone(self, key: str, now: float | None = None) -> None:
        """One more attempt made; the next one waits longer (up to 15 minutes)."""
        now = time.time() if now is None else now
        with self._db() as db:
            row = db.execute("SELECT attempts FROM waiting WHERE key = ?", (key,)).fetchone()
            if row is None:
                return
            attempts = int(row[0]) + 1
            delay = BACKOFF_SECONDS[min(attempts, len(BACKOFF_SECONDS) - 1)]
            db.execute(
                "UPDATE waiting SET attempts = ?, next_attempt_at = ? WHERE key = ?", (attempts, now + delay, key)
            )
