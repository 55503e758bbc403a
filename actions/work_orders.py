"""Actions that file work orders in the backend."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.backend import BackendClient, BackendRejected, BackendUnavailable
from bot.wording import duration_zh

log = logging.getLogger(__name__)

# Which order an intent files: (kind, category, urgent).
ORDER_BY_INTENT: dict[str, tuple[str, str, bool]] = {
    "complain_room_temperature": ("complaint", "room_temperature", False),
}


def idempotency_key(tracker: Tracker) -> str:
    """One key per conversation and user message, so a retried turn files no second order."""
    message_id = tracker.latest_message.get("message_id") or ""
    raw = f"{tracker.sender_id}\n{message_id}\n{tracker.latest_message.get('text', '')}"
    return "conv-" + hashlib.sha256(raw.encode("utf-8")).hexdigest()[:40]


class ActionFileWorkOrder(Action):
    """Files the resident's latest message as a work order and tells them its number."""

    def name(self) -> str:
        return "action_file_work_order"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        intent = (tracker.latest_message.get("intent") or {}).get("name", "")
        kind, category, urgent = ORDER_BY_INTENT.get(intent, ("consultation", "other", False))
        order = {
            "kind": kind,
            "category": category,
            "source": "wechat",
            "description": tracker.latest_message.get("text") or "",
            "resident_openid": tracker.sender_id,
            "urgent": urgent,
        }
        try:
            filed = await BackendClient.from_env().create_work_order(order, idempotency_key(tracker))
        except BackendUnavailable:
            log.exception("filing failed: backend unavailable")
            dispatcher.utter_message(response="utter_backend_unavailable")
            return []
        except BackendRejected:
            log.exception("filing refused by the backend")
            dispatcher.utter_message(response="utter_filing_refused")
            return []
        except Exception:
            # Rasa would swallow this and the resident would hear nothing: say it plainly.
            log.exception("filing failed unexpectedly")
            dispatcher.utter_message(response="utter_backend_unavailable")
            return []
        # 10.1.4: the backend sets the response window (30 minutes, 90 in the season's first 15 days).
        due = filed.response_due_at
        window = f"在{duration_zh(due - filed.accepted_at)}内" if due else "尽快"
        dispatcher.utter_message(response="utter_work_order_filed", number=filed.number, window=window)
        return []
