"""Answers from the knowledge file and the backend: policy and fees, business requests, outages, orders."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import clock
from actions.backend import BackendClient, BackendError, parse_timestamp
from actions.handoff import ActionFallback, ActionHandoff, likeliest_intent
from actions.tracker import business_type_of, entity
from actions.trust import handover, repeated_handover, triggered_by_backend
from bot import knowledge
from bot.operator import get_facts
from bot.parsing import parse_order_number
from bot.wording import local_text
from heating_standard.addresses import find_community
from heating_standard.lifecycle import OPEN_STATES
from heating_standard.words import KIND_WORDS, RESIDENT_STATUS_WORDS, word

log = logging.getLogger(__name__)

# The topic whose answer hands the chat to a person: erasing personal data (12.1).
ERASURE_TOPIC = "privacy_erasure"
# The city hotline named in a question about its reply windows (10.1.4) is not anger.
HOTLINE_NAMES = frozenset({"12345", "市长热线", "政务热线"})


class ActionAnswerQuestion(Action):
    """A policy or fee question answered from the knowledge file, citing its clause; the words of the
    message may pick a narrower topic ("交晚了会怎样" is 9.2.2's unpaid fees, not the payment channels)."""

    def name(self) -> str:
        return "action_answer_question"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        intent = str(likeliest_intent(tracker).get("name") or "")
        anger = tracker.get_slot("anger")
        if anger and str(anger) not in HOTLINE_NAMES:
            # an insult or a threat inside a question about complaints (the other questions have a rule each)
            return await ActionHandoff().run(dispatcher, tracker, domain, reason="anger")
        topic = knowledge.topic_for(intent, tracker.latest_message.get("text") or "")
        if topic is None:
            dispatcher.utter_message(response="utter_default")
            return []
        dispatcher.utter_message(text=knowledge.answer(topic, get_facts(), clock.now().date()))
        if topic == ERASURE_TOPIC:
            # Erasure needs a person who checks who is asking (12.1; the backend's erase is a supervisor's).
            return await ActionHandoff().run(dispatcher, tracker, domain, reason="erasure")
        # "12345" in a question about what the hotline promises is the question, not a threat
        return [SlotSet("anger", None)] if anger else []


class ActionAnswerBusiness(Action):
    """Process, documents and time limits of a business request (9.1; 开户 and 销户, 7.5), and an offer to
    file it: the kind this message names or points to, else the one asked about before, else the list."""

    def name(self) -> str:
        return "action_answer_business"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        business_type = business_type_of(tracker)
        dispatcher.utter_message(text=knowledge.business_answer(business_type, get_facts(), clock.now().date()))
        dispatcher.utter_message(response="utter_offer_business_filing")
        events: list[EventType] = [SlotSet("offered_filing", "ask_business_process")]
        if business_type:  # filed as the kind just explained, not asked again
            events.append(SlotSet("business_type", business_type))
        return events


class ActionAnswerOutage(Action):
    """Outages in the resident's community (6.3.1), from the backend: the community the message names,
    else the one of the address the backend remembers, else the bot asks. Never another community's."""

    def name(self) -> str:
        return "action_answer_outage"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        facts = get_facts()
        text = tracker.latest_message.get("text") or ""
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent != "ask_outage" and find_community(text) is None:
            # the bot asked for the community and got something else: not understood, and not asked again
            return [SlotSet("outage_community_asked", False), *await ActionFallback().run(dispatcher, tracker, domain)]
        if knowledge.topic_for("ask_outage", text) == "outage_notice" and find_community(text) is None:
            dispatcher.utter_message(text=knowledge.answer("outage_notice", facts, clock.now().date()))
            return []
        client = BackendClient.from_env()
        try:
            outages = await client.active_outages()
            community = named_community(text, outages) or await self._known_community(client, tracker)
        except BackendError:
            log.warning("outage lookup failed", exc_info=True)
            dispatcher.utter_message(
                text="抱歉，暂时查不到停热信息。" + knowledge.answer("service_contact", facts, clock.now().date())
            )
            return []
        if community is None:
            dispatcher.utter_message(text=knowledge.answer("outage_ask_community", facts, clock.now().date()))
            return [SlotSet("outage_community_asked", True)]
        theirs = [outage for outage in outages if any(same_community(community, c) for c in outage["communities"])]
        if not theirs:
            dispatcher.utter_message(
                text=knowledge.answer("outage_none", facts, clock.now().date(), community=community)
            )
            return [SlotSet("outage_community_asked", False)]
        for outage in theirs[:3]:
            dispatcher.utter_message(
                text=knowledge.answer(
                    "outage_active",
                    facts,
                    clock.now().date(),
                    community=community,
                    cause=outage["cause"],
                    repair_location=outage["repair_location"],
                    restoration=local_text(parse_timestamp(outage["expected_restoration_at"])),
                )
            )
        return [SlotSet("outage_community_asked", False)]

    @staticmethod
    async def _known_community(client: BackendClient, tracker: Tracker) -> str | None:
        """The community of the address the backend remembers for this resident."""
        resident = await client.resident(tracker.sender_id)
        if resident and resident.get("addresses"):
            community = resident["addresses"][0].get("community")
            return str(community) if community else None
        return None


def same_community(named: str, recorded: str) -> bool:
    """ "明珠花园" and "明珠花园小区" are one community; "花园" alone is none of them."""
    shorter, longer = sorted((named, recorded), key=len)
    return len(shorter) >= 2 and longer.startswith(shorter) and len(longer) - len(shorter) <= 2


def named_community(text: str, outages: list[dict[str, Any]]) -> str | None:
    """The community the message names: one with an outage written in it, else any name it parses to."""
    for outage in outages:
        for community in outage.get("communities") or ():
            if community and str(community) in text:
                return str(community)
    return find_community(text)


class ActionListWorkOrders(Action):
    """The resident's orders (a grid worker's: those of their communities) with status and next deadline."""

    def name(self) -> str:
        return "action_list_work_orders"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        # "GD20261201000017到哪一步了": that order, looked for among the resident's own (the backend lists a
        # resident's orders; it shows no one else's)
        asked = entity(tracker, "order_number") or parse_order_number(tracker.latest_message.get("text") or "")
        client = BackendClient.from_env()
        try:
            grid_worker = await client.grid_worker(tracker.sender_id)
            if grid_worker:
                open_only = {} if asked else {"status": sorted(s.value for s in OPEN_STATES)}
                orders = await client.work_orders(
                    community=grid_worker["communities"], limit=LOOKUP_LIMIT if asked else 10, **open_only
                )
                heading = f"您负责社区（{'、'.join(grid_worker['communities'])}）未办结的工单："
            else:
                orders = await client.work_orders(resident_openid=tracker.sender_id, limit=LOOKUP_LIMIT if asked else 5)
                heading = "您最近的工单："
        except BackendError:
            log.warning("order lookup failed", exc_info=True)
            dispatcher.utter_message(response="utter_backend_unavailable")
            return []
        if asked:
            orders, heading = asked_order_first(str(asked), orders, bool(grid_worker))
        if not orders:
            dispatcher.utter_message(response="utter_no_orders")
            return []
        lines = [heading]
        for order in orders:
            line = (
                f"{order['number']} {word(KIND_WORDS, order['kind'], order['kind'])} "
                f"{word(RESIDENT_STATUS_WORDS, order['status'], order['status'])}"
            )
            if order.get("next_due_at"):
                line += f"，下一时限 {local_text(parse_timestamp(order['next_due_at']))}"
            lines.append(line)
        dispatcher.utter_message(text="\n".join(lines))
        return []


# How many of a resident's orders are searched for a number they name (newest first).
LOOKUP_LIMIT = 50


def asked_order_first(asked: str, orders: list[dict[str, Any]], grid_worker: bool) -> tuple[list[dict[str, Any]], str]:
    """The order named by number on its own when it is among ``orders``; else a plain sentence that it
    was not found for this resident, and their latest orders."""
    found = [order for order in orders if order.get("number") == asked]
    if found:
        return found, f"您查询的工单 {asked}："
    whose = "您负责社区的工单" if grid_worker else "您名下的工单"
    return orders[:5], f"没有在{whose}中查到 {asked}，请核对单号。{whose}最近有："


class ActionRelayNotice(Action):
    """A message the backend asked the bot to deliver (e.g. an outage notice, 6.3.1)."""

    def name(self) -> str:
        return "action_relay_notice"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if not triggered_by_backend(tracker):
            log.warning("a notice was asked for without the backend (conversation %s); ignored", tracker.sender_id)
            dispatcher.utter_message(response="utter_default")
            return []
        if repeated_handover(tracker):
            log.info("notice %s was delivered already (conversation %s)", handover(tracker), tracker.sender_id)
            return []
        message = entity(tracker, "message")
        if message:
            # the key goes with the message to the channel's outbox, which sends a keyed message once
            dispatcher.utter_message(text=str(message), handover=handover(tracker))
        return []


class ActionOutOfScope(Action):
    """A message about something other than heating service: says what the bot can help with. An action
    rather than a response, so that the action server sees it and keeps the message for review."""

    def name(self) -> str:
        return "action_out_of_scope"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(response="utter_out_of_scope")
        return []
