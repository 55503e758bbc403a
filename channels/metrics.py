"""The Rasa server's figures for operators (docs/metrics.md): the channel's (messages in, passive and
pushed replies, reply time, the outbox, refusals, rate-limited residents, kept turns) and the bot's
(messages read, the NLU's confidence, fallbacks, clarifications, hand-overs, forms ended).

The bot's figures are taken as each turn is written on the conversation, in the process (the
processor's ``log_message`` and ``_log_action_on_tracker``), not from an event broker: Rasa's broker
reads the whole conversation once more at every save. They count what the daily figures count
(``channels/figures.py``): a button's payload, a photo or a message the backend triggered is not a
resident's message.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

import sqlalchemy as sa
from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from rasa.core.processor import MessageProcessor
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.metrics import instrument, metrics_answer, register_once
from channels.figures import NOT_TYPED

log = logging.getLogger(__name__)

KINDS = ("text", "image", "voice", "event")
MESSAGES_RECEIVED = Counter(
    "wechat_messages_received_total", "Pushes taken from the platform (a push's retries once)", ["kind"]
)
REPLIES = Counter("wechat_replies_total", "Answers given, in the passive reply or pushed later", ["via"])
REPLY_SECONDS = Histogram(
    "wechat_reply_seconds",
    "From a push's arrival to its answer given to the platform",
    ["via"],
    buckets=(0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 4.0, 4.5, 6.0, 10.0, 20.0, 60.0, 300.0),
)
PUSH_REFUSALS = Counter(
    "wechat_push_refusals_total", "Pushes held back or refused: the 48-hour window closed, the quota used", ["reason"]
)
RATE_LIMITED = Counter("wechat_rate_limited_total", "Residents who went over the message limit (once per window)")

USER_MESSAGES = Counter("bot_user_messages_total", "Residents' messages the bot read")
CONFIDENCE = Histogram(
    "bot_nlu_confidence",
    "The top intent's confidence of each resident's message",
    buckets=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0),
)
FALLBACKS = Counter("bot_fallbacks_total", "Messages the bot was unsure of or did not understand")
CLARIFICATIONS = Counter("bot_clarifications_total", "Questions asking which reading was meant")
HANDOVERS = Counter("bot_handovers_total", "Conversations handed to a person")
FORMS = Counter("bot_forms_total", "Forms ended", ["form", "outcome"])

# Rasa's own fallback after a confident intent no rule answers; the NLU's is the nlu_fallback intent.
CORE_FALLBACK = "action_default_fallback"


def message_kind(kind: str) -> str:
    return kind if kind in KINDS else "other"


def replied(via: str, arrived: float) -> None:
    """An answer given ``via`` the passive reply or a push, for a push that arrived at ``arrived``
    (``time.monotonic()``)."""
    REPLIES.labels(via).inc()
    REPLY_SECONDS.labels(via).observe(max(time.monotonic() - arrived, 0.0))


# --------------------------------------------------------------------------- the bot's turns


def count_message(intent: str | None, confidence: float | None, text: str | None) -> None:
    """A message the processor has just read, with its top intent."""
    name = intent or ""
    if (text or "").startswith("/") or name in NOT_TYPED or name.startswith("EXTERNAL_"):
        return
    USER_MESSAGES.inc()
    if confidence is not None:
        CONFIDENCE.observe(float(confidence))
    if name == "nlu_fallback":
        FALLBACKS.inc()


def count_action(action: str, active_loop: str | None, is_form: bool, events: Iterable[Any]) -> None:
    """The action ``action`` has run and produced ``events``; ``active_loop`` was the form running."""
    if action == CORE_FALLBACK:
        FALLBACKS.inc()
    for event in events:
        kind = getattr(event, "type_name", "")
        if kind == "pause":
            HANDOVERS.inc()
        elif kind == "slot" and getattr(event, "key", None) == "clarifying" and getattr(event, "value", None):
            CLARIFICATIONS.inc()
        elif kind == "active_loop" and getattr(event, "name", None) is None and active_loop:
            FORMS.labels(active_loop, "completed" if is_form and action == active_loop else "cancelled").inc()


def count_turns(processor_class: Any) -> None:
    """Counts each turn of ``processor_class`` (Rasa's MessageProcessor) as it is written; once."""
    if getattr(processor_class, "counted_for_metrics", False):
        return
    log_message = processor_class.log_message
    log_action = processor_class._log_action_on_tracker

    async def counted_log_message(self: Any, message: Any, should_save_tracker: bool = True) -> Any:
        tracker = await log_message(self, message, should_save_tracker)
        try:
            latest = tracker.latest_message
            intent = latest.intent if latest is not None else {}
            count_message(intent.get("name"), intent.get("confidence"), getattr(latest, "text", None))
        except Exception:  # noqa: BLE001 - a figure never costs a resident their turn
            log.warning("could not count a message", exc_info=True)
        return tracker

    def counted_log_action(self: Any, tracker: Any, action: Any, events: Any, *args: Any, **kwargs: Any) -> Any:
        active_loop = tracker.active_loop_name
        result = log_action(self, tracker, action, events, *args, **kwargs)
        try:
            name = action.name()
            is_form = name in getattr(getattr(self, "domain", None), "form_names", ())
            count_action(name, active_loop, is_form, events or ())
        except Exception:  # noqa: BLE001
            log.warning("could not count an action", exc_info=True)
        return result

    processor_class.log_message = counted_log_message
    processor_class._log_action_on_tracker = counted_log_action
    processor_class.counted_for_metrics = True


# --------------------------------------------------------------------------- read at each scrape


class StoreGauges(Collector):
    """Whether a model is loaded; the outbox by state and the turns kept to run later, read from the
    channel's store when Prometheus scrapes (one grouped query each); nothing of the store's when it
    cannot be read (logged)."""

    def __init__(self, engine: sa.engine.Engine, outbox: sa.Table, held: sa.Table, model_loaded: Callable[[], bool]):
        self.engine = engine
        self.outbox = outbox
        self.held = held
        self.model_loaded = model_loaded

    def describe(self) -> list[GaugeMetricFamily]:
        return []  # read at collection only: registering must not query the store

    def collect(self) -> Iterable[GaugeMetricFamily]:
        loaded = 1.0 if self.model_loaded() else 0.0
        yield GaugeMetricFamily("bot_model_loaded", "1 while a model is loaded", value=loaded)
        try:
            with self.engine.connect() as db:
                states = dict(
                    db.execute(sa.select(self.outbox.c.status, sa.func.count()).group_by(self.outbox.c.status)).all()
                )
                kept = db.execute(sa.select(sa.func.count()).select_from(self.held)).scalar_one()
        except Exception:  # noqa: BLE001 - a store that cannot be read gives no figure, never a failed scrape
            log.warning("could not read the outbox for the metrics", exc_info=True)
            return
        outbox = GaugeMetricFamily("wechat_outbox_messages", "The outbox by state", labels=["state"])
        for state in ("pending", "sent", "undelivered"):
            outbox.add_metric([state], float(states.get(state, 0)))
        yield outbox
        yield GaugeMetricFamily("wechat_held_turns", "Messages kept to run later", value=float(kept))


def register_store_gauges(gauges: StoreGauges) -> None:
    """The store's gauges, once per process (a second channel, in tests, replaces the first)."""
    register_once("channel store", gauges)


# --------------------------------------------------------------------------- the routes


def model_loaded(app: Any) -> bool:
    agent = getattr(app.ctx, "agent", None)
    return bool(agent is not None and agent.is_ready())


def store_answers(engine: sa.engine.Engine) -> bool:
    """Whether the channel's store (outbox, kept turns) answers a trivial query."""
    try:
        with engine.connect() as db:
            db.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        log.warning("the channel's store does not answer", exc_info=True)
        return False
    return True


def install(blueprint: Blueprint, engine: sa.engine.Engine, outbox_table: sa.Table, held_table: sa.Table) -> None:
    """The channel's probes and ``/metrics`` on its blueprint, and, when the server starts, the request
    figures of every route of the Rasa server, the bot's turn figures and the store's gauges (the outbox's
    and the kept turns' tables, read at each scrape)."""

    @blueprint.listener("before_server_start")
    async def start_metrics(app: Any, _loop: Any) -> None:
        instrument(app)  # every route of the Rasa server, not only the channel's
        count_turns(MessageProcessor)
        register_store_gauges(StoreGauges(engine, outbox_table, held_table, lambda: model_loaded(app)))

    @blueprint.route("/", methods=["GET"])
    async def health(_request: Request) -> HTTPResponse:
        """Liveness: the server answers."""
        return response.json({"status": "ok"})

    @blueprint.route("/ready", methods=["GET"])
    async def ready(request: Request) -> HTTPResponse:
        """Readiness: a model is loaded and the channel's store answers (docs/metrics.md)."""
        checks = {"model": model_loaded(request.app), "store": await asyncio.to_thread(store_answers, engine)}
        status = 200 if all(checks.values()) else 503
        return response.json({"status": "ok" if status == 200 else "unavailable", **checks}, status=status)

    @blueprint.route("/metrics", methods=["GET"])
    async def prometheus_metrics(_request: Request) -> HTTPResponse:
        return await asyncio.to_thread(metrics_answer)
