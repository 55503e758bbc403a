"""The backend's application factory: ``uvicorn --factory api.main:create_app``."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from api import logs, metrics
from api.body_limit import BodyLimit
from api.console import pages as console_pages
from api.console.routes import install_console
from api.db import make_engine, make_session_factory
from api.errors import ERROR_RESPONSES, install_error_handlers
from api.operator_config import load_operator_config, resolve_path
from api.routes import JSON_API, health
from api.services import announcements, desk, media, outages, residents, scheduler, status
from api.services.outbound import BotClient, WebhookNotifier
from api.services.trainer import LocalTrainer
from api.settings import Settings, get_settings
from heating_standard.localtime import local_date
from heating_standard.operator import OperatorFile
from policies.correlation import correlation_id, new_correlation_id

API_PREFIX = "/api/v1"
# The largest body an API route reads: a list of 5,000 households (POST /households/import) stays under
# 9 MB with every character escaped. The console's cap is its largest form (api.console.pages).
API_MAX_BODY_BYTES = 10 * 1024 * 1024
log = logging.getLogger("api")


def utc_now() -> datetime:
    """The real clock."""
    return datetime.now(UTC)


def _ahead(clock: Callable[[], datetime], offset: timedelta) -> Callable[[], datetime]:
    """``clock`` moved ``offset`` ahead (CLOCK_OFFSET_SECONDS, a test setting)."""
    return lambda: clock() + offset


def run_scheduler_once(app: FastAPI) -> dict[str, int]:
    """One pass: create due reminders and breaches, then deliver what is queued."""
    now = app.state.clock()
    with app.state.session_factory() as session:
        found = scheduler.scan_deadlines(session, now)
    with app.state.session_factory() as session:
        outage_notices = outages.watch(session, now)
    with app.state.session_factory() as session:
        delivered = scheduler.deliver_pending(session, now, app.state.notifier, app.state.bot)
    with app.state.session_factory() as session:
        photos = media.fetch_due(session, now, app.state.bot)
    with app.state.session_factory() as session:
        announced = announcements.send_due(session, now, app.state.bot)
    given = 0
    try:
        with app.state.session_factory() as session:
            given = desk.auto_assign(session, now)  # agents who came online since take the queue
            desk.forget_stale(session, now)
    except SQLAlchemyError:  # the chats stay in the queue for the next pass; the purge below still runs
        log.exception("the round robin's pass failed")
    erased = 0
    retention = app.state.operator_config.privacy.retention_days
    state = app.state.scheduler_state
    if retention and residents.retention_due(now, state.get("personal_data_purged_at")):
        with app.state.session_factory() as session:
            erased = residents.purge_expired(session, now, retention)
        state["personal_data_purged_at"] = now
    if (
        retention
        and residents.retention_due(now, state.get("conversations_pruned_at"))
        and residents.prune_conversations(app.state.bot, now, retention)
    ):
        state["conversations_pruned_at"] = now
    state.update(last_run_at=now.isoformat(), last_error=None)
    return {
        "reminders": found.reminders,
        "breaches": found.breaches,
        "outage_notices": outage_notices,
        "delivered": delivered,
        "photos": photos,
        "announced": announced,
        "chats_given": given,
        "erased": erased,
    }


async def _scheduler_loop(app: FastAPI, interval: float) -> None:
    while True:
        correlation_id.set(new_correlation_id())  # each pass's lines and calls under an id of their own
        started = time.perf_counter()
        try:
            await asyncio.to_thread(run_scheduler_once, app)
            metrics.SCHEDULER_LAST_PASS.set(time.time())  # a failing pass counts as late (docs/metrics.md)
            metrics.SCHEDULER_PASS.observe(time.perf_counter() - started)
        except Exception as exc:  # keep the loop alive; the error shows in /api/v1/status
            log.exception("scheduler pass failed")
            app.state.scheduler_state["last_error"] = f"{type(exc).__name__}: {exc}"
        await asyncio.sleep(interval)


def create_app(
    settings: Settings | None = None,
    clock: Callable[[], datetime] = utc_now,
    http_client: httpx.Client | None = None,
) -> FastAPI:
    """Build the app with its own engine and outbound clients; nothing is opened at import."""
    settings = settings or get_settings()
    settings.check_for_production()
    logs.configure("api", loggers=("uvicorn", "uvicorn.error", "uvicorn.access"))  # a root handler, INFO
    operator_config = _checked_operator_file(settings)
    if settings.clock_offset_seconds:
        clock = _ahead(clock, timedelta(seconds=settings.clock_offset_seconds))
        log.warning("the clock runs %s s ahead (CLOCK_OFFSET_SECONDS, for tests)", settings.clock_offset_seconds)
    engine = make_engine(
        settings.sqlalchemy_url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        pool_timeout=settings.database_pool_timeout_seconds,
    )
    client = http_client or httpx.Client(timeout=settings.outbound_timeout_seconds)
    client.event_hooks["request"].append(metrics.pass_correlation_on)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        _warn_of_calendar_gaps(operator_config, local_date(clock()))
        task = None
        if settings.scheduler_enabled:
            task = asyncio.create_task(_scheduler_loop(app, settings.scheduler_interval_seconds))
        yield
        if task is not None:
            task.cancel()
        if http_client is None:
            client.close()
        phone = getattr(app.state, "simulator_phone", None)
        if phone is not None:
            await phone.client.aclose()
        engine.dispose()

    # The API's description is for developers and operators; in production it is not served at all.
    public_docs = settings.app_env != "production"
    app = FastAPI(
        title="供热客服工单系统 API",
        version="0.3.0",
        description="Work orders, deadlines and call-backs under the city's heating-service standard.",
        lifespan=lifespan,
        docs_url="/docs" if public_docs else None,
        redoc_url="/redoc" if public_docs else None,
        openapi_url="/openapi.json" if public_docs else None,
    )
    _keep_state(app, settings, engine, clock, operator_config, client)
    _install_routes(app)
    metrics.register(app)
    if settings.simulator_enabled:
        install_simulator(app, settings)
    return app


def _checked_operator_file(settings: Settings) -> OperatorFile:
    """The operator file; production refuses the sample and a file without completion promises."""
    operator_config = load_operator_config(resolve_path(settings.operator_config))
    if settings.app_env == "production" and operator_config.is_sample:
        raise RuntimeError("APP_ENV=production needs a confirmed operator file (OPERATOR_CONFIG), not the sample")
    missing = operator_config.promises.missing()
    if settings.app_env == "production" and missing:
        # 10.1.4 (办结条): every complaint and repair is finished by a promised time; without one it has none.
        raise RuntimeError(f"the operator file makes no completion promise: set {', '.join(missing)}")
    return operator_config


def _warn_of_calendar_gaps(operator_config: OperatorFile, today: date) -> None:
    warning = status.calendar_warning(operator_config, status.uncovered_years(operator_config, today))
    if warning:
        log.warning(warning)


def _keep_state(
    app: FastAPI,
    settings: Settings,
    engine: Engine,
    clock: Callable[[], datetime],
    operator_config: OperatorFile,
    client: httpx.Client,
) -> None:
    """What the routes read of the app (``api.deps``): settings, database, clock, operator file, clients."""
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.clock = clock
    app.state.operator_config = operator_config
    app.state.notifier = WebhookNotifier(settings.notifier_webhook_url, client)
    app.state.bot = BotClient(settings.rasa_url, settings.rasa_auth_token.get_secret_value(), client)
    app.state.scheduler_state = {}  # last run and last error, shown in /api/v1/status
    # the bot's models: the trainer started on "train" (none in tests unless asked), the model last served
    trainer_enabled = settings.trainer_enabled
    app.state.model_trainer = LocalTrainer(settings, app.state.session_factory, clock) if trainer_enabled else None
    app.state.served_model = {}


def _install_routes(app: FastAPI) -> None:
    install_error_handlers(app)
    app.add_middleware(BodyLimit, default=API_MAX_BODY_BYTES, by_prefix={"/console": console_pages.MAX_BODY_BYTES})
    app.add_middleware(metrics.ObservedRequests)  # outermost: counts what the others refuse too
    app.state.code_revision = metrics.code_revision()
    app.include_router(health.router)
    for area in JSON_API:
        app.include_router(area.router, prefix=API_PREFIX, responses=ERROR_RESPONSES)
    install_console(app)


def install_simulator(app: FastAPI, settings: Settings) -> None:
    """The WeChat stand-in: a fake platform API and a phone that pushes to the bot's webhook."""
    from api.simulator import routes as simulator
    from fake_wechat.platform import FakePlatform

    platform = FakePlatform(settings.wechat_app_id, settings.wechat_app_secret.get_secret_value())
    app.state.simulator_platform = platform
    app.state.simulator_phone = simulator.make_phone(settings, platform, httpx.AsyncClient())
    app.include_router(simulator.router)
