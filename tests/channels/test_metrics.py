"""The Rasa server's figures for operators (channels/metrics.py, bot/metrics.py): what the channel counts
as pushes come and answers go, the bot's turns as they are written, the store read at a scrape, and the
request figures and correlation id of a Sanic app."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from prometheus_client import REGISTRY
from rasa.shared.core.events import ActionExecuted, ActiveLoop, ConversationPaused, SlotSet, UserUttered
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.metrics import instrument
from channels import metrics
from channels.delivery import Outbox, PlatformClient, outbox_table
from channels.held import held_table
from fake_wechat.platform import FakePlatform
from policies.correlation import CORRELATION_HEADER, correlation_for, correlation_id
from tests.channels.conftest import APP_ID, APP_SECRET, Clock, FakeBot, fixture, platform_args
from tests.channels.test_delivery import RESIDENT, courier, wrote
from tests.channels.test_wechat import make_webhook
from tests.sanic_served import served


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


class Counted:
    """The change of some samples across a block."""

    def __init__(self, *samples: tuple[str, dict[str, str]]) -> None:
        self.samples = samples
        self.before = [sample(name, **labels) for name, labels in samples]

    def grew(self) -> list[float]:
        return [sample(name, **labels) - old for (name, labels), old in zip(self.samples, self.before, strict=True)]


TEXT_IN = ("wechat_messages_received_total", {"kind": "text"})
PASSIVE = ("wechat_replies_total", {"via": "passive"})
PASSIVE_TIMED = ("wechat_reply_seconds_count", {"via": "passive"})
PUSHED = ("wechat_replies_total", {"via": "pushed"})
PUSHED_TIMED = ("wechat_reply_seconds_count", {"via": "pushed"})


async def test_a_push_answered_in_the_reply_is_counted_once_with_its_retry(clock: Clock, outbox: Outbox) -> None:
    webhook = make_webhook(clock, outbox)
    counted = Counted(TEXT_IN, PASSIVE, PASSIVE_TIMED, PUSHED)
    bot = FakeBot(["您好"])
    await webhook.receive(platform_args(), fixture("text"), bot)
    await webhook.receive(platform_args(nonce="5"), fixture("text"), bot)  # the platform's retry
    assert len(bot.received) == 1
    assert counted.grew() == [1, 1, 1, 0]


async def test_a_push_answered_later_is_counted_as_pushed(
    clock: Clock, outbox: Outbox, platform: tuple[FakePlatform, str], client: PlatformClient
) -> None:
    fake, _ = platform
    fake.resident_wrote("oRESIDENT0001")
    webhook = make_webhook(clock, outbox, client=client, reply_budget_seconds=0.0)  # over at once
    counted = Counted(TEXT_IN, PASSIVE, PUSHED, PUSHED_TIMED)
    reply = await webhook.receive(platform_args(), fixture("text"), FakeBot(["工单已登记：GD1"]))
    assert reply.body == "success"
    await webhook.drain()
    assert [m.text for m in fake.inbox("oRESIDENT0001")] == ["工单已登记：GD1"]
    assert counted.grew() == [1, 0, 1, 1]


async def test_a_resident_over_the_limit_is_counted_once_per_window(clock: Clock, outbox: Outbox) -> None:
    webhook = make_webhook(clock, outbox, rate_limit=1)
    counted = Counted(("wechat_rate_limited_total", {}))
    bot = FakeBot(["好的"])
    for nonce in range(4):
        body = fixture("text").replace(b"24000000000000001", f"2400000000000010{nonce}".encode())
        await webhook.receive(platform_args(nonce=str(nonce)), body, bot)
    assert len(bot.received) == 1
    assert counted.grew() == [1]


async def test_a_push_outside_the_window_or_over_the_quota_is_counted_by_reason(
    outbox: Outbox, platform: tuple[FakePlatform, str], client: PlatformClient
) -> None:
    fake, _ = platform
    window = ("wechat_push_refusals_total", {"reason": "window"})
    quota = ("wechat_push_refusals_total", {"reason": "quota"})
    counted = Counted(window, quota)
    await courier(outbox, client).push("oNEVERWROTE0001", ["通知"])  # never wrote: no window
    assert counted.grew() == [1, 0]
    wrote(fake, outbox)
    await courier(outbox, client).push(RESIDENT, [f"消息{i}" for i in range(1, 8)])  # 5 go, 2 over
    assert counted.grew() == [1, 2]
    other = "oRESIDENT0002"
    wrote(fake, outbox, other)
    for _ in range(5):  # another system used the platform's quota: its 45047 is believed
        token = fake.token("client_credential", APP_ID, APP_SECRET)["access_token"]
        fake.custom_send(token, {"touser": other, "msgtype": "text", "text": {"content": "别处发的"}})
    await courier(outbox, client).push(other, ["我们的"])
    assert counted.grew() == [1, 3]


async def test_the_push_runs_under_a_correlation_id_its_retries_share(clock: Clock, outbox: Outbox) -> None:
    webhook = make_webhook(clock, outbox)
    seen: list[str] = []

    async def bot(message: Any) -> None:
        seen.append(correlation_id.get())

    await asyncio.create_task(webhook.receive(platform_args(), fixture("text"), bot))
    await asyncio.create_task(webhook.receive(platform_args(), fixture("text"), bot))  # answered already
    assert seen == [correlation_for("msg:oRESIDENT0001:24000000000000001")]
    assert correlation_id.get() == ""  # each push ran in a task of its own, as Sanic's requests do


# --------------------------------------------------------------------------- the bot's turns


class Tracker:
    def __init__(self, latest: UserUttered | None = None, active_loop: str | None = None) -> None:
        self.latest_message = latest
        self.active_loop_name = active_loop


class Domain:
    form_names = ("repair_form",)


class Processor:
    """Stands in for Rasa's MessageProcessor: the two methods the figures wrap."""

    domain = Domain()

    def __init__(self, tracker: Tracker) -> None:
        self.tracker = tracker

    async def log_message(self, message: Any, should_save_tracker: bool = True) -> Tracker:
        return self.tracker

    def _log_action_on_tracker(self, tracker: Tracker, action: Any, events: Any, *_more: Any) -> None:
        for event in events or ():
            if isinstance(event, ActiveLoop):
                tracker.active_loop_name = event.name


class Action:
    def __init__(self, name: str) -> None:
        self._name = name

    def name(self) -> str:
        return self._name


def uttered(text: str, intent: str, confidence: float) -> UserUttered:
    return UserUttered(text, {"name": intent, "confidence": confidence})


BOT_SAMPLES = (
    ("bot_user_messages_total", {}),
    ("bot_nlu_confidence_count", {}),
    ("bot_nlu_confidence_sum", {}),
    ("bot_fallbacks_total", {}),
)


async def test_each_residents_message_is_counted_with_its_confidence() -> None:
    metrics.count_turns(Processor)
    metrics.count_turns(Processor)  # a second call wraps nothing twice
    counted = Counted(*BOT_SAMPLES)
    for latest in (
        uttered("暖气不热", "complain_not_warm", 0.75),
        uttered("嗯嗯那个", "nlu_fallback", 0.25),
        uttered("/choose_reading", "choose_reading", 1.0),  # a button's payload: not typed by the resident
        uttered("EXTERNAL", "EXTERNAL_retry_filing", 1.0),  # the backend's trigger
    ):
        await Processor(Tracker(latest)).log_message(None)
    messages, timed, total, fallbacks = counted.grew()
    assert (messages, timed, fallbacks) == (2, 2, 1)
    assert total == pytest.approx(1.0)


def test_clarifications_handovers_and_forms_ended_are_counted_from_the_actions_events() -> None:
    metrics.count_turns(Processor)
    counted = Counted(
        ("bot_clarifications_total", {}),
        ("bot_handovers_total", {}),
        ("bot_forms_total", {"form": "repair_form", "outcome": "completed"}),
        ("bot_forms_total", {"form": "repair_form", "outcome": "cancelled"}),
        ("bot_fallbacks_total", {}),
    )
    processor = Processor(Tracker())

    def ran(action: str, *events: Any) -> None:
        processor._log_action_on_tracker(processor.tracker, Action(action), list(events), None, None)

    ran("action_clarify", SlotSet("clarifying", "a|b"))
    ran("action_clarify", SlotSet("clarifying", None))
    ran("action_handoff", ConversationPaused())
    for ending in ("repair_form", "action_cancel_filing"):
        ran("repair_form", ActiveLoop("repair_form"))
        ran(ending, ActiveLoop(None))
    ran("action_default_fallback", ActionExecuted("x"))
    assert counted.grew() == [1, 1, 1, 1, 1]


def test_the_store_is_read_at_the_scrape(outbox: Outbox) -> None:
    outbox.add(RESIDENT, "待发送")
    gauges = metrics.StoreGauges(outbox.engine, outbox_table, held_table, lambda: True)
    metrics.register_store_gauges(gauges)
    metrics.register_store_gauges(gauges)  # a second channel in one process replaces the first
    assert sample("wechat_outbox_messages", state="pending") == 1
    assert sample("wechat_outbox_messages", state="sent") == 0
    assert sample("wechat_held_turns") == 0
    assert sample("bot_model_loaded") == 1
    metrics.register_store_gauges(metrics.StoreGauges(outbox.engine, outbox_table, held_table, lambda: False))
    assert sample("bot_model_loaded") == 0


# --------------------------------------------------------------------------- a Sanic app's requests


@pytest_asyncio.fixture
async def served_app() -> AsyncIterator[str]:
    Sanic.test_mode = True
    app = Sanic(f"instrumented_{id(object())}")

    @app.get("/conversations/<conversation_id:path>/tracker")
    async def tracker(request: Request, conversation_id: str) -> HTTPResponse:
        return response.json({"correlation_id": correlation_id.get()})

    instrument(app)
    instrument(app)  # once only
    async with served(app) as url:
        yield url


async def test_a_sanic_apps_requests_are_counted_by_template_and_correlated(served_app: str) -> None:
    route = {"route": "/conversations/<conversation_id:path>/tracker", "method": "GET"}
    counted = Counted(("heating_http_requests_total", {**route, "status": "200"}))
    async with aiohttp.ClientSession() as session:
        named = f"{served_app}/conversations/oAbCdEfGhIjKlMnOpQrStUvWx-_1/tracker"
        async with session.get(named, headers={CORRELATION_HEADER: "rasa-req-0001"}) as answer:
            assert (await answer.json())["correlation_id"] == "rasa-req-0001"
            assert answer.headers[CORRELATION_HEADER] == "rasa-req-0001"
        bad = {CORRELATION_HEADER: "bad\tid"}
        async with session.get(f"{served_app}/conversations/o2/tracker", headers=bad) as other:
            assert len(other.headers[CORRELATION_HEADER]) == 16
    assert counted.grew() == [2]
    labels = [value for family in REGISTRY.collect() for s in family.samples for value in s.labels.values()]
    assert not [value for value in labels if "oAbCdEfGhIjKlMnOpQrStUvWx" in value]
