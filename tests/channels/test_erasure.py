"""A resident's conversation is deleted from the tracker store, and only theirs (12.1)."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.core.tracker_store import AwaitableTrackerStore, InMemoryTrackerStore, SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from channels.delivery import Outbox
from channels.erasure import StoreCannotErase, erase_conversation, prune_conversations
from tests.channels.conftest import Clock


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


async def test_pruning_deletes_only_what_is_older_than_the_retention_period(tmp_path: Path) -> None:
    store = AwaitableTrackerStore(SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "t.db")))
    old = DialogueStateTracker.from_events("oOLD", [UserUttered("三年前的话", timestamp=1_000.0)])
    new = DialogueStateTracker.from_events("oNEW", [UserUttered("昨天的话", timestamp=9_000.0)])
    await store.save(old)
    await store.save(new)
    assert prune_conversations(store, before=5_000.0) == 1
    assert not (await store.retrieve_full_tracker("oOLD") or old.init_copy()).events
    kept = await store.retrieve_full_tracker("oNEW")
    assert kept is not None and [e.text for e in kept.events if isinstance(e, UserUttered)] == ["昨天的话"]


def test_the_outbox_prunes_messages_windows_and_photos_by_age(outbox: Outbox, clock: Clock) -> None:
    outbox.inbound("oOLD")
    outbox.add("oOLD", "旧消息")
    outbox.keep_media("m-old", b"old", "image/png")
    outbox.answered("msg:oOLD:1", "oOLD")
    clock.now += 10_000
    outbox.inbound("oNEW")
    outbox.add("oNEW", "新消息")
    outbox.answered("msg:oNEW:1", "oNEW")
    assert outbox.prune(before=clock.now - 1) == {"messages": 1, "photos": 1}
    assert outbox.list(openid="oOLD") == [] and outbox.window("oOLD") is None and outbox.media("m-old") is None
    assert outbox.was_answered("oOLD", "msg:oOLD:1") is None
    assert len(outbox.list(openid="oNEW")) == 1 and outbox.was_answered("oNEW", "msg:oNEW:1") == "reply"
