"""The backend's figures for operators, its probes and the correlation id of each request
(docs/metrics.md).

- ``ObservedRequests``: an ASGI middleware that counts and times each request by its route's template
  (never the path a caller sent: no order number or openid reaches a label), and runs it under its
  correlation id (the caller's ``X-Correlation-ID`` when well formed, else a new one), which the answer
  carries back and the backend's own calls pass on (``api.services.outbound``). A stream's time is the
  time to its first byte.
- ``BackendGauges``: what the database holds (orders, deadlines, notifications, this month's KPIs), the
  connection pool, the database's size and the disk, read when Prometheus scrapes: the database at most
  once in 10 s, by one scrape at a time, each figure on its own (one that fails leaves the others), and
  the KPIs at most once a minute per process.
- ``readiness``: the database answers and its schema is at the code's revision or a later one.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from alembic.config import Config
from alembic.script import ScriptDirectory
from fastapi import FastAPI
from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, case, func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.models import Deadline, Notification, WorkOrder
from api.services import kpis
from heating_standard.localtime import LOCAL_TZ
from policies import revisions
from policies.correlation import CORRELATION_HEADER, accepted, correlation_id, new_correlation_id

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
REQUESTS = Counter(
    "heating_http_requests_total", "Requests answered, by route template and HTTP status", ["route", "method", "status"]
)
DURATION = Histogram(
    "heating_http_request_duration_seconds",
    "Time to answer a request (a stream: to its first byte), by route template",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
SCHEDULER_LAST_PASS = Gauge(
    "heating_scheduler_last_pass_timestamp_seconds", "When this process's scheduler last finished a pass"
)
SCHEDULER_INTERVAL = Gauge("heating_scheduler_interval_seconds", "The scheduler's interval")
SCHEDULER_PASS = Histogram(
    "heating_scheduler_pass_duration_seconds",
    "How long a scheduler pass took",
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0),
)
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
# One line per request (its route's template, status and time) under its correlation id (uvicorn's own
# access log, which writes the path sent, stays off); ACCESS_LOG=0 turns it off.
ACCESS_LOG = os.environ.get("ACCESS_LOG", "1") != "0"
access = logging.getLogger("heating.requests")
KPI_SECONDS = 60.0
READ_SECONDS = 10.0


def route_template(scope: Scope) -> str:
    """The template of the route that answered (``/api/v1/work-orders/{order_id}``), or ``unmatched``.

    A route of an included router knows only its own part of the path: the router's prefix (static)
    is the part of the path sent before the place where the route's pattern matches the rest."""
    route = scope.get("route")
    path, pattern = getattr(route, "path", None), getattr(route, "path_regex", None)
    if path is None:
        return "unmatched"
    sent = str(scope.get("path", ""))
    if pattern is None or pattern.match(sent):
        return str(path)
    for at in (i for i, char in enumerate(sent) if char == "/" and i):
        if pattern.match(sent[at:]):
            return sent[:at] + str(path)
    return str(path)


class ObservedRequests:
    """Counts, times and correlates every HTTP request (see the module's docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        cid = accepted(headers.get(CORRELATION_HEADER.lower())) or new_correlation_id()
        correlation_id.set(cid)
        started = time.perf_counter()
        status = {"code": 500, "timed": False}
        method = scope.get("method", "GET") if scope.get("method") in METHODS else "OTHER"

        def observe() -> None:
            if not status["timed"]:
                status["timed"] = True
                DURATION.labels(route_template(scope), method).observe(time.perf_counter() - started)

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message["headers"] = [*message.get("headers", []), (CORRELATION_HEADER.encode(), cid.encode())]
                observe()
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            observe()
            route = route_template(scope)
            REQUESTS.labels(route, method, str(status["code"])).inc()
            if ACCESS_LOG:
                access.info("%s %s %s %.3f s", method, route, status["code"], time.perf_counter() - started)


def pass_correlation_on(request: httpx.Request) -> None:
    """An outgoing call (to the channel, Rasa, the staff webhook) carries the current correlation id."""
    cid = correlation_id.get()
    if cid and CORRELATION_HEADER not in request.headers:
        request.headers[CORRELATION_HEADER] = cid


# --------------------------------------------------------------------------- probes


def code_revision() -> str:
    """The schema revision this code was written for (the migrations' head)."""
    script = ScriptDirectory.from_config(Config(str(ROOT / "api" / "alembic.ini")))
    return str(script.get_current_head())


def readiness(engine: Engine, head: str) -> dict[str, Any]:
    """Whether this process can serve: the database answers, and its schema is at ``head`` or at a later
    revision of the same line (a later release's expand step, run before a rolling upgrade: such a step
    only adds, docs/deployment.md). An older schema is a migration not yet run, or running; a revision of
    another shape is not this product's line, and is not taken either."""
    try:
        with engine.connect() as db:
            revision = db.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError as exc:
        return {"ready": False, "database": "down", "detail": type(exc).__name__}
    if revision == head or revisions.is_later(revision, head):
        return {"ready": True, "database": "ok", "schema": revision}
    return {"ready": False, "database": "ok", "schema": revision, "detail": f"the schema is not yet at {head}"}


# --------------------------------------------------------------------------- read at each scrape


class BackendGauges(Collector):
    """The database's figures, the pool and the disk (see the module's docstring)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self._kpis: tuple[float, list[tuple[str, float]]] = (0.0, [])
        # what the database said, kept READ_SECONDS: scrapes that come together (two Prometheus, a
        # caller on the private port) cost one reading, made by one of them while the others wait
        self._read: tuple[float, list[GaugeMetricFamily]] = (0.0, [])
        self._reading = threading.Lock()

    def describe(self) -> list[GaugeMetricFamily]:
        return []  # read at collection only: registering must not query the database

    def collect(self) -> Iterable[GaugeMetricFamily]:
        yield from self._pool()
        yield from self._disk()
        with self._reading:
            at, families = self._read
            if not at or time.monotonic() - at > READ_SECONDS:
                families = self._from_database()
                self._read = (time.monotonic(), families)
        yield from families

    def _from_database(self) -> list[GaugeMetricFamily]:
        """Each family the database gives; one that fails is left out (logged), the others are kept."""
        families: list[GaugeMetricFamily] = []
        now = self.app.state.clock()
        readers: list[Callable[[Session], Iterable[GaugeMetricFamily]]] = [
            self._orders,
            lambda session: self._deadlines(session, now),
            self._notifications,
            self._kpi,
            self._database_size,
        ]
        for reader in readers:
            try:
                with self.app.state.session_factory() as session:
                    families += list(reader(session))
            except Exception:  # noqa: BLE001 - a figure never costs the scrape of the others
                log.warning("could not read a figure for the metrics", exc_info=True)
        return families

    def _pool(self) -> Iterable[GaugeMetricFamily]:
        pool = self.app.state.engine.pool
        settings = self.app.state.settings
        used = GaugeMetricFamily("heating_db_pool_connections", "This process's connection pool", labels=["state"])
        for state, read in (("checked_out", "checkedout"), ("idle", "checkedin"), ("overflow", "overflow")):
            value = getattr(pool, read, None)
            used.add_metric([state], float(max(value(), 0)) if callable(value) else 0.0)
        yield used
        yield GaugeMetricFamily("heating_db_pool_size", "The pool's size", value=float(settings.database_pool_size))

    def _disk(self) -> Iterable[GaugeMetricFamily]:
        folder = self._data_folder()
        try:
            usage = shutil.disk_usage(folder)
        except OSError:
            return
        yield GaugeMetricFamily("heating_disk_free_bytes", "Free space of the data directory", value=usage.free)
        yield GaugeMetricFamily("heating_disk_total_bytes", "Size of the data directory's disk", value=usage.total)

    def _data_folder(self) -> Path:
        url = self.app.state.engine.url
        if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
            return Path(url.database).parent
        return ROOT / "var" if (ROOT / "var").is_dir() else ROOT

    def _orders(self, session: Session) -> Iterable[GaugeMetricFamily]:
        rows = session.execute(
            select(WorkOrder.kind, WorkOrder.source, WorkOrder.status, func.count()).group_by(
                WorkOrder.kind, WorkOrder.source, WorkOrder.status
            )
        ).all()
        orders = GaugeMetricFamily("heating_work_orders", "Orders on file", labels=["kind", "source", "status"])
        for kind, source, status, n in rows:
            orders.add_metric([kind, source, status], float(n))
        yield orders

    def _deadlines(self, session: Session, now: datetime) -> Iterable[GaugeMetricFamily]:
        state = case(
            (Deadline.met_at.is_not(None), "met"),
            (Deadline.due_at < now, "overdue"),
            else_="open",
        )
        hour_ago = now - timedelta(hours=1)
        rows = session.execute(
            select(
                Deadline.name,
                state,
                func.count(),
                func.count(Deadline.reminded_at),
                func.count(Deadline.breached_at),
                func.sum(case((Deadline.breached_at >= hour_ago, 1), else_=0)),
            ).group_by(Deadline.name, state)
        ).all()
        by_state = GaugeMetricFamily("heating_deadlines", "Deadlines by state", labels=["name", "state"])
        reminded = GaugeMetricFamily("heating_deadlines_reminded", "Deadlines reminded", labels=["name"])
        breached = GaugeMetricFamily("heating_deadlines_breached", "Deadlines breached", labels=["name"])
        recent = GaugeMetricFamily(
            "heating_deadlines_breached_last_hour", "Deadlines breached in the last hour", labels=["name"]
        )
        totals: dict[str, list[float]] = {}
        for name, kind, n, n_reminded, n_breached, n_recent in rows:
            by_state.add_metric([name, kind], float(n))
            sums = totals.setdefault(name, [0.0, 0.0, 0.0])
            sums[0] += n_reminded
            sums[1] += n_breached
            sums[2] += float(n_recent or 0)
        for name, (n_reminded, n_breached, n_recent) in sorted(totals.items()):
            reminded.add_metric([name], n_reminded)
            breached.add_metric([name], n_breached)
            recent.add_metric([name], n_recent)
        yield from (by_state, reminded, breached, recent)

    def _notifications(self, session: Session) -> Iterable[GaugeMetricFamily]:
        rows = session.execute(
            select(Notification.kind, func.count())
            .where(Notification.delivered_at.is_(None), Notification.next_attempt_at.is_not(None))
            .group_by(Notification.kind)
        ).all()
        pending = GaugeMetricFamily("heating_notifications_pending", "Notifications not yet delivered", labels=["kind"])
        for kind, n in rows:
            pending.add_metric([kind], float(n))
        yield pending

    def _kpi(self, session: Session) -> Iterable[GaugeMetricFamily]:
        at, values = self._kpis
        if time.monotonic() - at > KPI_SECONDS or not at:
            values = month_kpis(session, self.app.state.clock(), self.app.state.operator_config)
            self._kpis = (time.monotonic(), values)
        family = GaugeMetricFamily("heating_kpi_ratio", "This month's figures of 14.4 (a share)", labels=["kpi"])
        for name, value in values:
            family.add_metric([name], value)
        yield family

    def _database_size(self, session: Session) -> Iterable[GaugeMetricFamily]:
        url = self.app.state.engine.url
        size: float | None = None
        if url.get_backend_name() == "postgresql":
            size = float(session.execute(text("SELECT pg_database_size(current_database())")).scalar_one())
        elif url.database and url.database != ":memory:":
            files = [Path(url.database), Path(url.database + "-wal")]
            size = float(sum(f.stat().st_size for f in files if f.exists()))
        if size is not None:
            yield GaugeMetricFamily("heating_database_size_bytes", "The backend's database", value=size)


def month_kpis(session: Session, now: datetime, config: Any) -> list[tuple[str, float]]:
    """This Beijing month's KPIs (``api.services.kpis.report``), those with a value."""
    local = now.astimezone(LOCAL_TZ)
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    report = kpis.report(session, start, now, config, now)
    shown = [*report.kpis, report.callback_coverage, *report.published]
    return [(value.name, float(value.value)) for value in shown if value.value is not None]


def register(app: FastAPI) -> BackendGauges:
    """The app's gauges in the process's registry; a later app (tests) replaces the earlier one's."""
    gauges = BackendGauges(app)
    previous = getattr(register, "registered", None)
    if previous is not None:
        REGISTRY.unregister(previous)
    REGISTRY.register(gauges)
    register.registered = gauges  # type: ignore[attr-defined]
    SCHEDULER_INTERVAL.set(app.state.settings.scheduler_interval_seconds)
    return gauges
