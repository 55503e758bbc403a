"""The call-back survey the backend asks for (10.1.6): process and result satisfaction (14.4.4, 14.4.5)."""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backend import BackendClient, BackendError
from actions.quotes import ActionAnswerQuote, shown_quote
from actions.temperature_results import ActionAnswerTemperature, shown_result
from actions.tracker import entity
from actions.trust import triggered_by_backend

log = logging.getLogger(__name__)

# A rating is thanked for only when a call-back survey was asked within this many seconds (10.1.6): the
# resident may add a word after answering it. Otherwise nothing asked for a rating, and "感谢您的评价！"
# would thank for one never requested ("同意" to a quote reads like a rating).
SURVEY_RECENT_SECONDS = 24 * 3600

NEGATIVE = ("不满意", "不太满意", "没解决", "未解决", "不行", "差", "不好", "一般", "不")
POSITIVE = ("满意", "好", "解决了", "可以", "还行", "不错", "是", "对", "行", "五星", "满分", "嗯")


# A rating in stars, as residents give it in other apps: "⭐⭐⭐⭐⭐", "五星", "给4颗星", "两颗星".
_FILLED_STAR = re.compile(r"[⭐🌟★]")
_ONLY_STARS = re.compile(r"[⭐🌟★☆\s!！~～]+")
_STARS_IN_WORDS = re.compile(r"([1-5一二两三四五])\s*颗?星")
_NUMERALS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}


def stars(text: str) -> int | None:
    """How many stars the answer gives (the filled ones, 1–5), or None when it gives none."""
    filled = len(_FILLED_STAR.findall(text))
    if filled and _ONLY_STARS.fullmatch(text):
        return min(filled, 5)
    if match := _STARS_IN_WORDS.search(text):
        digit = match.group(1)
        return int(digit) if digit.isdigit() else _NUMERALS[digit]
    return None


def satisfaction(text: str) -> bool | None:
    """满意 -> True, 不满意 -> False; four or five stars are satisfied, one or two are not; None when the
    answer says neither (three stars alone included)."""
    given = stars(text)
    if given is not None and given != 3:
        return given >= 4
    if any(word in text for word in NEGATIVE[:-1]):
        return False
    if any(word in text for word in POSITIVE):
        return True
    if text.strip().startswith(NEGATIVE[-1]):
        return False
    return None


# The survey form's answers. They are cleared once recorded, so the next survey starts empty: Rasa's form
# reads every slot set since the resident's last message as a candidate answer when it opens, so clearing
# them as a survey starts would hand the validator two empty "answers" and the resident two
# "请回复“满意”或“不满意”。" before the first question.
ANSWERS = ("process_satisfied", "result_satisfied")


class ActionStartSurvey(Action):
    """Remembers which order the survey is about; the survey form asks the two questions."""

    def name(self) -> str:
        return "action_start_survey"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if not triggered_by_backend(tracker):
            # Only the backend starts a survey; a resident cannot name the order it is about.
            log.warning("a survey was started without the backend (conversation %s); ignored", tracker.sender_id)
            dispatcher.utter_message(response="utter_default")
            return [SlotSet("survey_order_id", None), ActiveLoop(None), FollowupAction("action_listen")]
        # Answers left over from a survey that was never finished are cleared; the validator takes
        # these empty values for what they are (no answer) and says nothing.
        leftover = [SlotSet(slot, None) for slot in ANSWERS if tracker.get_slot(slot) is not None]
        return [
            SlotSet("survey_order_number", entity(tracker, "order_number")),
            SlotSet("survey_order_id", entity(tracker, "order_id")),
            *leftover,
        ]


class ValidateSurveyForm(FormValidationAction):
    def name(self) -> str:
        return "validate_survey_form"

    def _answer(self, slot: str, value: Any, dispatcher: CollectingDispatcher) -> dict[str, Any]:
        if value is None:
            # Not an answer: an empty slot that Rasa's form passes on as a candidate when the survey opens.
            return {slot: None}
        verdict = value if isinstance(value, bool) else satisfaction(str(value))
        if verdict is None:
            dispatcher.utter_message(response="utter_invalid_satisfaction")
        return {slot: verdict}

    def validate_process_satisfied(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._answer("process_satisfied", value, dispatcher)

    def validate_result_satisfied(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._answer("result_satisfied", value, dispatcher)


class ActionRecordSurvey(Action):
    """Records the answers on the order as a WeChat call-back."""

    def name(self) -> str:
        return "action_record_survey"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        order_id = tracker.get_slot("survey_order_id")
        process, result = tracker.get_slot("process_satisfied"), tracker.get_slot("result_satisfied")
        done: list[EventType] = [
            ActiveLoop(None),
            SlotSet("survey_order_id", None),
            *(SlotSet(slot, None) for slot in ANSWERS),  # the next survey starts empty
        ]
        if order_id is None or not isinstance(process, bool) or not isinstance(result, bool):
            return done
        try:
            await BackendClient.from_env().record_callback(int(order_id), tracker.sender_id, process, result)
        except BackendError:
            log.exception("call-back answers for order %s not recorded", order_id)
            dispatcher.utter_message(response="utter_survey_thanks_not_kept")
            return done
        dispatcher.utter_message(response="utter_survey_thanks")
        return done


def survey_asked_recently(tracker: Tracker, now: float | None = None) -> bool:
    """Whether the survey form was opened in this conversation within SURVEY_RECENT_SECONDS: only the
    backend opens it (action_start_survey refuses anything else)."""
    now = time.time() if now is None else now
    return any(
        event.get("event") == "active_loop"
        and event.get("name") == "survey_form"
        and now - float(event.get("timestamp") or 0) <= SURVEY_RECENT_SECONDS
        for event in tracker.events
    )


class ActionNoteRating(Action):
    """A rating ("满意", "五星", also "同意") that no survey question is waiting for.

    A quote or a test result still waiting for its answer takes it as that answer (10.2.2, 10.3 第1条 a);
    after a recent call-back survey
    it is thanked for; otherwise the bot thanks for nothing and asks what the resident needs."""

    def name(self) -> str:
        return "action_note_rating"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if shown_quote(tracker) is not None:
            return await ActionAnswerQuote().run(dispatcher, tracker, domain)
        if shown_result(tracker) is not None:  # "同意" to a test result (10.3 第1条 a)
            return await ActionAnswerTemperature().run(dispatcher, tracker, domain)
        if survey_asked_recently(tracker):
            dispatcher.utter_message(response="utter_rating_noted")
        else:
            dispatcher.utter_message(response="utter_rating_without_survey")
        return []
