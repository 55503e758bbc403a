"""The filing's actions: starting it from the intent, asking for the confirmation, filing the order (kept and
sent again while the backend is down), and cancelling it."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import clock
from actions.backend import BackendClient, BackendError, BackendRejected, BackendUnavailable, WorkOrder
from actions.filing.payload import household_payloads, idempotency_key, order_payload, summary
from actions.filing.slots import (
    ASAP,
    FILING_INTENTS,
    MAX_HOUSEHOLDS,
    STILL_DOWN_AFTER,
    choose_category,
    needs_appointment,
    needs_temperature,
    reset_filing,
)
from actions.spool import FilingSpool
from actions.tracker import entity
from bot import knowledge
from bot.households import split_households, with_community
from bot.operator import get_facts
from bot.parsing import (
    appointment_problem,
    appointment_start,
    asks_asap,
    parse_appointment,
    parse_phone,
    parse_resident_address,
    parse_temperature,
)
from bot.wording import duration_zh, local_text
from heating_standard.lifecycle import deadline_label

log = logging.getLogger(__name__)


class ActionStartFiling(Action):
    """Sets what is filed from the intent, says what applies (5.1, 10.2.3, 10.3), recalls the resident."""

    def name(self) -> str:
        return "action_start_filing"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name", "")
        if intent not in FILING_INTENTS:  # "yes" to an offer to file (e.g. after a business answer)
            intent = tracker.get_slot("offered_filing") or intent
        kind, category = FILING_INTENTS.get(intent, ("consultation", "other"))
        category = choose_category(category, entity(tracker, "category"))
        text = tracker.latest_message.get("text") or ""
        now = clock.now()
        introduction = self._introduction(kind, category)
        if introduction:
            dispatcher.utter_message(text=knowledge.answer(introduction, get_facts(), now.date()))
        events: list[EventType] = reset_filing() + [
            SlotSet("offered_filing", None),
            SlotSet("order_kind", kind),
            SlotSet("category", category),
            # a filing started from a menu button ("/request_repair") has no words yet: the form asks
            SlotSet("description", None if text.startswith("/") else text),
            SlotSet("failed_attempts", 0.0),
            *self._given(tracker, kind, category, text, now),
        ]
        given = {e["name"] for e in events if e.get("event") == "slot" and e.get("value") is not None}
        worker, recalled = await self._recall(tracker.sender_id, dispatcher)
        if {"address", "phone"} & given:
            # the message named its own details: use them, do not ask to confirm the remembered ones
            recalled = [e for e in recalled if e.get("name") not in ("address", "phone", "contact_known")]
        if worker is not None:
            recalled += self._for_grid_worker(worker, text, tracker, dispatcher, "address" in given)
        return events + recalled

    @staticmethod
    def _introduction(kind: str, category: str) -> str | None:
        """The knowledge topic said first: what to do about a leak (10.2.3), what a cold room's complaint
        and a temperature test involve (5.1, 10.3)."""
        if category == "leak":
            return "leak_safety"
        if needs_temperature(kind, category):
            return "temperature_complaint_intro"
        return "temperature_test_intro" if kind == "temperature_test" else None

    @staticmethod
    def _given(tracker: Tracker, kind: str, category: str, text: str, now: datetime) -> list[EventType]:
        """Details already in the first message (the NLU's entities), which are not asked for again."""
        events: list[EventType] = []
        temperature = parse_temperature(str(entity(tracker, "temperature") or text))
        if temperature is not None and needs_temperature(kind, category):
            events.append(SlotSet("measured_temperature", temperature))
        phone = parse_phone(str(entity(tracker, "phone") or text))
        if phone:
            events.append(SlotSet("phone", phone))
        address = parse_resident_address(str(entity(tracker, "address") or ""))
        if address.complete:
            events.append(SlotSet("address", address.canonical))
        time = entity(tracker, "time")
        window = parse_appointment(str(time), now) if time and needs_appointment(kind, category) else None
        if window is not None and appointment_problem(window, now) is None:
            events.append(SlotSet("appointment", appointment_start(window, now).isoformat()))
        elif window is None and needs_appointment(kind, category) and asks_asap(text):
            events.append(SlotSet("appointment", ASAP))  # "尽快来修" in the first message: 10.2.4's 30 minutes
        business_type = tracker.get_slot("business_type")
        if business_type in knowledge.BUSINESS_TYPES:
            events.append(SlotSet("business_type", business_type))
        return events

    async def _recall(
        self, openid: str, dispatcher: CollectingDispatcher
    ) -> tuple[dict[str, Any] | None, list[EventType]]:
        """Grid workers file for someone else; a known resident confirms instead of typing again."""
        client = BackendClient.from_env()
        try:
            worker = await client.grid_worker(openid)
            if worker:
                dispatcher.utter_message(response="utter_filing_for_resident")
                return worker, [SlotSet("is_grid_worker", True)]
            resident = await client.resident(openid)
        except BackendError:
            log.warning("resident lookup failed; asking for the details instead", exc_info=True)
            return None, [SlotSet("is_grid_worker", False)]
        events: list[EventType] = [SlotSet("is_grid_worker", False)]
        if resident and resident.get("addresses") and resident.get("phone"):
            address = resident["addresses"][0]["text"]
            events += [SlotSet("address", address), SlotSet("phone", resident["phone"]), SlotSet("contact_known", True)]
        return None, events

    def _for_grid_worker(
        self,
        worker: dict[str, Any],
        text: str,
        tracker: Tracker,
        dispatcher: CollectingDispatcher,
        address_given: bool,
    ) -> list[EventType]:
        """Several households in one message are listed for one confirmation; an address without its
        community ("6号楼1单元602") is completed with the grid worker's, when they look after just one."""
        communities = worker.get("communities") or []
        own = str(communities[0]) if len(communities) == 1 else None
        events: list[EventType] = [SlotSet("grid_community", own)]
        households = split_households(text, own)
        if len(households) > MAX_HOUSEHOLDS:
            # nothing is filed and no form asks: the grid worker sends the list again in parts
            dispatcher.utter_message(
                text=f"这条消息列了{len(households)}户，一次最多登记{MAX_HOUSEHOLDS}户。"
                f"这次没有登记，请分成几条发给我，每条{MAX_HOUSEHOLDS}户以内。"
            )
            return [*reset_filing(), FollowupAction("action_listen")]
        if len(households) >= 2:
            # a household that left no number is reached through the grid worker who forwarded it
            listed = [
                {
                    "address": h.address,
                    "phone": h.phone or worker.get("phone"),
                    "phone_of_worker": not h.phone and bool(worker.get("phone")),
                    "category": h.category,
                    "note": h.note if h.phone else f"{h.note}（住户未留电话，联系电话为转办网格员的）",
                }
                for h in households
            ]
            return events + [SlotSet("households", listed), SlotSet("address", None), SlotSet("phone", None)]
        address = with_community(parse_resident_address(str(entity(tracker, "address") or "")), own)
        if address.complete and not address_given:
            events.append(SlotSet("address", address.canonical))
        return events


class ActionAskFilingConfirmed(Action):
    """The summary the resident confirms before anything is filed."""

    def name(self) -> str:
        return "action_ask_filing_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(
            text=f"请确认：{summary(tracker)}\n确认提交吗？（回复“是”提交，“不是”修改，“取消”放弃）"
        )
        return []


def committed_window(order: WorkOrder) -> tuple[bool, str]:
    """Whether the order is a leak to be handled (10.2.3) rather than answered (10.1.4), and the window
    in plain words: "在1小时内", "在30分钟内", or "尽快" when the backend set no deadline."""
    if order.category == "leak" and order.handle_due_at:
        return True, f"在{duration_zh(order.handle_due_at - order.accepted_at)}内"
    due = order.response_due_at
    return False, f"在{duration_zh(due - order.accepted_at)}内" if due else "尽快"


def confirmation(dispatcher: CollectingDispatcher, order: WorkOrder) -> None:
    """The order number and the committed window, in plain words."""
    leak, window = committed_window(order)
    if leak:
        dispatcher.utter_message(response="utter_leak_order_filed", number=order.number, window=window)
        promised(dispatcher, order)
        return
    dispatcher.utter_message(response="utter_work_order_filed", number=order.number, window=window)
    arrival = unbooked_arrival(order)
    if arrival is not None:
        dispatcher.utter_message(response="utter_arrival_promised", window=arrival[0], due=arrival[1])
    promised(dispatcher, order)
    if needs_temperature(order.kind, order.category):  # a cold room, or none heated at all
        dispatcher.utter_message(response="utter_offer_temperature_test")


def unbooked_arrival(order: WorkOrder) -> tuple[str, str] | None:
    """For a visit filed without an appointment ("尽快"), the backend's arrival window and deadline in
    plain words ("30分钟内", "12月10日10:30", 10.2.4); else None."""
    if order.kind not in ("repair", "temperature_test") or order.category == "leak":
        return None
    if order.appointment_at is not None or order.arrival_due_at is None:
        return None
    return f"{duration_zh(order.arrival_due_at - order.accepted_at)}内", local_text(order.arrival_due_at)


def promised(dispatcher: CollectingDispatcher, order: WorkOrder) -> None:
    """When the order is to be finished, and by which clause: 10.1.4 (办结条) for the company's promise,
    9.1.4 for a new connection, 9.1.2 for other business."""
    if order.completion_due_at is None:
        return
    _, clause = deadline_label("completion", order.kind, order.business_type)
    dispatcher.utter_message(
        response="utter_completion_promised", due=local_text(order.completion_due_at), clause=clause
    )


class ActionFileWorkOrder(Action):
    """Files the confirmed form; if the backend is down, keeps it and re-submits automatically."""

    def name(self) -> str:
        return "action_file_work_order"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if tracker.get_slot("filing_confirmed") is not True:
            return reset_filing()
        if tracker.get_slot("households"):
            # one key per household, so a retried turn files none of them twice
            payloads = household_payloads(tracker)
            key = idempotency_key(tracker, payloads)
            queue = [{"payload": p, "key": f"{key}-{i}"} for i, p in enumerate(payloads, start=1)]
            pending = {**queue[0], "attempt": 0, "rest": queue[1:]}
        else:
            payload = order_payload(tracker)
            pending = {"payload": payload, "key": idempotency_key(tracker, [payload]), "attempt": 0}
        return reset_filing() + await submit(dispatcher, tracker.sender_id, pending)


async def submit(dispatcher: CollectingDispatcher, sender_id: str, pending: dict[str, Any]) -> list[EventType]:
    """One submission of a kept order, or of a grid worker's list of them (``rest``); the idempotency
    keys make every retry safe.

    While the backend is down the orders not yet filed stay in the conversation (``pending_order``)
    and the conversation is recorded in the spool, whose loop in the action server retries it; both
    survive restarts.
    """
    spool = FilingSpool.from_env()
    client = BackendClient.from_env()
    queue = [pending, *pending.get("rest", [])]
    filed: list[tuple[dict[str, Any], WorkOrder]] = []
    for index, item in enumerate(queue):
        try:
            order = await client.create_work_order(item["payload"], item["key"])
        except BackendUnavailable:
            attempt = int(pending["attempt"])
            log.warning("filing deferred: backend unavailable (attempt %s)", attempt + 1)
            confirm_filed(dispatcher, filed)
            spool.keep(item["key"], sender_id)
            if attempt == 0 or filed:
                dispatcher.utter_message(response="utter_backend_unavailable")
            elif attempt == STILL_DOWN_AFTER:
                dispatcher.utter_message(response="utter_backend_still_down")
            waiting: dict[str, Any] = {"payload": item["payload"], "key": item["key"], "attempt": attempt + 1}
            if "rest" in pending:  # a list keeps the orders after this one, even when none are left
                waiting["rest"] = queue[index + 1 :]
            return [SlotSet("pending_order", waiting)]
        except BackendRejected:
            payload = item["payload"]  # phone and address stay out of the log
            log.exception("filing refused by the backend: %s/%s", payload.get("kind"), payload.get("category"))
            spool.done(item["key"])
            dispatcher.utter_message(response="utter_filing_refused")
            continue
        spool.done(item["key"])
        filed.append((item["payload"], order))
    confirm_filed(dispatcher, filed, batch="rest" in pending)
    return [SlotSet("pending_order", None)]


def confirm_filed(
    dispatcher: CollectingDispatcher, filed: list[tuple[dict[str, Any], WorkOrder]], batch: bool = True
) -> None:
    """The confirmation of one order, or one message listing a grid worker's orders."""
    if not filed:
        return
    if not batch:
        confirmation(dispatcher, filed[0][1])
        return
    lines = [f"已登记{len(filed)}户的工单："]
    for number, (payload, order) in enumerate(filed, start=1):
        leak, window = committed_window(order)
        if leak:
            promise = f"将{window}处置（10.2.3）"
        elif window == "尽快":
            promise = "工作人员将尽快联系"
        else:
            promise = f"工作人员将{window}联系（10.1.4）"
        arrival = unbooked_arrival(order)
        if arrival is not None:
            promise += f"，{arrival[0]}上门（10.2.4）"
        lines.append(f"{number}. {payload.get('address')}：单号 {order.number}，{promise}")
    dispatcher.utter_message(text="\n".join(lines))


class ActionRetryFiling(Action):
    """Runs on the bot's own reminder: re-submits a kept order with its original key."""

    def name(self) -> str:
        return "action_retry_filing"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        pending = tracker.get_slot("pending_order")
        if not isinstance(pending, dict) or "payload" not in pending:
            return []
        return await submit(dispatcher, tracker.sender_id, pending)


class ActionCancelFiling(Action):
    """The resident stops the filing at any point."""

    def name(self) -> str:
        return "action_cancel_filing"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(response="utter_filing_cancelled")
        return [ActiveLoop(None), SlotSet("requested_slot", None)] + reset_filing()
