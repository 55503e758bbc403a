"""A resident's conversation erased from Rasa's tracker store (12.1).

Rasa 3.6's HTTP API cannot delete a conversation: replacing its events (PUT .../tracker/events) only
appends to an SQL tracker store. The WeChat channel runs inside the Rasa server, so it deletes the
conversation's stored events itself, for the stores the product configures (SQL: SQLite or PostgreSQL;
in memory for development). Any other store is refused, and the backend says so, rather than reporting
an erasure that did not happen."""

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


def erase_conversation(tracker_store: Any, sender_id: str) -> int:
    """Delete every stored event of ``sender_id``'s conversation; the number of events deleted."""
    store = underlying(tracker_store)
    if isinstance(store, SQLTrackerStore):
        with store.session_scope() as session:
            deleted = session.query(store.SQLEvent).filter(store.SQLEvent.sender_id == sender_id).delete()
            session.commit()
        return int(deleted)
    if isinstance(store, InMemoryTrackerStore):
        return int(store.store.pop(sender_id, None) is not None)
    raise StoreCannotErase(f"the {type(store).__name__} tracker store is not erased by this product")


def prune_conversations(tracker_store: Any, before: float) -> int:
    """Delete every stored event older than ``before`` (a Unix time), of every conversation: the
    retention period of the operator file (12.1). Rasa reads a conversation from its latest session
    on, so a conversation still going on keeps what it needs. The in-memory store of development keeps
    nothing across restarts and is left as it is."""
    store = underlying(tracker_store)
    if isinstance(store, SQLTrackerStore):
        with store.session_scope() as session:
            deleted = session.query(store.SQLEvent).filter(store.SQLEvent.timestamp < before).delete()
            session.commit()
        return int(deleted)
    if isinstance(store, InMemoryTrackerStore):
        return 0
    raise StoreCannotErase(f"the {type(store).__name__} tracker store is not pruned by this product")
