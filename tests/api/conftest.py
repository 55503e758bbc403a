"""Fixtures of the backend's tests: a fresh, migrated database per test, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from api.db import upgrade_database
from api.main import create_app
from api.settings import Settings

TEST_TOKEN = "test-api-token"


class FixedClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _postgres_url() -> str:
    raw = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    return Settings(database_url=raw).sqlalchemy_url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[str]:
    """A migrated, empty database of its own for each test."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/api.sqlite3"
        upgrade_database(url)
        yield url
        return
    base = _postgres_url()
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as exc:
        admin.dispose()
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI and not reachable: {exc}")
        pytest.skip("PostgreSQL not reachable (TEST_POSTGRES_URL)")
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    try:
        upgrade_database(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 12, 10, 2, 0, tzinfo=UTC))  # 10:00 in Shanghai


@pytest.fixture
def make_client(database_url: str, clock: FixedClock) -> Iterator[Callable[..., TestClient]]:
    """Builds a client of a real app on the test's database; disposes it afterwards."""
    apps = []

    def build(**overrides: object) -> TestClient:
        settings = Settings(database_url=database_url, api_token=TEST_TOKEN, app_env="test", **overrides)
        app = create_app(settings, clock=clock)
        apps.append(app)
        return TestClient(app, raise_server_exceptions=False)

    yield build
    for app in apps:
        app.state.engine.dispose()


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


@pytest.fixture
def auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {TEST_TOKEN}"}
