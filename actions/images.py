"""A photo the resident sends goes onto their open work order, or is acknowledged."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backend import BackendClient, BackendError
from heating_standard.lifecycle import OPEN_STATES

log = logging.getLogger(__name__)

# Orders a photo can still help with: not finished, cancelled or returned.


class ActionAttachImage(Action):
    def name(self) -> str:
        return "action_attach_image"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        url = next(tracker.get_latest_entity_values("pic_url"), None)
        media_id = next(tracker.get_latest_entity_values("media_id"), None)
        if not url:
            dispatcher.utter_message(response="utter_image_received")
            return []
        client = BackendClient.from_env()
        try:
            orders: list[dict[str, Any]] = await client.work_orders(
                resident_openid=tracker.sender_id, status=sorted(s.value for s in OPEN_STATES), limit=1
            )
            if not orders:
                dispatcher.utter_message(response="utter_image_received")
                return []
            await client.attach(int(orders[0]["id"]), tracker.sender_id, str(url), str(media_id) if media_id else None)
        except BackendError:
            log.warning("could not attach a photo for %s", tracker.sender_id, exc_info=True)
            dispatcher.utter_message(response="utter_image_not_attached")
            return []
        dispatcher.utter_message(response="utter_image_attached", number=orders[0]["number"])
        return []
