"""Which messages the actions may believe: what only the backend can say, and whose data it is.

Internal intents (the call-back survey, notices, the filing retry) reach the bot only through Rasa's
authenticated ``trigger_intent`` API, which marks the message ``is_external``. The WeChat channel never
lets a resident's text name an intent, and these checks hold even if another channel did.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker

# Set by Rasa on the message of ``POST /conversations/{id}/trigger_intent`` (UserUttered.create_external).
IS_EXTERNAL = "is_external"


def triggered_by_backend(tracker: Tracker) -> bool:
    """True when the latest message came through Rasa's authenticated API, not from the resident."""
    metadata = tracker.latest_message.get("metadata") or {}
    return isinstance(metadata, dict) and metadata.get(IS_EXTERNAL) is True


# The entity the backend names a notification with (api/services/scheduler.py, handover_key).
HANDOVER = "handover"


def _key(entities: Any) -> str | None:
    for found in entities or []:
        if isinstance(found, dict) and found.get("entity") == HANDOVER and found.get("value"):
            return str(found["value"])
    return None


def handover(tracker: Tracker) -> str | None:
    """The key of the backend's notification the latest message delivers, if it carries one."""
    return _key(tracker.latest_message.get("entities"))


def repeated_handover(tracker: Tracker) -> bool:
    """True when the backend's notification in the latest message was handed over before.

    The backend hands a notification over again when it did not hear the first hand-over's answer (a
    restart in between): delivery from the backend to the bot is at least once, and this makes the
    bot say it once. The earlier hand-over is in the conversation unless the bot stopped before keeping
    it; the WeChat channel's outbox keeps the key too and sends a keyed message once (channels/delivery.py).
    Only messages from the backend's authenticated API count.
    """
    key = handover(tracker)
    if key is None or not triggered_by_backend(tracker):
        return False
    users = [e for e in tracker.events if isinstance(e, dict) and e.get("event") == "user"]
    return any(
        isinstance(e.get("metadata"), dict)
        and e["metadata"].get(IS_EXTERNAL) is True
        and _key((e.get("parse_data") or {}).get("entities")) == key
        for e in users[:-1]  # the last is the message being answered
    )
