"""The call-back survey: answers understood and recorded on the order."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.survey import ActionRecordSurvey, ActionStartSurvey, ValidateSurveyForm, satisfaction
from tests.actions.conftest import make_tracker, responses
from tests.actions.fake_backend import FakeBackend


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        ("满意", True),
        ("非常满意", True),
        ("挺好的", True),
        ("是", True),
        ("解决了", True),
        ("不满意", False),
        ("很不满意", False),
        ("问题没解决", False),
        ("一般", False),
        ("不", False),
        ("啥", None),
    ],
)
def test_satisfaction_words(text: str, verdict: bool | None) -> None:
    assert satisfaction(text) is verdict


def test_unclear_answer_is_asked_again() -> None:
    dispatcher = CollectingDispatcher()
    result = ValidateSurveyForm().validate_process_satisfied("啥", dispatcher, make_tracker("啥", "inform"), {})
    assert result == {"process_satisfied": None}
    assert responses(dispatcher.messages) == ["utter_invalid_satisfaction"]


async def test_survey_remembers_its_order() -> None:
    tracker = make_tracker(
        "",
        "EXTERNAL_callback_survey",
        entities=[{"entity": "order_number", "value": "GD20261210000001"}, {"entity": "order_id", "value": 1}],
    )
    events = await ActionStartSurvey().run(CollectingDispatcher(), tracker, {})
    assert {"event": "slot", "timestamp": None, "name": "survey_order_id", "value": 1} in events


async def test_answers_are_recorded_as_a_wechat_callback(backend: FakeBackend) -> None:
    backend.orders.append({"id": 1, "number": "GD20261210000001", "status": "completed"})
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        "不满意",
        "rate_satisfaction",
        slots={"survey_order_id": 1, "process_satisfied": True, "result_satisfied": False},
    )
    await ActionRecordSurvey().run(dispatcher, tracker, {})
    assert backend.callbacks == [
        {"order_id": 1, "method": "wechat", "process_satisfied": True, "result_satisfied": False}
    ]
    assert responses(dispatcher.messages) == ["utter_survey_thanks"]
