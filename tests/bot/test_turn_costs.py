"""The two costs of a turn taken away in the Rasa server (bot/turn_costs.py) change nothing of what
Rasa does: the action server's answers are checked against the same schema with Rasa's own error, and
events are found by the same names."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.shared.core import events
from rasa.shared.utils.common import all_subclasses

from bot import turn_costs

GOOD = {"events": [{"event": "slot", "name": "address", "value": "海滨花园3号楼"}], "responses": [{"text": "好的"}]}
BAD = [
    {"events": "not a list"},
    {"events": [{"name": "address"}]},  # an event without its kind
    {"responses": ["a bare string"]},
    [],
]


def rasa_verdict(answer: Any) -> str:
    try:
        RemoteAction("action_x", None)._validate_action_result(answer)
    except ValidationError as exc:
        return exc.message
    return "ok"


@pytest.fixture
def rasas_own(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Rasa's verdicts before the change, then the change made (and undone after the test)."""
    monkeypatch.setattr(RemoteAction, "_validate_action_result", RemoteAction._validate_action_result)
    monkeypatch.delattr(RemoteAction, "answers_validated_once", raising=False)
    verdicts = [rasa_verdict(answer) for answer in (GOOD, *BAD)]
    turn_costs.validate_answers_with_one_validator()
    return verdicts


def test_the_action_servers_answers_get_rasas_own_verdicts(rasas_own: list[str]) -> None:
    assert RemoteAction.answers_validated_once  # type: ignore[attr-defined]
    assert [rasa_verdict(answer) for answer in (GOOD, *BAD)] == rasas_own
    assert rasas_own[0] == "ok" and all("Failed to validate Action server response" in v for v in rasas_own[1:])


def test_every_event_is_found_by_its_name_as_rasa_finds_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(events.Event, "resolve_by_type", events.Event.resolve_by_type)
    monkeypatch.delattr(events.Event, "resolved_once", raising=False)
    names = {cls.type_name for cls in all_subclasses(events.Event)}
    before = {name: events.Event.resolve_by_type(name) for name in names}
    turn_costs.find_event_classes_by_name_once()
    assert {name: events.Event.resolve_by_type(name) for name in names} == before
    assert events.Event.resolve_by_type(names.pop()) is not None  # asked again: from what was found
    assert events.Event.resolve_by_type("topic") is None
    assert events.Event.resolve_by_type("no_such_event", default=events.UserUttered) is events.UserUttered
    with pytest.raises(ValueError, match="Unknown event name"):
        events.Event.resolve_by_type("no_such_event")
    assert events.Event.from_parameters({"event": "slot", "name": "a", "value": 1}) == events.SlotSet("a", 1)
