"""The backend's application factory: ``uvicorn --factory api.main:create_app``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from fastapi import FastAPI

from api.db import make_engine, make_session_factory
from api.errors import install_error_handlers
from api.routes import health, work_orders
from api.settings import Settings, get_settings

API_PREFIX = "/api/v1"


def utc_now() -> datetime:
    """The real clock."""
    return datetime.now(UTC)


def create_app(settings: Settings | None = None, clock: Callable[[], datetime] = utc_now) -> FastAPI:
    """Build the app with its own engine; nothing is opened at import."""
    settings = settings or get_settings()
    settings.check_for_production()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    engine = make_engine(settings.sqlalchemy_url)
    app = FastAPI(
        title="供热客服工单系统 API",
        version="0.1.0",
        description="Work orders, deadlines and call-backs under the city's heating-service standard.",
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.clock = clock
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(work_orders.router, prefix=API_PREFIX)
    return app
