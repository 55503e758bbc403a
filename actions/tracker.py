"""What the actions read of a conversation's tracker beyond its slots: the latest message's entities, what a
slot held before this turn, when the form now ending was opened."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker

from bot import knowledge


def form_opened_at(tracker: Tracker) -> Any:
    """When the filing form now ending was opened (its ActiveLoop event's time), or None."""
    for event in reversed(tracker.events):
        if event.get("event") == "active_loop" and event.get("name"):
            return event.get("timestamp")
    return None


def entity(tracker: Tracker, name: str) -> Any:
    """The first value of entity ``name`` in the latest message, or None."""
    return next(tracker.get_latest_entity_values(name), None)


def business_type_of(tracker: Tracker) -> str | None:
    """The business the latest message is about: the kind it names, else the one its words point to, else
    the one asked about before (bot.knowledge.business_type_for); None when none is known."""
    text = tracker.latest_message.get("text") or ""
    return knowledge.business_type_for(text, entity(tracker, "business_type"), tracker.get_slot("business_type"))


def value_before_turn(tracker: Tracker, slot: str) -> Any:
    """What ``slot`` held before the latest message, whatever this turn set it to."""
    events = list(tracker.events)
    last_user = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=len(events))
    for event in reversed(events[:last_user]):
        if event.get("event") == "slot" and event.get("name") == slot:
            return event.get("value")
    return None
