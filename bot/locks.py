"""Rasa's conversation locks in Redis, shared by several Rasa processes, that survive Redis going down.

Rasa handles one message of a conversation at a time: each message takes a ticket from the
conversation's lock and waits for its turn. Rasa's own ``RedisLockStore`` reads a lock, changes it and
writes it back in separate commands, so two processes taking tickets at the same moment can both get
the same number and answer a burst out of order; and with Redis down every message fails.
``SharedLockStore`` (named in ``deploy/endpoints.scaled.yml``) changes each lock in one optimistic
Redis transaction (WATCH/MULTI), and while Redis is unreachable keeps this process's conversations in
order in memory, saying so in the log, instead of refusing every resident.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import TypeVar

import redis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

log = logging.getLogger(__name__)

T = TypeVar("T")
# Seconds a lock command may wait for Redis before this process falls back to its own memory.
SOCKET_TIMEOUT_SECONDS = 1.0


class SharedLockStore(RedisLockStore):
    def __init__(self, endpoint_config: EndpointConfig) -> None:
        options = dict(endpoint_config.kwargs)
        options.setdefault("socket_timeout", SOCKET_TIMEOUT_SECONDS)
        super().__init__(host=endpoint_config.url or "localhost", **options)
        self.local = InMemoryLockStore()

    # one place for "Redis, else this process's memory" --------------------------------------------
    def _or_local(self, shared: Callable[[], T], local: Callable[[], T], what: str) -> T:
        try:
            return shared()
        except redis.RedisError as exc:
            log.warning("Redis unreachable (%s): conversation locks of this process only, in memory: %s", what, exc)
            return local()

    def _change(self, conversation_id: str, change: Callable[[TicketLock | None], tuple[T, TicketLock | None]]) -> T:
        """Apply ``change`` to the stored lock in one transaction; it returns (result, lock to save or None to
        delete). Retried when another process changed the lock in between."""
        key = self.key_prefix + conversation_id
        with self.red.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    raw = pipe.get(key)
                    lock = TicketLock.from_dict(json.loads(raw)) if raw else None
                    result, changed = change(lock)
                    pipe.multi()
                    if changed is None:
                        pipe.delete(key)
                    else:
                        pipe.set(key, changed.dumps())
                    pipe.execute()
                    return result
                except redis.WatchError:
                    continue

    # Rasa's lock store interface ----------------------------------------------------------------
    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def take(lock: TicketLock | None) -> tuple[int, TicketLock | None]:
            lock = lock or self.create_lock(conversation_id)
            return lock.issue_ticket(lock_lifetime), lock

        try:
            ticket: int = self._or_local(
                lambda: self._change(conversation_id, take),
                lambda: self.local.issue_ticket(conversation_id, lock_lifetime),
                "taking a ticket",
            )
            return ticket
        except LockError:
            raise
        except Exception as exc:  # as Rasa's own lock stores report it
            raise LockError(f"Error while acquiring lock. Error:\n{exc}") from exc

    def get_lock(self, conversation_id: str) -> TicketLock | None:
        return self._or_local(
            lambda: RedisLockStore.get_lock(self, conversation_id),
            lambda: self.local.get_lock(conversation_id),
            "reading a lock",
        )

    def update_lock(self, conversation_id: str) -> None:
        def expire(lock: TicketLock | None) -> tuple[None, TicketLock | None]:
            if lock is not None:
                lock.remove_expired_tickets()
            return None, lock

        self._or_local(
            lambda: self._change(conversation_id, expire),
            lambda: self.local.update_lock(conversation_id),
            "expiring tickets",
        )

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """The turn is over: its ticket goes, and the lock with it when nobody else waits."""

        def finish(lock: TicketLock | None) -> tuple[None, TicketLock | None]:
            if lock is None:
                return None, None
            lock.remove_ticket_for(ticket_number)
            return None, (lock if lock.is_someone_waiting() else None)

        self._or_local(
            lambda: self._change(conversation_id, finish),
            lambda: self.local.cleanup(conversation_id, ticket_number),
            "finishing a turn",
        )

    def is_someone_waiting(self, conversation_id: str) -> bool:
        lock = self.get_lock(conversation_id)
        return bool(lock and lock.is_someone_waiting())
