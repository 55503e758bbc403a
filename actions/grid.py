"""A grid worker (网格员) binds their WeChat by sending the one-time code staff gave them (11.4)."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backend import BackendClient, BackendError, BackendRejected
from actions.tracker import entity

log = logging.getLogger(__name__)

# The backend's refusal of a code, by its status, as the response that explains it (domain.yml).
REFUSALS = {404: "utter_bind_code_wrong", 409: "utter_bind_code_taken", 429: "utter_bind_code_throttled"}


class ActionBindGridWorker(Action):
    """The channel turns "绑定 XXXX-XXXX" into bind_grid_worker{"bind_code": ...}; the backend checks it."""

    def name(self) -> str:
        return "action_bind_grid_worker"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        code = entity(tracker, "bind_code")
        if not code:
            dispatcher.utter_message(response=REFUSALS[404])
            return []
        try:
            worker: dict[str, Any] = await BackendClient.from_env().bind_grid_worker(tracker.sender_id, code)
        except BackendRejected as exc:
            dispatcher.utter_message(response=REFUSALS.get(exc.status, REFUSALS[404]))
            return []
        except BackendError:
            log.warning("grid-worker binding failed", exc_info=True)
            dispatcher.utter_message(response="utter_backend_unavailable")
            return []
        communities = "、".join(worker.get("communities") or [])
        dispatcher.utter_message(
            text=(
                f"{worker.get('name', '')}，绑定成功。您负责的社区：{communities}。\n"
                "发送“查询工单”可查看这些社区未办结的工单；转办居民的问题时直接描述问题和地址即可。"
            )
        )
        return [SlotSet("is_grid_worker", True)]
