"""The action server's figures (docs/metrics.md): each custom action run, its outcome and time, and the
filings kept while the backend was down. The request figures and the correlation id are
``bot.metrics.instrument``'s, as on the Rasa server."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

import sqlalchemy as sa
from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic
from sanic.request import Request
from sanic.response import BaseHTTPResponse

from actions.spool import FilingSpool, waiting_table
from bot.metrics import register_once

log = logging.getLogger(__name__)

RUNS = Counter("actions_runs_total", "Custom actions run, by outcome", ["action", "outcome"])
RUN_SECONDS = Histogram(
    "actions_run_duration_seconds",
    "Time an action took",
    ["action"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)


def action_names(package: str = "actions") -> frozenset[str]:
    """The actions the package registers: the only values the ``action`` label takes."""
    executor = ActionExecutor()
    executor.register_package(package)
    return frozenset(executor.actions)


def outcome_of(status: int) -> str:
    """``ok``; ``rejected`` when a form's validation refused the slot (400, part of a form's work);
    ``error`` otherwise."""
    if status < 300:
        return "ok"
    return "rejected" if status == 400 else "error"


def count_actions(app: Sanic, names: frozenset[str]) -> None:
    """Counts and times each run of a registered action (``POST /webhook``); another name is ``other``."""

    async def start(request: Request) -> None:
        if request.path.rstrip("/") != "/webhook" or request.method != "POST":
            return
        try:
            body = request.json if request.body else None
        except Exception:  # noqa: BLE001 - an unreadable body is the SDK's to refuse
            body = None
        name = str(body.get("next_action") or "") if isinstance(body, dict) else ""
        request.ctx.action = name if name in names else "other"
        request.ctx.action_started = time.perf_counter()

    async def finish(request: Request, answer: BaseHTTPResponse) -> None:
        action = getattr(request.ctx, "action", None)
        if action is None:
            return
        RUNS.labels(action, outcome_of(answer.status)).inc()
        RUN_SECONDS.labels(action).observe(time.perf_counter() - request.ctx.action_started)

    app.register_middleware(start, "request")
    app.register_middleware(finish, "response")


class SpoolGauge(Collector):
    """Filings kept while the backend was down and not yet filed, read when Prometheus scrapes."""

    def __init__(self, spool: Callable[[], FilingSpool] = FilingSpool.from_env) -> None:
        self.spool = spool  # made when first scraped: a database down at start does not stop the server

    def describe(self) -> list[GaugeMetricFamily]:
        return []

    def collect(self) -> Iterable[GaugeMetricFamily]:
        try:
            with self.spool().engine.connect() as db:
                waiting = db.execute(sa.select(sa.func.count()).select_from(waiting_table)).scalar_one()
        except Exception:  # noqa: BLE001 - unreachable, not migrated (bot.stores refuses): no figure, no failed scrape
            log.warning("could not read the filing spool for the metrics", exc_info=True)
            return
        yield GaugeMetricFamily("actions_spool_waiting", "Filings kept, not yet filed", value=float(waiting))


def spool_answers(spool: Callable[[], FilingSpool] = FilingSpool.from_env) -> bool:
    """Readiness: the filing spool's database answers a trivial query (and is migrated)."""
    try:
        with spool().engine.connect() as db:
            db.execute(sa.text("SELECT 1"))
    except Exception:  # noqa: BLE001 - unreachable, or not migrated (bot.stores refuses): not ready
        log.warning("the filing spool's database does not answer", exc_info=True)
        return False
    return True


def register_spool_gauge(gauge: SpoolGauge) -> None:
    """Once per process; a later app (tests) replaces the earlier one's."""
    register_once("filing spool", gauge)
