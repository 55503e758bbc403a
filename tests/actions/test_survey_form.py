"""The call-back survey as the resident receives it: Rasa's own form (rasa.core.actions.forms) runs the
survey form, and its calls to this action server are answered by the actions' code in the same process,
exactly as the action server would answer them (the same request and answer, without the HTTP).

The resident must receive the questions only (10.1.6): the review of 2026-12-06 saw two stray
"请回复“满意”或“不满意”。" before the first question.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rasa.core.actions import forms
from rasa.core.actions.action import ActionExtractSlots, RemoteAction
from rasa.core.channels import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    Event,
    SlotSet,
    UserUttered,
    deserialise_events,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa_sdk.executor import ActionExecutor

from tests.actions.fake_backend import FakeBackend

ROOT = Path(__file__).resolve().parents[2]
NUMBER = "GD20261210000001"


class InProcessAction(RemoteAction):
    """Rasa's call of a custom action, answered by this project's action code in the same process: the
    request Rasa would POST, the executor the action server runs, the answer Rasa would read."""

    executor: ActionExecutor | None = None

    async def run(self, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> list[Event]:  # type: ignore[override]
        if InProcessAction.executor is None:
            InProcessAction.executor = ActionExecutor()
            InProcessAction.executor.register_package("actions")
        answer = await InProcessAction.executor.run(self._action_call_format(tracker, domain))  # type: ignore[arg-type]
        assert answer is not None
        said = await self._utter_responses(answer.get("responses", []), output_channel, nlg, tracker)
        return [*said, *deserialise_events(answer.get("events", []))]


class Conversation:
    """One resident's conversation run turn by turn as Rasa's processor runs it."""

    def __init__(self, domain: Domain) -> None:
        self.domain = domain
        self.nlg = TemplatedNaturalLanguageGenerator(domain.responses)
        self.tracker = DialogueStateTracker.from_events("oRESIDENT0001", [], slots=domain.slots)

    async def _apply(self, name: str, events: list[Event]) -> list[str]:
        self.tracker.update(ActionExecuted(name))
        self.tracker.update_with_events(events, self.domain)
        return [e.text for e in events if isinstance(e, BotUttered) and e.text]

    async def hear(self, message: UserUttered) -> None:
        """A message arrives: Rasa runs action_extract_slots on it before predicting."""
        await self._apply("action_listen", [])
        self.tracker.update(message, self.domain)
        extract = ActionExtractSlots(None)
        self.tracker.update_with_events(
            await extract.run(CollectingOutputChannel(), self.nlg, self.tracker, self.domain), self.domain
        )

    async def run(self, name: str) -> list[str]:
        """Run one action (a custom one, or the form); the texts the resident receives."""
        if name == "survey_form":
            action: Any = forms.FormAction(name, None)
        else:
            action = InProcessAction(name, None)
        events = await action.run(CollectingOutputChannel(), self.nlg, self.tracker, self.domain)
        return await self._apply(name, events)


@pytest.fixture
def in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """The form's calls of validate_survey_form reach the actions' code in this process."""
    monkeypatch.setattr(forms, "RemoteAction", InProcessAction)


def triggered_survey() -> UserUttered:
    """The backend's POST /conversations/{id}/trigger_intent (api/services/callbacks.py send_survey)."""
    entities = [{"entity": "order_number", "value": NUMBER}, {"entity": "order_id", "value": 1}]
    return UserUttered.create_external("EXTERNAL_callback_survey", entities)


def said(text: str, intent: str) -> UserUttered:
    return UserUttered(text, intent={"name": intent, "confidence": 0.9}, parse_data={"entities": []})


async def test_the_resident_receives_only_the_survey_questions(in_process: None, backend: FakeBackend) -> None:
    backend.orders.append({"id": 1, "number": NUMBER, "status": "completed", "resident_openid": "oRESIDENT0001"})
    chat = Conversation(Domain.load(str(ROOT / "domain.yml")))
    await chat.hear(triggered_survey())
    assert await chat.run("action_start_survey") == []
    first = await chat.run("survey_form")
    assert first == [f"您好，关于工单 {NUMBER} 做个简短回访：您对这次的处理过程满意吗？（满意/不满意）"]

    await chat.hear(said("满意", "rate_satisfaction"))
    assert await chat.run("survey_form") == ["您对处理结果满意吗？（满意/不满意）"]
    await chat.hear(said("啥", "nlu_fallback"))  # an unclear answer is asked again, once
    assert await chat.run("survey_form") == ["请回复“满意”或“不满意”。", "您对处理结果满意吗？（满意/不满意）"]
    await chat.hear(said("不太满意", "rate_satisfaction"))
    assert await chat.run("survey_form") == []
    assert chat.tracker.active_loop_name is None
    assert await chat.run("action_record_survey") == ["感谢您的评价，我们会继续改进服务。"]
    recorded = [(c["order_id"], c["method"], c["process_satisfied"], c["result_satisfied"]) for c in backend.callbacks]
    assert recorded == [(1, "wechat", True, False)]


async def test_a_second_survey_starts_afresh_and_still_asks_only_its_questions(
    in_process: None, backend: FakeBackend
) -> None:
    """The answers of an earlier survey are cleared without the resident hearing about it."""
    backend.orders.append({"id": 1, "number": NUMBER, "status": "completed", "resident_openid": "oRESIDENT0001"})
    chat = Conversation(Domain.load(str(ROOT / "domain.yml")))
    for _ in range(2):
        await chat.hear(triggered_survey())
        await chat.run("action_start_survey")
        asked = await chat.run("survey_form")
        assert asked == [f"您好，关于工单 {NUMBER} 做个简短回访：您对这次的处理过程满意吗？（满意/不满意）"]
        await chat.hear(said("满意", "rate_satisfaction"))
        assert await chat.run("survey_form") == ["您对处理结果满意吗？（满意/不满意）"]
        await chat.hear(said("满意", "rate_satisfaction"))
        assert await chat.run("survey_form") == []
        await chat.run("action_record_survey")
    assert len(backend.callbacks) == 2


async def test_a_survey_after_one_left_unfinished_asks_only_its_own_questions(
    in_process: None, backend: FakeBackend
) -> None:
    """The first answer of a survey the resident left (the form was closed before the second question
    was answered) is cleared when the next survey starts, and that clearing is no answer to complain of."""
    chat = Conversation(Domain.load(str(ROOT / "domain.yml")))
    await chat.hear(triggered_survey())
    await chat.run("action_start_survey")
    await chat.run("survey_form")
    await chat.hear(said("满意", "rate_satisfaction"))
    await chat.run("survey_form")
    assert chat.tracker.get_slot("process_satisfied") is True
    chat.tracker.update_with_events([ActiveLoop(None), SlotSet("requested_slot", None)], chat.domain)  # left

    await chat.hear(triggered_survey())
    await chat.run("action_start_survey")
    assert chat.tracker.get_slot("process_satisfied") is None
    assert await chat.run("survey_form") == [
        f"您好，关于工单 {NUMBER} 做个简短回访：您对这次的处理过程满意吗？（满意/不满意）"
    ]
