"""A resident's conversation erased from Rasa's tracker store (12.1), and old conversations pruned.

Rasa 3.6's HTTP API cannot delete a conversation: replacing its events (PUT .../tracker/events) only
appends to an SQL tracker store. The WeChat channel runs inside the Rasa server, so it deletes the
stored events itself, for the stores the product configures (SQL: SQLite or PostgreSQL; in memory for
development). Any other store is refused, and the backend says so, rather than reporting an erasure
that did not happen."""

from __future__ import annotations

from typing import Any

from rasa.core.tracker_store import InMemoryTrackerStore, SQLTrackerStore


class StoreCannotErase(RuntimeError):
    """The configured tracker store is not one this product erases from."""


def underlying(store: Any) -> Any:
    """The tracker store itself, out of Rasa's wrappers (awaitable, fail-safe)."""
    while hasattr(store, "_tracker_store"):
        store = store._tracker_store
    return store


def _supported(tracker_store: Any) -> SQLTrackerStore | InMemoryTrackerStore:
    store = underlying(tracker_store)
    if isinstance(store, (SQLTrackerStore, InMemoryTrackerStore)):
        return store
    raise StoreCannotErase(f"the {type(store).__name__} tracker store is not erased by this product")


def _delete(store: SQLTrackerStore, condition: Any) -> int:
    """Delete the stored events that meet ``condition``; how many."""
    with store.session_scope() as session:
        deleted = session.query(store.SQLEvent).filter(condition).delete()
        session.commit()
    return int(deleted)


def erase_conversation(tracker_store: Any, sender_id: str) -> int:
    """Delete every stored event of ``sender_id``'s conversation; the number of events deleted."""
    store = _supported(tracker_store)
    if isinstance(store, SQLTrackerStore):
        return _delete(store, store.SQLEvent.sender_id == sender_id)
    return int(store.store.pop(sender_id, None) is not None)


def prune_conversations(tracker_store: Any, before: float) -> int:
    """Delete every stored event older than ``before`` (a Unix time), of every conversation: the
    retention period of the operator file (12.1). Rasa reads a conversation from its latest session
    on, so a conversation still going on keeps what it needs. The in-memory store of development keeps
    nothing across restarts and is left as it is."""
    store = _supported(tracker_store)
    if isinstance(store, SQLTrackerStore):
        return _delete(store, store.SQLEvent.timestamp < before)
    return 0
