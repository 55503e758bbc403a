"""A resident's conversation is deleted from the tracker store, and only theirs (12.1)."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.core.tracker_store import AwaitableTrackerStore, InMemoryTrackerStore, SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from channels.erasure import StoreCannotErase, erase_conversation


def conversation(sender: str) -> DialogueStateTracker:
    return DialogueStateTracker.from_events(
        sender, [ActionExecuted("action_listen"), UserUttered("我家暖气不热，电话13800138000")]
    )


@pytest.mark.parametrize("kind", ["sql", "memory"])
async def test_only_the_residents_conversation_is_deleted(kind: str, tmp_path: Path) -> None:
    domain = Domain.empty()
    if kind == "sql":
        store = SQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "trackers.db"))
    else:
        store = InMemoryTrackerStore(domain)
    wrapped = AwaitableTrackerStore(store)  # as the Rasa server holds it
    for sender in ("oGONE", "oSTAY"):
        await wrapped.save(conversation(sender))
    assert erase_conversation(wrapped, "oGONE") >= 1
    assert await wrapped.retrieve("oGONE") is None or not (await wrapped.retrieve("oGONE")).events
    kept = await wrapped.retrieve("oSTAY")
    assert kept is not None and any(isinstance(e, UserUttered) for e in kept.events)
    assert erase_conversation(wrapped, "oGONE") == 0  # nothing left


def test_a_store_this_product_does_not_erase_from_is_refused() -> None:
    class OtherStore:
        pass

    with pytest.raises(StoreCannotErase, match="OtherStore"):
        erase_conversation(OtherStore(), "oGONE")
