"""Which messages the actions may believe: what only the backend can say, and whose data it is.

Internal intents (the call-back survey, notices, the filing retry) reach the bot only through Rasa's
authenticated ``trigger_intent`` API, which marks the message ``is_external``. The WeChat channel never
lets a resident's text name an intent, and these checks hold even if another channel did.
"""

from __future__ import annotations

from rasa_sdk import Tracker

# Set by Rasa on the message of ``POST /conversations/{id}/trigger_intent`` (UserUttered.create_external).
IS_EXTERNAL = "is_external"


def triggered_by_backend(tracker: Tracker) -> bool:
    """True when the latest message came through Rasa's authenticated API, not from the resident."""
    metadata = tracker.latest_message.get("metadata") or {}
    return isinstance(metadata, dict) and metadata.get(IS_EXTERNAL) is True
