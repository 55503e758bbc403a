"""A call-back (10.1.8) or the yearly survey (14.3.2 e) in WeChat: the question with three options, and the
answer read from its words and recorded for the contact the bot was told of."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.campaigns import ActionAnswerCampaign, ActionAskCampaignQuestion
from bot.parsing import campaign_rating
from tests.actions.conftest import FROM_BACKEND, make_tracker, responses
from tests.actions.fake_backend import FakeBackend

QUESTION = "【供暖服务质量调查】请您对本公司的供暖服务评价：回复“1”满意，“2”基本满意，“3”不满意。"
SHOWN = {"campaign_contact": {"id": 5}}


async def test_the_question_is_shown_with_three_options_and_its_contact_remembered() -> None:
    dispatcher = CollectingDispatcher()
    asked = [{"entity": "contact_id", "value": 5}, {"entity": "message", "value": QUESTION}]
    events = await ActionAskCampaignQuestion().run(
        dispatcher, make_tracker("", "EXTERNAL_campaign_question", entities=asked, metadata=FROM_BACKEND), {}
    )
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == ["满意", "基本满意", "不满意"]
    assert {e["name"]: e["value"] for e in events if e.get("event") == "slot"} == SHOWN
    forged = CollectingDispatcher()
    await ActionAskCampaignQuestion().run(forged, make_tracker("", "EXTERNAL_campaign_question", entities=asked), {})
    assert responses(forged.messages) == ["utter_default"]  # not from the backend: not shown


@pytest.mark.parametrize(
    ("text", "intent", "rating"),
    [
        ("满意", "rate_satisfaction", "satisfied"),
        ("还行吧", "nlu_fallback", "basically_satisfied"),
        ("3", "inform", "unsatisfied"),
    ],
)
async def test_the_answer_is_recorded_for_the_contact_shown(
    backend: FakeBackend, text: str, intent: str, rating: str
) -> None:
    dispatcher = CollectingDispatcher()
    # a contact id in the message is not believed: only the one the bot was told of counts
    tracker = make_tracker(text, intent, slots=SHOWN, entities=[{"entity": "contact_id", "value": 99}])
    await ActionAnswerCampaign().run(dispatcher, tracker, {})
    assert backend.campaign_answers == [{"contact_id": 5, "resident_openid": "oRESIDENT0001", "rating": rating}]
    assert responses(dispatcher.messages) == ["utter_campaign_thanks"]


async def test_an_answer_that_says_none_gets_the_options_again(backend: FakeBackend) -> None:
    dispatcher = CollectingDispatcher()
    await ActionAnswerCampaign().run(dispatcher, make_tracker("什么时候供暖", "ask_heating_period", slots=SHOWN), {})
    assert backend.campaign_answers == [] and responses(dispatcher.messages) == ["utter_ask_campaign_answer"]


@pytest.mark.parametrize(
    ("text", "rating"),
    [
        ("满意", "satisfied"),
        ("非常好", "satisfied"),
        ("⭐⭐⭐⭐⭐", None),  # stars alone are the survey form's; here the words and numbers decide
        ("5颗星", "satisfied"),
        ("基本满意", "basically_satisfied"),
        ("一般般", "basically_satisfied"),
        ("不满意", "unsatisfied"),
        ("不太满意，暖气不热", "unsatisfied"),
        ("1", "satisfied"),
        ("2", "basically_satisfied"),
        ("3", "unsatisfied"),
        ("什么时候来修", None),
    ],
)
def test_the_words_of_a_rating(text: str, rating: str | None) -> None:
    assert campaign_rating(text) == rating
