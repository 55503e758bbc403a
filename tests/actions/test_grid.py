"""A grid worker binds their WeChat with the one-time code from the console (11.4)."""

from __future__ import annotations

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.grid import REFUSALS, ActionBindGridWorker
from tests.actions.conftest import make_tracker
from tests.actions.fake_backend import FakeBackend


def bind_tracker(code: str, sender: str = "oGRIDNEW") -> object:
    return make_tracker(
        f'/bind_grid_worker{{"bind_code": "{code}"}}',
        "bind_grid_worker",
        sender_id=sender,
        entities=[{"entity": "bind_code", "value": code}],
    )


async def test_the_right_code_binds_the_sender(backend: FakeBackend) -> None:
    backend.bind_codes["K7MXQ4PA"] = {"id": 3, "name": "刘网格", "communities": ["阳光小区", "和平小区"]}
    dispatcher = CollectingDispatcher()
    events = await ActionBindGridWorker().run(dispatcher, bind_tracker("K7MXQ4PA"), {})  # type: ignore[arg-type]
    assert events == [SlotSet("is_grid_worker", True)]
    assert (
        "刘网格，绑定成功" in dispatcher.messages[0]["text"] and "阳光小区、和平小区" in dispatcher.messages[0]["text"]
    )
    assert backend.requests[-1]["body"] == {"openid": "oGRIDNEW", "code": "K7MXQ4PA"}


@pytest.mark.parametrize("status", [404, 409, 429])
async def test_a_refused_code_says_why_and_binds_nothing(backend: FakeBackend, status: int) -> None:
    backend.bind_status = status
    dispatcher = CollectingDispatcher()
    events = await ActionBindGridWorker().run(dispatcher, bind_tracker("WRONGCOD"), {})  # type: ignore[arg-type]
    assert events == [] and dispatcher.messages[0]["response"] == REFUSALS[status]
    # a 429 is final: asking again at once would be refused again
    assert len([r for r in backend.requests if r["path"].endswith("/bind")]) == 1


async def test_the_backend_down_is_said_plainly(unreachable_backend: None) -> None:
    dispatcher = CollectingDispatcher()
    await ActionBindGridWorker().run(dispatcher, bind_tracker("K7MXQ4PA"), {})  # type: ignore[arg-type]
    assert dispatcher.messages[0]["response"] == "utter_backend_unavailable"
