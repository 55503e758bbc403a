"""Residents' messages kept while their turn could not run, to be run again later, exactly once.

When the action server stays unreachable through a turn (``channels/action_calls.py``), Rasa saves
nothing of that turn. The channel keeps the message here (in the channel's store: the outbox's
database, so a restart of the Rasa server loses nothing), tells the resident it is kept, and runs the
same turn again, under the same message id, when the resident next writes or when the channel's
retry loop finds it due. The message id makes it exactly once: a turn that did run (the process
stopped before the row was removed) is found in the conversation and not run again; and a filing run
twice is one order anyway (its idempotency key is the filing's, ``actions/filing/payload.py``).

A resident's kept messages run before any newer message of theirs, in the platform's order.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from policies.backoff import stepped

# Seconds before the next try of a kept turn, by the number of tries made (then the last, repeated).
RETRY_DELAYS = (5.0, 10.0, 20.0, 40.0, 60.0, 120.0)
# A try that a process claimed and never finished (the process stopped) is free again after this.
CLAIM_SECONDS = 120.0

metadata = sa.MetaData()
held_table = sa.Table(
    "wechat_held_turns",
    metadata,
    sa.Column("key", sa.String(120), primary_key=True),  # the push's key: Rasa's message id
    sa.Column("openid", sa.String(64), nullable=False, index=True),
    sa.Column("place", sa.String(200), nullable=False),  # channels.ordering.place: the platform's order
    sa.Column("text", sa.Text, nullable=False),  # what goes to Rasa (a chosen option already read)
    sa.Column("metadata", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", sa.Float, nullable=False),
    sa.Column("claimed_until", sa.Float, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)


@dataclass(frozen=True)
class HeldTurn:
    key: str
    openid: str
    place: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)
    attempts: int = 0


def delay_after(tries: int) -> float:
    """Seconds to wait once ``tries`` tries were made (the first try comes 5 s after the turn was kept)."""
    return stepped(RETRY_DELAYS, tries)


class HeldTurns:
    """The kept turns, in SQLite by default or PostgreSQL (the channel's store, migration c003)."""

    def __init__(self, engine: sa.engine.Engine, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine  # the outbox's: one database, its schema checked there
        self.clock = clock

    def hold(self, turn: HeldTurn) -> None:
        """Keep a turn (a second call for the same message changes nothing)."""
        self._insert(turn, first_try_in=delay_after(0), claimed_for=0.0)

    def keep_running(self, turn: HeldTurn) -> None:
        """Keep a turn that is still running in this process (its push was answered "success" and its
        answer comes later): claimed by this process for ``CLAIM_SECONDS``, so that no one runs it while it
        runs, and another process's retry loop runs it if this process stops first. The turn's end removes
        it (``done``), or hands it back to the loop when it is kept after all (``release``). A message kept
        already is left as it is."""
        self._insert(turn, first_try_in=0.0, claimed_for=CLAIM_SECONDS)

    def _insert(self, turn: HeldTurn, first_try_in: float, claimed_for: float) -> None:
        now = self.clock()
        row = held_table.insert().values(
            key=turn.key,
            openid=turn.openid,
            place=turn.place,
            text=turn.text,
            metadata=json.dumps(turn.metadata, ensure_ascii=False),
            attempts=0,
            next_attempt_at=now + first_try_in,
            claimed_until=now + claimed_for if claimed_for else 0.0,
            created_at=now,
        )
        with self.engine.begin() as db:
            try:
                with db.begin_nested():
                    db.execute(row)
            except sa.exc.IntegrityError:  # kept already: the platform's retry of the same push
                pass

    def release(self, key: str) -> None:
        """A running turn kept by ``keep_running`` that could not run after all: the retry loop's, like any
        kept turn (its first try after ``delay_after(0)``). A kept turn already tried is left alone."""
        now = self.clock()
        with self.engine.begin() as db:
            db.execute(
                held_table.update()
                .where(held_table.c.key == key, held_table.c.attempts == 0, held_table.c.claimed_until > 0)
                .values(claimed_until=0.0, next_attempt_at=now + delay_after(0))
            )

    def of(self, openid: str) -> list[HeldTurn]:
        """The resident's kept turns, oldest first."""
        query = sa.select(held_table).where(held_table.c.openid == openid).order_by(held_table.c.place)
        with self.engine.connect() as db:
            return [self._turn(row) for row in db.execute(query)]

    def due(self, limit: int = 100) -> list[str]:
        """Residents with a kept turn due for another try, longest waiting first."""
        now = self.clock()
        first_due = sa.func.min(held_table.c.next_attempt_at)
        query = (
            sa.select(held_table.c.openid)
            .where(held_table.c.next_attempt_at <= now, held_table.c.claimed_until < now)
            .group_by(held_table.c.openid)
            .order_by(first_due)
            .limit(limit)
        )
        with self.engine.connect() as db:
            return [str(row.openid) for row in db.execute(query)]

    def claim(self, turn: HeldTurn) -> bool:
        """Take this try of the turn (one conditional UPDATE): False when another process has it."""
        now = self.clock()
        with self.engine.begin() as db:
            taken = db.execute(
                held_table.update()
                .where(
                    held_table.c.key == turn.key,
                    held_table.c.attempts == turn.attempts,
                    held_table.c.claimed_until < now,
                )
                .values(attempts=turn.attempts + 1, claimed_until=now + CLAIM_SECONDS)
            ).rowcount
        return bool(taken)

    def put_off(self, turn: HeldTurn) -> None:
        """The try failed (the action server is still away): the next one waits longer."""
        now = self.clock()
        with self.engine.begin() as db:
            db.execute(
                held_table.update()
                .where(held_table.c.key == turn.key)
                .values(claimed_until=0.0, next_attempt_at=now + delay_after(turn.attempts + 1))
            )

    def done(self, key: str) -> None:
        with self.engine.begin() as db:
            db.execute(held_table.delete().where(held_table.c.key == key))

    @staticmethod
    def _turn(row: Any) -> HeldTurn:
        return HeldTurn(
            key=row.key,
            openid=row.openid,
            place=row.place,
            text=row.text,
            metadata=json.loads(row.metadata),
            attempts=int(row.attempts),
        )
