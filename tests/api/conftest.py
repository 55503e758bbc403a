"""Fixtures of the backend's tests: a fresh, migrated database per test, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from api.db import upgrade_database
from api.main import create_app
from api.operator_config import SAMPLE_PATH
from api.schemas import StaffUserCreate
from api.services import staff as staff_service
from api.services.bot_figures import CONVERSATION_FIGURES
from api.settings import Settings
from tests import domain

TEST_TOKEN = "test-api-token"


class FixedClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now


@dataclass
class FakeOutbound:
    """Stands in for Rasa's HTTP API and the notifier webhook; records what the backend sent."""

    rasa_calls: list[dict[str, Any]] = field(default_factory=list)
    webhook_calls: list[dict[str, Any]] = field(default_factory=list)
    rasa_up: bool = True
    # How many of the next calls Rasa takes but whose answer never comes back (a restart in between).
    rasa_answers_lost: int = 0
    webhook_up: bool = True
    # Rasa answers with the bot's messages in its HTTP body (no output channel took them).
    rasa_returns_messages: bool = False
    # Conversations by sender (Rasa's tracker events) and the WeChat channel's outbox.
    trackers: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    state_reads: list[str] = field(default_factory=list)  # the conversations whose state alone was read
    outbox_rows: list[dict[str, Any]] = field(default_factory=list)
    # What the channel's outbox makes of the next staff message: sent, pending or undelivered.
    channel_status: str = "sent"
    # The channel's view of each resident's 48-hour window (GET outbox?openid= answers it).
    windows: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Photos the channel keeps (GET /webhooks/wechat/media/{id}); channel_media_up False answers 503.
    media: dict[str, bytes] = field(default_factory=dict)
    channel_media_up: bool = True
    # Every call to the channel's staff endpoints (path), to count the reads of the outbox.
    channel_calls: list[str] = field(default_factory=list)
    # The times before which the channel was asked to prune what it keeps (12.1).
    pruned: list[float] = field(default_factory=list)
    # The bot's figures per day the channel counts from the conversations (GET .../figures), by day.
    figures: dict[str, dict[str, int]] = field(default_factory=dict)
    channel_figures_up: bool = True
    # The (resident, message id) whose answer the channel sent out (GET .../answered).
    answered: set[tuple[str, str]] = field(default_factory=set)
    # The WeChat channel's staff endpoints answer (False: 503, as while the Rasa server restarts).
    channel_up: bool = True
    # Followers the platform counts, and the announcements the channel mass-sent, by key (their texts);
    # the next sending's fate when it is not "sent": "unknown" (a timeout) or "refused" (45028, no quota).
    followers: int = 0
    announced: dict[str, dict[str, Any]] = field(default_factory=dict)
    next_announcement: str = "sent"

    def channel(self, request: httpx.Request, body: Any) -> httpx.Response:
        """The WeChat channel's staff endpoints, behind the Rasa token as a bearer token."""
        if request.headers.get("Authorization") != "Bearer test-rasa-token":
            return httpx.Response(401, json={"detail": "a valid bearer token is required"})
        self.channel_calls.append(request.url.path)
        if not self.channel_up:
            return httpx.Response(503, json={"detail": "the Rasa server is starting"})
        if "/media/" in request.url.path:
            if not self.channel_media_up:
                return httpx.Response(503, json={"detail": "the platform is unavailable"})
            found = self.media.get(request.url.path.rsplit("/", 1)[1])
            if found is None:
                return httpx.Response(404, json={"detail": "no such media"})
            return httpx.Response(200, content=found, headers={"Content-Type": "image/png"})
        if request.url.path.endswith("/figures"):
            if not self.channel_figures_up:
                return httpx.Response(503, json={"detail": "the conversation store is not loaded yet"})
            first, last = (date.fromisoformat(request.url.params[k]) for k in ("first", "last"))
            days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
            zero = dict.fromkeys(CONVERSATION_FIGURES, 0)
            counted = [{"day": d.isoformat(), **zero, **self.figures.get(d.isoformat(), {})} for d in days]
            return httpx.Response(200, json={"days": counted})
        if request.url.path.endswith("/last-written"):
            asked_for = request.url.params.get_list("openid")
            written = {o: self.windows[o]["last_inbound_at"] for o in asked_for if o in self.windows}
            return httpx.Response(200, json={"last_written": written})
        if request.url.path.endswith("/answered"):
            asked = (request.url.params["openid"], request.url.params["message_id"])
            return httpx.Response(200, json={"answered": asked in self.answered})
        if request.url.path.endswith("/prune"):
            self.pruned.append(body["before"])
            return httpx.Response(200, json={"messages": 0, "photos": 0, "events": 0})
        if request.url.path.endswith("/forget"):
            gone = [r for r in self.outbox_rows if r["openid"] == body["openid"]]
            self.outbox_rows = [r for r in self.outbox_rows if r["openid"] != body["openid"]]
            photos = [m for m in body["media_ids"] if self.media.pop(m, None) is not None]
            events = self.trackers.pop(body["openid"], [])
            return httpx.Response(200, json={"messages": len(gone), "photos": len(photos), "events": len(events)})
        if request.url.path.endswith("/followers"):
            return httpx.Response(200, json={"total": self.followers})
        if request.url.path.endswith("/announcements"):
            return self.announce(body)
        if request.url.path.endswith("/send"):
            row = {
                "id": len(self.outbox_rows) + 1,
                "openid": body["openid"],
                "text": body["text"],
                "status": self.channel_status,
                "via": "custom" if self.channel_status == "sent" else None,
            }
            self.outbox_rows.append(row)
            return httpx.Response(201, json={"messages": [row]})
        openid = request.url.params.get("openid")
        rows = [r for r in reversed(self.outbox_rows) if openid in (None, r["openid"])]
        return httpx.Response(200, json={"messages": rows, "window": self.windows.get(openid or "")})

    def announce(self, body: dict[str, Any]) -> httpx.Response:
        """As the channel does: once per key, the record answered for a key asked again."""
        known = self.announced.get(body["key"])
        if known is None:
            fate, self.next_announcement = self.next_announcement, "sent"
            known = {"status": fate, "text": body["text"]}
            if fate == "sent":
                known["msg_id"] = str(1000 + len(self.announced))
            if fate == "refused":
                known.update(errcode=45028, detail="has no masssend quota")
            self.announced[body["key"]] = known
        status = {"sent": 201, "unknown": 409, "refused": 422}[known["status"]]
        return httpx.Response(status, json={k: v for k, v in known.items() if k != "text"})

    def handler(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content or b"null")
        if request.url.host == "rasa.test":
            if not self.rasa_up:
                raise httpx.ConnectError("connection refused", request=request)
            if request.url.path.startswith("/webhooks/wechat/"):
                return self.channel(request, body)
            if request.url.params.get("token") != "test-rasa-token":
                return httpx.Response(401, json={"message": "User is not authenticated."})
            parts = request.url.path.strip("/").split("/")
            if parts[-1:] == ["trigger_intent"] and body.get("name") not in domain.intents():
                # as Rasa answers an intent its domain does not have: the notice would never go out
                return httpx.Response(404, json={"message": f"The intent '{body.get('name')}' does not exist"})
            if (
                request.method == "GET"
                and parts[-1:] == ["tracker"]
                and request.url.params.get("include_events") == "NONE"
            ):
                # the state alone, as Rasa's tracker gives it (the scheduler asks before sending a resident a
                # message): the active loop (the last active_loop event's) and the latest event's time
                events = self.trackers.get(parts[1], [])
                self.state_reads.append(parts[1])
                loop = next((e.get("name") for e in reversed(events) if e.get("event") == "active_loop"), None)
                latest = max((e["timestamp"] for e in events if "timestamp" in e), default=None)
                state = {
                    "sender_id": parts[1],
                    "latest_event_time": latest,
                    "active_loop": {"name": loop} if loop else {},
                }
                return httpx.Response(200, json=state)
            self.rasa_calls.append({"path": request.url.path, "params": dict(request.url.params), "body": body})
            if self.rasa_answers_lost:
                self.rasa_answers_lost -= 1
                raise httpx.ReadError("the connection closed before the answer", request=request)
            if len(parts) >= 3 and parts[0] == "conversations" and parts[2] == "tracker":
                events = self.trackers.setdefault(parts[1], [])
                if len(parts) == 4 and request.method == "POST":  # .../tracker/events
                    events.extend(body)
                return httpx.Response(200, json={"sender_id": parts[1], "events": events})
            if parts[-1:] == ["execute"] and body.get("name") == "action_deactivate_loop":
                self.trackers.setdefault(parts[1], []).append({"event": "active_loop", "name": None})
                return httpx.Response(200, json={"tracker": {}, "messages": []})
            messages = [{"recipient_id": "x", "text": "【停热通知】…"}] if self.rasa_returns_messages else []
            return httpx.Response(200, json={"tracker": {}, "messages": messages})
        if request.url.host == "notify.test":
            if not self.webhook_up:
                return httpx.Response(503)
            self.webhook_calls.append(body)
            return httpx.Response(204)
        return httpx.Response(404)


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
def outbound() -> FakeOutbound:
    return FakeOutbound()


@pytest.fixture
def make_client(database_url: str, clock: FixedClock, outbound: FakeOutbound) -> Iterator[Callable[..., TestClient]]:
    """Builds a client of a real app on the test's database; disposes it afterwards."""
    apps = []

    def build(**overrides: object) -> TestClient:
        values: dict[str, Any] = {
            "database_url": database_url,
            "api_token": TEST_TOKEN,
            "app_env": "test",
            "rasa_url": "http://rasa.test",
            "rasa_auth_token": "test-rasa-token",
            "notifier_webhook_url": "http://notify.test/hook",
            "scheduler_enabled": False,
            "password_hash_rounds": 4,
            # the check that a filer heard the number adds a message per order; its own tests turn it on
            "filed_number_check_seconds": 0,
            **overrides,
        }
        settings = Settings(**values)
        http = httpx.Client(transport=httpx.MockTransport(outbound.handler))
        app = create_app(settings, clock=clock, http_client=http)
        apps.append(app)
        return TestClient(app, raise_server_exceptions=False)

    yield build
    for app in apps:
        app.state.engine.dispose()


@pytest.fixture
def client_settings() -> dict[str, Any]:
    """Settings of the test app for ``client`` and ``browser``; a module may override it (its own operator file)."""
    return {}


@pytest.fixture
def client(make_client: Callable[..., TestClient], client_settings: dict[str, Any]) -> TestClient:
    return make_client(**client_settings)


@pytest.fixture
def auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {TEST_TOKEN}"}


PASSWORD = "correct horse 1"


# What a step must record that the tests do not vary (a dispatch names its technician, 10.2.5).
STEP_BODIES: dict[str, dict[str, Any]] = {"dispatch": {"technician": "王师傅"}}


def operator_file(tmp_path: Path, **company: object) -> str:
    """The sample operator file with some of its company facts changed (``users=300``), for make_client's
    ``operator_config``."""
    data = yaml.safe_load(SAMPLE_PATH.read_text(encoding="utf-8"))
    data["company"].update(company)
    path = tmp_path / "operator.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return str(path)


def temperature_record(*readings: float, **fields: object) -> dict[str, Any]:
    """A room-temperature test's record as a technician completes it (5.4.6: three readings; 5.4.5: the
    thermometer; 10.3 第1条 a: signed on paper unless ``fields`` say otherwise); one reading given is read
    three times."""
    return {
        "readings": list(readings) * 3 if len(readings) == 1 else list(readings),
        "instrument": "数字式温度计 T-07",
        "resolution": "0.1",
        "room": "bedroom",
        "signature": "paper",
        "note": "居民已在测温记录上签字",
        **fields,
    }


def act(client: TestClient, who: dict[str, str], order_id: int, action: str, **body: object) -> httpx.Response:
    """One action on an order, with the body given (None when empty), as a client sends it."""
    return client.post(f"/api/v1/work-orders/{order_id}/actions/{action}", json=body or None, headers=who)


def act_ok(client: TestClient, who: dict[str, str], order_id: int, *actions: str) -> None:
    """Apply the actions to the order in turn (with STEP_BODIES); each must succeed."""
    for action in actions:
        done = act(client, who, order_id, action, **STEP_BODIES.get(action, {}))
        assert done.status_code == 200, done.text


def to_site(client: TestClient, who: dict[str, str], order_id: int) -> None:
    """Respond, dispatch and arrive: staff are on site."""
    act_ok(client, who, order_id, "respond", "dispatch", "arrive")


def add_staff_user(
    client: TestClient, username: str, role: str, password: str = PASSWORD, display_name: str | None = None
) -> None:
    """A staff account stored as `make admin` stores it (the API's machine token may not create one)."""
    data = StaffUserCreate(username=username, display_name=display_name or role, role=role, password=password)  # type: ignore[arg-type]
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        staff_service.create_staff_user(session, data, datetime.now(UTC), rounds=4)


@pytest.fixture
def staff(client: TestClient) -> Callable[[str], dict[str, str]]:
    """Creates a staff user of a role and returns their login headers."""

    def login_as(role: str) -> dict[str, str]:
        username = f"{role}-{uuid.uuid4().hex[:6]}"
        add_staff_user(client, username, role)
        token = client.post("/api/v1/auth/login", json={"username": username, "password": "correct horse 1"})
        assert token.status_code == 200, token.text
        return {"Authorization": f"Bearer {token.json()['token']}"}

    return login_as


@pytest.fixture
def agent(staff: Callable[[str], dict[str, str]]) -> dict[str, str]:
    """Login headers of an agent, who works orders."""
    return staff("agent")


@pytest.fixture
def supervisor(staff: Callable[[str], dict[str, str]]) -> dict[str, str]:
    """Login headers of a supervisor, who approves returns, extensions, cancellations and notices."""
    return staff("supervisor")


class Browser:
    """One member of staff's browser: cookies, and the CSRF token the pages carry."""

    def __init__(self, client: TestClient):
        self.client = client
        self.csrf = ""

    def login(self, username: str, password: str = PASSWORD) -> object:
        form = self.client.get("/console/login")
        nonce = re.search(r'name="nonce" value="([^"]+)"', form.text)
        assert nonce, form.text
        answer = self.client.post(
            "/console/login",
            data={"username": username, "password": password, "nonce": nonce.group(1)},
            follow_redirects=False,
        )
        if answer.status_code == 303:  # to the role's start page: the desk's chats, a technician's orders
            self.csrf = self.token_of(self.get(answer.headers["location"]).text)
        return answer

    @staticmethod
    def token_of(page: str) -> str:
        found = re.search(r'"X-CSRF-Token": "([0-9a-f]+)"', page)
        assert found, page[:500]
        return found.group(1)

    def get(self, path: str, **kwargs: object):  # type: ignore[no-untyped-def]
        return self.client.get(path, follow_redirects=False, **kwargs)  # type: ignore[arg-type]

    def post(self, path: str, data: dict | None = None, csrf: bool = True, htmx: bool = True):  # type: ignore[no-untyped-def]
        headers = {"HX-Request": "true"} if htmx else {}
        if csrf:
            headers["X-CSRF-Token"] = self.csrf
        return self.client.post(path, data=data or {}, headers=headers, follow_redirects=False)


# Display names of the browser fixture's staff ("agent2" is shown as 坐席甲2): pages name people by them.
DISPLAY_NAMES = {"agent": "坐席甲", "supervisor": "班长乙", "admin": "管理员丙", "technician": "维修丁"}


@pytest.fixture
def browser(
    make_client: Callable[..., TestClient], client: TestClient, client_settings: dict[str, Any]
) -> Callable[[str], Browser]:
    """A logged-in browser for a new member of staff of a role."""
    count = 0

    def open_as(role: str) -> Browser:
        nonlocal count
        count += 1
        username = f"{role}{count}"
        add_staff_user(client, username, role, display_name=f"{DISPLAY_NAMES[role]}{count}")
        b = Browser(make_client(**client_settings))
        assert b.login(username).status_code == 303
        return b

    return open_as
