"""A room-temperature test's readings and result, confirmed (or disputed) by the resident in WeChat
(10.3 第1条 a: "入户测量数据和结果应经用户签字确认"; b: a dispute may go to a testing body both accept).

When the technician records a test with the resident's WeChat confirmation as its signature, the backend asks
the bot to show the result (``EXTERNAL_temperature_confirmation``); ``actions/confirmations.py`` shows it with
"确认" and "有异议", remembers the order and reads the answer. Both are recorded by the backend for the order's
own resident; a dispute also hands the chat to a person.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import confirmations
from actions.backend import BackendClient
from bot.parsing import result_answer


async def _confirm(client: BackendClient, order: dict[str, Any], tracker: Tracker) -> Any:
    return await client.answer_temperature_test(order["id"], tracker.sender_id, confirmed=True)


async def _dispute(client: BackendClient, order: dict[str, Any], tracker: Tracker) -> Any:
    await client.answer_temperature_test(order["id"], tracker.sender_id, confirmed=False)
    summary = f"住户对工单 {order['number']} 的入户测温结果有异议（10.3 第1条 b），请联系说明。"
    return await client.open_handoff(tracker.sender_id, "other", summary)


TEMPERATURE = confirmations.Subject(
    name="temperature result",
    slot="temperature_order",
    buttons=("确认测温结果", "有异议"),
    words=result_answer,
    confirm=_confirm,
    decline=_dispute,
    confirmed="utter_temperature_confirmed",
    declined="utter_temperature_disputed",
    ask_again="utter_ask_temperature_answer",
    not_recorded="utter_temperature_not_recorded",
)


def shown_result(tracker: Tracker) -> dict[str, Any] | None:
    """The order whose test result the bot showed last, as the bot itself recorded it."""
    return confirmations.shown(tracker, TEMPERATURE)


class ActionAskTemperatureConfirmation(Action):
    """Shows the test result the backend sent, with "confirm" and "dispute" as numbered options."""

    def name(self) -> str:
        return "action_ask_temperature_confirmation"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        return confirmations.ask(dispatcher, tracker, TEMPERATURE)


class ActionAnswerTemperature(Action):
    """The message right after a test result is its answer: confirmed, disputed, or the options again."""

    def name(self) -> str:
        return "action_answer_temperature"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        return await confirmations.answer(dispatcher, tracker, TEMPERATURE)
