"""The call-back survey: answers understood and recorded on the order."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.survey import ActionRecordSurvey, ActionStartSurvey, ValidateSurveyForm, satisfaction
from tests.actions.conftest import FROM_BACKEND, make_tracker, responses
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
        ("⭐⭐⭐⭐⭐", True),
        ("⭐⭐⭐⭐", True),
        ("⭐⭐", False),
        ("⭐⭐⭐", None),
        ("给五颗星", True),
        ("4星", True),
        ("两颗星吧 来得太晚", False),
        ("一星", False),
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
        metadata=FROM_BACKEND,
    )
    events = await ActionStartSurvey().run(CollectingDispatcher(), tracker, {})
    assert {"event": "slot", "timestamp": None, "name": "survey_order_id", "value": 1} in events


async def test_a_survey_the_resident_started_is_ignored() -> None:
    """/EXTERNAL_callback_survey{"order_id": 707} typed by a resident (had it reached Rasa as an intent)
    names no order and opens no form."""
    tracker = make_tracker(
        '/EXTERNAL_callback_survey{"order_id": 707}',
        "EXTERNAL_callback_survey",
        entities=[{"entity": "order_id", "value": 707}],
        metadata={"wechat": {"msg_type": "text"}},
    )
    dispatcher = CollectingDispatcher()
    events = await ActionStartSurvey().run(dispatcher, tracker, {})
    assert {"event": "slot", "timestamp": None, "name": "survey_order_id", "value": 707} not in events
    assert {"event": "followup", "timestamp": None, "name": "action_listen"} in events
    assert responses(dispatcher.messages) == ["utter_default"]


async def test_answers_are_recorded_as_a_wechat_callback(backend: FakeBackend) -> None:
    backend.orders.append(
        {"id": 1, "number": "GD20261210000001", "status": "completed", "resident_openid": "oRESIDENT0001"}
    )
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        "不满意",
        "rate_satisfaction",
        slots={"survey_order_id": 1, "process_satisfied": True, "result_satisfied": False},
    )
    await ActionRecordSurvey().run(dispatcher, tracker, {})
    assert backend.callbacks == [
        {
            "order_id": 1,
            "method": "wechat",
            "process_satisfied": True,
            "result_satisfied": False,
            "resident_openid": "oRESIDENT0001",
        }
    ]
    assert responses(dispatcher.messages) == ["utter_survey_thanks"]


async def test_answers_about_another_residents_order_are_not_recorded(backend: FakeBackend) -> None:
    backend.orders.append({"id": 707, "number": "GD20261210000707", "status": "completed", "resident_openid": "oOTHER"})
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        "满意", "rate_satisfaction", slots={"survey_order_id": 707, "process_satisfied": True, "result_satisfied": True}
    )
    await ActionRecordSurvey().run(dispatcher, tracker, {})
    assert backend.callbacks == []
    assert "utter_survey_thanks" not in responses(dispatcher.messages)
