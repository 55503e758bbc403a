"""Something the backend asks the resident to confirm in WeChat, and the resident's answer: a paid repair's
quote (10.2.2, ``actions/quotes.py``), a room-temperature test's readings and result (10.3 第1条 a,
``actions/temperature_results.py``).

The backend triggers an ``EXTERNAL_…`` intent with the order and the composed text. The bot shows it with
"1" and "2" as buttons and remembers which order it showed in the subject's slot, set only by the asking
action, which believes only the backend. The message right after is the answer, read from its words first
(``Subject.words``: "同意" reads like a satisfaction rating), then from a plain yes or no intent. The order
id never comes from what the resident types, and the backend still records the answer only for the order's
own resident.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.backend import BackendClient, BackendError
from actions.tracker import entity
from actions.trust import handover, repeated_handover, triggered_by_backend

log = logging.getLogger(__name__)

# What the classifier's intent says when the words alone do not ("/affirm" from the button, "嗯嗯").
INTENT_VERDICTS = {"affirm": True, "deny": False, "cancel": False}

Record = Callable[[BackendClient, dict[str, Any], Tracker], Awaitable[Any]]


@dataclass(frozen=True)
class Subject:
    """One kind of thing a resident confirms: its slot, its buttons, how its answer is read and recorded,
    and the responses (``domain.yml``) that say each outcome."""

    name: str
    slot: str
    buttons: tuple[str, str]  # the titles of "yes" and "no"
    words: Callable[[str], bool | None]
    confirm: Record
    decline: Record
    confirmed: str
    declined: str
    ask_again: str
    not_recorded: str


def shown(tracker: Tracker, subject: Subject) -> dict[str, Any] | None:
    """The order the bot showed last for ``subject``, as the bot itself recorded it."""
    value = tracker.get_slot(subject.slot)
    return value if isinstance(value, dict) and isinstance(value.get("id"), int) else None


def ask(dispatcher: CollectingDispatcher, tracker: Tracker, subject: Subject) -> list[EventType]:
    """Show what the backend sent, with "yes" and "no" as numbered options, and remember its order."""
    order_id, message = entity(tracker, "order_id"), entity(tracker, "message")
    if not triggered_by_backend(tracker) or order_id is None or not message:
        log.warning("a %s was shown without the backend (conversation %s); ignored", subject.name, tracker.sender_id)
        dispatcher.utter_message(response="utter_default")
        return [SlotSet(subject.slot, None)]
    if repeated_handover(tracker):
        log.info("%s of order %s was shown already (conversation %s)", subject.name, order_id, tracker.sender_id)
        return []
    yes, no = subject.buttons
    dispatcher.utter_message(
        text=str(message),
        buttons=[{"title": yes, "payload": "/affirm"}, {"title": no, "payload": "/deny"}],
        handover=handover(tracker),
    )
    return [SlotSet(subject.slot, {"id": int(order_id), "number": str(entity(tracker, "order_number") or "")})]


def verdict(tracker: Tracker, subject: Subject) -> bool | None:
    """The resident's answer: their words first, then the intent of a plain yes or no; None when neither
    says."""
    text = tracker.latest_message.get("text") or ""
    said = subject.words(text) if not text.startswith("/") else None
    if said is not None:
        return said
    return INTENT_VERDICTS.get((tracker.latest_message.get("intent") or {}).get("name", ""))


async def record(
    dispatcher: CollectingDispatcher, tracker: Tracker, subject: Subject, confirmed: bool
) -> list[EventType]:
    """The answer, recorded by the backend, then said back. Without anything shown there is nothing to
    answer; a backend that fails is said plainly, and the question stays shown so the resident can answer
    again."""
    order = shown(tracker, subject)
    if order is None:
        dispatcher.utter_message(response="utter_default")
        return []
    try:
        await (subject.confirm if confirmed else subject.decline)(BackendClient.from_env(), order, tracker)
    except BackendError:
        log.warning("the answer to the %s of %s was not recorded", subject.name, order["number"], exc_info=True)
        dispatcher.utter_message(response=subject.not_recorded)
        return []
    dispatcher.utter_message(response=subject.confirmed if confirmed else subject.declined, number=order["number"])
    return [SlotSet(subject.slot, None)]


async def answer(dispatcher: CollectingDispatcher, tracker: Tracker, subject: Subject) -> list[EventType]:
    """The message right after the question is its answer, whatever the NLU made of it: confirmed,
    declined, or, when it says neither, the two options once more."""
    order = shown(tracker, subject)
    if order is None:  # answered already ("好的" after the confirmation): nothing is pending
        dispatcher.utter_message(response="utter_anything_else")
        return []
    said = verdict(tracker, subject)
    if said is None:
        dispatcher.utter_message(response=subject.ask_again, number=order["number"])
        return []
    return await record(dispatcher, tracker, subject, said)
