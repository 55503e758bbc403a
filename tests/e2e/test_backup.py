"""`make backup` of the running product and `make restore` into empty databases (#28).

Residents file orders through the bot on the simulator's phone, staff act on them, and the product is
backed up while it runs. The backup is restored into databases that do not exist yet (new SQLite files,
new PostgreSQL databases), the product is started on the restored copy, and every order, each of its
events and each resident's conversation (Rasa's tracker) is found there as it was. Once on the embedded
configuration (SQLite) and once with the backend's database and the conversation side's stores (the
tracker store included) on PostgreSQL, as the scaled configuration keeps them.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import ROOT, stack, staff_token, start_product, tracker_events
from tests.e2e.test_walking_skeleton import phone

ORDER_NUMBER = re.compile(r"GD\d{14}")


@dataclass
class Recorded:
    """What staff and Rasa show before the backup: every order, each order's events, the conversations."""

    orders: dict[int, dict]
    events: dict[int, list[dict]]
    conversations: dict[str, list[dict]]


def file_orders(env: dict[str, str], residents: tuple[str, str]) -> list[str]:
    """A complaint and a repair filed through the bot on the simulator's phone; their numbers."""
    complainant, repair = residents
    phone(env, complainant, "text", "我家暖气不热 海景花园12栋1单元1202 电话13912345678")
    phone(env, complainant, "text", "16度")
    first = ORDER_NUMBER.findall(phone(env, complainant, "text", "是的")["reply"])
    phone(env, repair, "text", "我家暖气阀门坏了 阳光小区3号楼2单元501 电话13800138000")
    phone(env, repair, "text", "明天上午")
    second = ORDER_NUMBER.findall(phone(env, repair, "text", "对")["reply"])
    assert first and second, (first, second)
    return [first[0], second[0]]


def staff_act(env: dict[str, str], token: str, numbers: list[str]) -> None:
    """An agent responds to the orders ``numbers`` (each response an event of its own)."""
    agent = {"Authorization": f"Bearer {token}"}
    for order in every_order(env, token).values():
        if order["number"] in numbers:
            done = httpx.post(f"{env['API_URL']}/api/v1/work-orders/{order['id']}/actions/respond", headers=agent)
            assert done.status_code == 200, done.text


def every_order(env: dict[str, str], token: str) -> dict[int, dict]:
    """Every order the backend holds, as staff list them."""
    orders: dict[int, dict] = {}
    while True:
        page = httpx.get(
            env["API_URL"] + "/api/v1/work-orders",
            params={"limit": 500, "offset": len(orders)},
            headers={"Authorization": f"Bearer {token}"},
        ).json()
        orders.update({int(o["id"]): o for o in page["items"]})
        if not page["items"] or len(orders) >= page["total"]:
            return orders


def record(env: dict[str, str], token: str, residents: tuple[str, ...]) -> Recorded:
    orders = every_order(env, token)
    headers = {"Authorization": f"Bearer {token}"}
    events = {i: httpx.get(f"{env['API_URL']}/api/v1/work-orders/{i}/events", headers=headers).json() for i in orders}
    return Recorded(orders, events, {openid: tracker_events(env, openid) for openid in residents})


def back_up(env: dict[str, str], folder: Path) -> dict:
    """`make backup` with the running product's configuration; its manifest."""
    done = subprocess.run(
        [sys.executable, "scripts/stack", "backup", str(folder)], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return dict(json.loads((folder / "manifest.json").read_text(encoding="utf-8")))


def restore(env: dict[str, str], folder: Path) -> str:
    """`make restore FROM=folder` into ``env``'s stores; what it reported."""
    done = subprocess.run(
        [sys.executable, "scripts/stack", "restore", str(folder)], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def moved(env: dict[str, str], work: Path, stores: dict[str, str]) -> dict[str, str]:
    """``env`` on free ports with ``stores`` in place of its databases: the product on another machine."""
    fresh = {
        **env,
        "API_URL": f"http://127.0.0.1:{stack.free_port()}",
        "ACTION_SERVER_URL": f"http://127.0.0.1:{stack.free_port()}",
        "RASA_URL": f"http://127.0.0.1:{stack.free_port()}",
        "BOT_MODELS_DIR": str(work / "models"),
        "WECHAT_API_BASE_URL": "",
        **stores,
    }
    stack.use_simulator_by_default(fresh)
    return fresh


def assert_everything_found(restored: dict[str, str], token: str, before: Recorded) -> None:
    """Every order as it was, each of its events, each conversation's events in order."""
    after = record(restored, token, tuple(before.conversations))
    assert set(before.orders) <= set(after.orders)
    for order_id, order in before.orders.items():
        assert after.orders[order_id] == order
        assert [e for e in after.events[order_id] if e in before.events[order_id]] == before.events[order_id]
    for openid, events in before.conversations.items():
        assert events and after.conversations[openid][: len(events)] == events, openid


# --------------------------------------------------------------------------- the embedded configuration


def test_the_running_product_backed_up_and_restored_into_new_sqlite_files_has_everything(
    running_stack: dict[str, str], tmp_path: Path
) -> None:
    env = running_stack
    residents = ("oE2E-backup-1", "oE2E-backup-2")
    supervisor_token = env["E2E_SUPERVISOR_TOKEN"]
    numbers = file_orders(env, residents)
    staff_act(env, staff_token(env, "backup-agent", "agent"), numbers)
    before = record(env, supervisor_token, residents)
    assert set(numbers) <= {o["number"] for o in before.orders.values()}
    assert all(len(before.events[o["id"]]) >= 2 for o in before.orders.values() if o["number"] in numbers)

    manifest = back_up(env, tmp_path / "backup")  # while the product runs
    assert {e["file"] for e in manifest["files"]} >= {"api.sqlite3", "tracker.sqlite3", "channel.sqlite3"}

    work = tmp_path / "restored"
    restored = moved(
        env,
        work,
        {
            "DATABASE_URL": f"sqlite:///{work / 'api.sqlite3'}",
            "RASA_TRACKER_DB": str(work / "rasa_tracker.sqlite3"),
            "ACTION_SPOOL_DB": f"sqlite:///{work / 'filing_spool.sqlite3'}",
            "WECHAT_OUTBOX_DB": f"sqlite:///{work / 'wechat.sqlite3'}",
        },
    )
    assert not work.exists()  # empty: the files do not exist yet
    report = restore(restored, tmp_path / "backup")
    assert f"{len(before.orders)} orders" in report

    supervisor = start_product(restored, "backup-sqlite-logs")
    try:
        assert_everything_found(restored, supervisor_token, before)  # the staff's session was restored too
    finally:
        supervisor.stop()


# --------------------------------------------------------------------------- PostgreSQL


def postgres_stores(name: str) -> dict[str, str]:
    """The backend's database ``name`` and the conversation side's ``name``_bot (outbox, spool and Rasa's
    tracker store) on TEST_POSTGRES_URL's server, as deploy/scaled.env and endpoints.scaled.yml have them."""
    pg = urllib.parse.urlsplit(stack.load_env().get("TEST_POSTGRES_URL") or "postgresql://postgres@127.0.0.1:5432/test")
    server = pg._replace(path="").geturl()
    return {
        "DATABASE_URL": f"{server}/{name}",
        "WECHAT_OUTBOX_DB": f"{server}/{name}_bot",
        "ACTION_SPOOL_DB": f"{server}/{name}_bot",
        "RASA_ENDPOINTS": "deploy/endpoints.scaled.yml",
        "RASA_TRACKER_HOST": pg.hostname or "127.0.0.1",
        "RASA_TRACKER_PORT": str(pg.port or 5432),
        "RASA_TRACKER_USER": urllib.parse.unquote(pg.username or ""),
        "RASA_TRACKER_PASSWORD": urllib.parse.unquote(pg.password or ""),
        "RASA_TRACKER_DB": f"{name}_bot",
    }


@pytest.fixture
def postgres_names() -> Iterator[tuple[str, str]]:
    """Names for the live and the restored databases on the test server, dropped at the end."""
    base = stack.load_env().get("TEST_POSTGRES_URL") or "postgresql://postgres@127.0.0.1:5432/test"
    try:
        stack.psql(base, "SELECT 1")
    except stack.StackError as exc:
        if stack.load_env().get("CI"):
            pytest.fail(f"PostgreSQL is required in CI and not reachable: {exc}")
        pytest.skip("PostgreSQL not reachable (TEST_POSTGRES_URL)")
    unique = uuid.uuid4().hex[:8]
    names = (f"e2e_backup_{unique}", f"e2e_restored_{unique}")
    yield names
    for name in names:
        for database in (name, f"{name}_bot"):
            stack.psql(base, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)', "postgres")


def on_postgresql(name: str, work: Path) -> dict[str, str]:
    """`make run`'s three processes' environment with every database on PostgreSQL, made and migrated."""
    redis = urllib.parse.urlsplit(stack.load_env().get("TEST_REDIS_URL") or "redis://127.0.0.1:6379/15")
    env = stack.load_env(
        {
            "APP_ENV": "test",
            "API_URL": f"http://127.0.0.1:{stack.free_port()}",
            "ACTION_SERVER_URL": f"http://127.0.0.1:{stack.free_port()}",
            "RASA_URL": f"http://127.0.0.1:{stack.free_port()}",
            "API_TOKEN": "e2e-backup-api-token",
            "RASA_AUTH_TOKEN": "e2e-backup-rasa-token",
            "WECHAT_API_BASE_URL": "",
            "BOT_MODELS_DIR": str(work / "models"),
            "RASA_LOCK_REDIS_HOST": redis.hostname or "127.0.0.1",
            "RASA_LOCK_REDIS_PORT": str(redis.port or 6379),
            "RASA_LOCK_REDIS_DB": "12",
            **postgres_stores(name),
        }
    )
    stack.use_simulator_by_default(env)
    made = [stack.API_VENV.bin("python"), "scripts/create_databases.py", "--fresh"]
    stack.run([*made, env["DATABASE_URL"], env["WECHAT_OUTBOX_DB"]], env=env)
    stack.migrate(env)
    stack.migrate_conversation_stores(env)
    stack.use_repository_build(env, stack.ensure_model(env))
    return env


def test_a_backup_on_postgresql_restored_into_new_databases_has_everything(
    postgres_names: tuple[str, str], tmp_path: Path
) -> None:
    live, fresh = postgres_names
    env = on_postgresql(live, tmp_path / "live")
    residents = ("oE2E-backup-pg-1", "oE2E-backup-pg-2")
    supervisor = start_product(env, "backup-postgresql-logs")
    try:
        numbers = file_orders(env, residents)
        token = staff_token(env, "backup-pg-supervisor", "supervisor")
        staff_act(env, staff_token(env, "backup-pg-agent", "agent"), numbers)
        before = record(env, token, residents)
        manifest = back_up(env, tmp_path / "backup")  # while the product runs
    finally:
        supervisor.stop()
    dumps = {e["file"]: e for e in manifest["files"] if e["what"] == "database"}
    assert set(dumps) == {"api.dump", "channel+spool+tracker.dump"}
    assert dumps["channel+spool+tracker.dump"]["revisions"]["tracker"]
    assert {o["number"] for o in before.orders.values()} == set(numbers)

    restored = moved(env, tmp_path / "restored", postgres_stores(fresh))
    for variable in ("DATABASE_URL", "WECHAT_OUTBOX_DB"):  # empty: the databases do not exist yet
        assert not stack.pg_exists(stack.Database(stack.normalized(restored[variable]), ()))
    restore(restored, tmp_path / "backup")
    supervisor = start_product(restored, "backup-postgresql-restored-logs")
    try:
        assert_everything_found(restored, token, before)
    finally:
        supervisor.stop()
