"""`make backup` and `make restore` (scripts/stack/backup.py) on SQLite files and on the real PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import urllib.parse
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import stack  # noqa: E402

# The tables each store's migrations make, reduced to what a backup has to carry.
SCHEMAS = {
    "api": [
        "CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)",
        "CREATE TABLE work_orders (id INTEGER PRIMARY KEY, number VARCHAR(20), description TEXT)",
        "CREATE TABLE work_order_events (id INTEGER PRIMARY KEY, order_id INTEGER, kind VARCHAR(20))",
        "CREATE TABLE canned_replies (id INTEGER PRIMARY KEY, title TEXT, created_by VARCHAR(64))",
        "INSERT INTO alembic_version VALUES ('0024')",
        "INSERT INTO canned_replies (title, created_by) VALUES ('您好', 'system')",
    ],
    "channel": [
        "CREATE TABLE alembic_version_channel (version_num VARCHAR(32) PRIMARY KEY)",
        "CREATE TABLE wechat_outbox (id INTEGER PRIMARY KEY, openid VARCHAR(64), text TEXT)",
        "INSERT INTO alembic_version_channel VALUES ('c005')",
    ],
    "spool": [
        "CREATE TABLE alembic_version_spool (version_num VARCHAR(32) PRIMARY KEY)",
        "CREATE TABLE waiting (id INTEGER PRIMARY KEY, sender_id VARCHAR(255))",
        "INSERT INTO alembic_version_spool VALUES ('s001')",
    ],
    "tracker": [
        "CREATE TABLE alembic_version_tracker (version_num VARCHAR(32) PRIMARY KEY)",
        "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255), type_name VARCHAR(255), data TEXT)",
        "INSERT INTO alembic_version_tracker VALUES ('t002')",
    ],
}
FILED = [
    "INSERT INTO work_orders (number, description) VALUES ('GD20261208000001', '暖气不热，屋里15度')",
    "INSERT INTO work_order_events (order_id, kind) VALUES (1, 'created'), (1, 'responded')",
]
SAID = ["INSERT INTO events (sender_id, type_name, data) VALUES ('oRESIDENT', 'user', '{\"text\": \"暖气不热\"}')"]


def sqlite_env(folder: Path, **overrides: str) -> dict[str, str]:
    """The embedded configuration with its four SQLite stores (and models) under ``folder``, on ports
    where nothing listens."""
    return stack.load_env(
        {
            "APP_ENV": "test",
            "API_URL": f"http://127.0.0.1:{stack.free_port()}",
            "RASA_URL": f"http://127.0.0.1:{stack.free_port()}",
            "ACTION_SERVER_URL": f"http://127.0.0.1:{stack.free_port()}",
            "DATABASE_URL": f"sqlite:///{folder / 'api.sqlite3'}",
            "WECHAT_OUTBOX_DB": f"sqlite:///{folder / 'wechat.sqlite3'}",
            "ACTION_SPOOL_DB": f"sqlite:///{folder / 'filing_spool.sqlite3'}",
            "RASA_TRACKER_DB": str(folder / "rasa_tracker.sqlite3"),
            "RASA_ENDPOINTS": "endpoints.yml",
            "BOT_MODELS_DIR": str(folder / "models"),
            **overrides,
        }
    )


def sqlite_file(env: dict[str, str], store: str) -> Path:
    return Path(stack.store_urls(env)[store].removeprefix("sqlite:///"))


def execute(path: Path, statements: list[str]) -> None:
    with sqlite3.connect(path) as connection:
        for statement in statements:
            connection.execute(statement)
    connection.close()


def rows(path: Path, table: str) -> list[tuple[object, ...]]:
    connection = sqlite3.connect(path)
    try:
        return list(connection.execute(f"SELECT * FROM {table} ORDER BY id"))
    finally:
        connection.close()


@pytest.fixture
def live(tmp_path: Path) -> dict[str, str]:
    """A running installation's stores: an order with its events, a conversation, a candidate model."""
    env = sqlite_env(tmp_path / "live")
    (tmp_path / "live").mkdir()
    for store, schema in SCHEMAS.items():
        execute(sqlite_file(env, store), ["PRAGMA journal_mode=WAL", *schema])
    execute(sqlite_file(env, "api"), FILED)
    execute(sqlite_file(env, "tracker"), SAID)
    candidate = Path(env["BOT_MODELS_DIR"]) / "7"
    candidate.mkdir(parents=True)
    (candidate / "model.tar.gz").write_bytes(b"a trained model" * 100)
    (candidate / "training.yml").write_text("nlu: []\n", encoding="utf-8")
    return env


def test_a_backup_holds_every_store_and_the_models_with_checksums_and_revisions(
    live: dict[str, str], tmp_path: Path
) -> None:
    manifest = stack.backup(live, tmp_path / "backup")
    folder = tmp_path / "backup"
    assert json.loads((folder / "manifest.json").read_text(encoding="utf-8")) == manifest
    by_file = {entry["file"]: entry for entry in manifest["files"]}
    assert set(by_file) == {"api.sqlite3", "channel.sqlite3", "spool.sqlite3", "tracker.sqlite3", "models.tar"}
    for name, entry in by_file.items():
        assert entry["sha256"] == stack.sha256_of(folder / name)
        assert entry["size"] == (folder / name).stat().st_size
    assert by_file["api.sqlite3"]["revisions"] == {"api": "0024"}
    assert by_file["tracker.sqlite3"]["revisions"] == {"tracker": "t002"}
    assert by_file["api.sqlite3"]["rows"]["work_order_events"] == 2
    assert by_file["models.tar"]["files"] == 2
    assert not list(tmp_path.glob("*.partial"))


def test_the_backup_is_named_by_beijing_time_whatever_the_servers_zone(
    live: dict[str, str], server_in_utc: None
) -> None:
    now = stack.beijing_now()
    assert now.utcoffset() == timedelta(hours=8)
    folder = stack.default_folder({})
    assert folder.parent == stack.VAR / "backups"
    assert abs(int(folder.name[9:11]) - now.hour) in (0, 23)  # the hour of Beijing, not of UTC
    created = stack.backup(live, stack.default_folder({"BACKUP_DIR": str(Path(live["BOT_MODELS_DIR"]).parent / "b")}))
    assert created["created_at"].endswith("+08:00")


def test_a_copy_taken_while_a_writer_writes_holds_whole_transactions(live: dict[str, str], tmp_path: Path) -> None:
    """The online backup API copies a consistent state: each transaction writes two events, so every copy
    holds an even number of them, whatever moment it was taken at."""
    api = sqlite_file(live, "api")
    stop = threading.Event()

    def file_orders() -> None:
        connection = sqlite3.connect(api, timeout=30)
        while not stop.is_set():
            with connection:
                connection.execute("INSERT INTO work_order_events (order_id, kind) VALUES (1, 'noted')")
                connection.execute("INSERT INTO work_order_events (order_id, kind) VALUES (1, 'noted')")
        connection.close()

    writer = threading.Thread(target=file_orders)
    writer.start()
    try:
        copies = [stack.backup(live, tmp_path / f"backup-{i}") for i in range(3)]
    finally:
        stop.set()
        writer.join()
    for manifest in copies:
        counted = next(e for e in manifest["files"] if e["file"] == "api.sqlite3")["rows"]["work_order_events"]
        assert counted % 2 == 0


def test_a_restore_into_empty_files_brings_back_every_order_event_conversation_and_model(
    live: dict[str, str], tmp_path: Path
) -> None:
    stack.backup(live, tmp_path / "backup")
    empty = sqlite_env(tmp_path / "new")
    steps = stack.restore(empty, tmp_path / "backup", migrate=False)
    assert sorted(s.target.stores for s in steps) == [("api",), ("channel",), ("spool",), ("tracker",)]
    for store, table in (("api", "work_orders"), ("api", "work_order_events"), ("tracker", "events")):
        assert rows(sqlite_file(empty, store), table) == rows(sqlite_file(live, store), table)
    model = Path(empty["BOT_MODELS_DIR"]) / "7" / "model.tar.gz"
    assert model.read_bytes() == b"a trained model" * 100


def test_a_target_that_holds_data_is_refused_unless_forced(live: dict[str, str], tmp_path: Path) -> None:
    stack.backup(live, tmp_path / "backup")
    other = sqlite_env(tmp_path / "other")
    (tmp_path / "other").mkdir()
    for store, schema in SCHEMAS.items():
        execute(sqlite_file(other, store), schema)
    execute(sqlite_file(other, "api"), ["INSERT INTO work_orders (number) VALUES ('GD20261201000009')"])
    before = sqlite_file(other, "api").read_bytes()
    with pytest.raises(stack.StackError) as refused:
        stack.restore(other, tmp_path / "backup", migrate=False)
    assert "work_orders" in str(refused.value) and "FORCE=1" in str(refused.value)
    assert sqlite_file(other, "api").read_bytes() == before
    stack.restore(other, tmp_path / "backup", force=True, migrate=False)
    assert rows(sqlite_file(other, "api"), "work_orders") == rows(sqlite_file(live, "api"), "work_orders")


def test_a_freshly_migrated_target_counts_as_empty(live: dict[str, str], tmp_path: Path) -> None:
    """`make setup` makes the tables and the starter quick replies: nothing a restore may not replace."""
    stack.backup(live, tmp_path / "backup")
    migrated = sqlite_env(tmp_path / "migrated")
    (tmp_path / "migrated").mkdir()
    for store, schema in SCHEMAS.items():
        execute(sqlite_file(migrated, store), schema)
    stack.restore(migrated, tmp_path / "backup", migrate=False)
    assert rows(sqlite_file(migrated, "api"), "work_orders") == rows(sqlite_file(live, "api"), "work_orders")


def damage(folder: Path) -> None:
    copy = folder / "tracker.sqlite3"
    data = bytearray(copy.read_bytes())
    data[-1] ^= 0xFF
    copy.write_bytes(bytes(data))


def not_ours(folder: Path) -> None:
    (folder / "manifest.json").write_text(json.dumps({"kind": "something-else", "files": []}), encoding="utf-8")


def lost_file(folder: Path) -> None:
    (folder / "spool.sqlite3").unlink()


@pytest.mark.parametrize(
    ("spoil", "said"),
    [
        (damage, "does not match its checksum"),
        (not_ours, "is not the manifest of this product's backup"),
        (lost_file, "lacks spool.sqlite3"),
        (lambda folder: (folder / "manifest.json").unlink(), "has no manifest.json"),
    ],
)
def test_a_bad_backup_is_one_clear_error_and_touches_nothing(
    live: dict[str, str], tmp_path: Path, spoil: object, said: str
) -> None:
    stack.backup(live, tmp_path / "backup")
    spoil(tmp_path / "backup")  # type: ignore[operator]
    empty = sqlite_env(tmp_path / "new")
    with pytest.raises(stack.StackError) as refused:
        stack.restore(empty, tmp_path / "backup", migrate=False)
    assert said in str(refused.value)
    assert not (tmp_path / "new").exists()


def test_a_missing_backup_directory_is_named(tmp_path: Path) -> None:
    with pytest.raises(stack.StackError, match="does not exist"):
        stack.restore(sqlite_env(tmp_path / "new"), tmp_path / "nowhere", migrate=False)


def test_a_restore_under_the_running_product_is_refused(live: dict[str, str], tmp_path: Path) -> None:
    stack.backup(live, tmp_path / "backup")
    with socket.socket() as api:
        api.bind(("127.0.0.1", 0))
        api.listen()
        running = sqlite_env(tmp_path / "new", API_URL=f"http://127.0.0.1:{api.getsockname()[1]}")
        with pytest.raises(stack.StackError, match="stop it before a restore"):
            stack.restore(running, tmp_path / "backup", migrate=False)
    assert not (tmp_path / "new").exists()


def test_a_backup_refuses_a_folder_that_holds_files(live: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "notes.txt").write_text("x", encoding="utf-8")
    with pytest.raises(stack.StackError, match="not an empty directory"):
        stack.backup(live, tmp_path / "used")


def test_the_command_line_says_what_is_missing_in_one_line(tmp_path: Path) -> None:
    for args, said in (([], "name the backup to restore"), ([str(tmp_path / "nowhere")], "does not exist")):
        done = subprocess.run(
            [sys.executable, "scripts/stack", "restore", *args], cwd=ROOT, capture_output=True, text=True
        )
        assert done.returncode == 2 and said in done.stdout and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://heating:s3cret-Passw0rd@db:5432/heating", "postgresql://heating:***@db:5432/heating"),
        ("postgresql://heating@db/heating", "postgresql://heating@db/heating"),
        ("sqlite:////srv/api.sqlite3", "sqlite:////srv/api.sqlite3"),
        (
            "postgresql://heating@db/heating?password=s3cret&sslmode=require",
            "postgresql://heating@db/heating?password=***&sslmode=require",
        ),
    ],
)
def test_passwords_are_masked_in_what_is_shown(url: str, shown: str) -> None:
    assert stack.mask(url) == shown


def test_a_password_reaches_the_client_programs_only_through_their_environment() -> None:
    target, env = stack.libpq("postgresql://heating:s3cret@db:5432/heating?sslmode=require")
    assert target == "postgresql://heating@db:5432/heating?sslmode=require"
    assert env["PGPASSWORD"] == "s3cret"


# --------------------------------------------------------------------------- the tracker store's address


def rasa_tracker_url(env: dict[str, str]) -> str:
    """The tracker store's URL as bot/stores.py builds it with Rasa itself."""
    if not Path(stack.BOT_VENV.bin("python")).exists():
        pytest.skip(".venv/bot is not set up")
    done = subprocess.run(
        [stack.BOT_VENV.bin("python"), "-c", "import bot.stores as s; print(s.tracker_url())"],
        cwd=ROOT,
        env={**env, "PYTHONWARNINGS": "ignore"},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize("scaled", [False, True])
def test_the_tracker_store_is_found_where_rasa_finds_it(scaled: bool, tmp_path: Path) -> None:
    env = stack.load_env(
        {
            "RASA_TRACKER_DB": "heating_bot_x" if scaled else str(tmp_path / "t.sqlite3"),
            "RASA_TRACKER_PASSWORD": "p w@x:y",
        },
        scaled=scaled,
    )
    assert parts(stack.tracker_url(env)) == parts(rasa_tracker_url(env))


def parts(url: str) -> tuple[object, ...]:
    """What a database URL says, however its password is quoted."""
    split = urllib.parse.urlsplit(stack.normalized(url))
    password = urllib.parse.unquote(split.password) if split.password else None
    return split.scheme, split.username, password, split.hostname, split.port, urllib.parse.unquote(split.path)


# --------------------------------------------------------------------------- PostgreSQL


def postgres_server() -> str:
    url = stack.load_env().get("TEST_POSTGRES_URL") or "postgresql://postgres@127.0.0.1:5432/test"
    try:
        stack.psql(url, "SELECT 1")
    except stack.StackError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI and not reachable: {exc}")
        pytest.skip("PostgreSQL not reachable (TEST_POSTGRES_URL)")
    return url.rsplit("/", 1)[0]


@pytest.fixture
def pg_names() -> Iterator[list[str]]:
    """Database names of this test's own on the test server, dropped at the end."""
    server = postgres_server()
    names = [f"backup_{uuid.uuid4().hex[:10]}_{i}" for i in range(4)]
    yield names
    for name in names:
        stack.psql(f"{server}/postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def in_postgresql(statements: list[str]) -> str:
    return ";".join(s.replace("INTEGER PRIMARY KEY", "SERIAL PRIMARY KEY") for s in statements)


def scaled_env(server: str, backend: str, conversations: str, tmp_path: Path) -> dict[str, str]:
    """The scaled configuration's stores: the backend's database, and the conversation side's three
    stores in one other database (as deploy/scaled.env has them)."""
    host_port = server.split("@")[-1].removeprefix("postgresql://")
    return sqlite_env(
        tmp_path,
        DATABASE_URL=f"{server}/{backend}",
        WECHAT_OUTBOX_DB=f"{server}/{conversations}",
        ACTION_SPOOL_DB=f"{server}/{conversations}",
        RASA_ENDPOINTS="deploy/endpoints.scaled.yml",
        RASA_TRACKER_HOST=host_port.split(":")[0],
        RASA_TRACKER_PORT=host_port.split(":")[1] if ":" in host_port else "5432",
        RASA_TRACKER_USER="postgres",
        RASA_TRACKER_PASSWORD="",
        RASA_TRACKER_DB=conversations,
    )


def test_postgresql_databases_are_dumped_once_each_and_restored_into_new_ones(
    pg_names: list[str], tmp_path: Path
) -> None:
    server = postgres_server()
    live = scaled_env(server, pg_names[0], pg_names[1], tmp_path / "live")
    for name in pg_names[:2]:
        stack.psql(f"{server}/postgres", f'CREATE DATABASE "{name}"')
    stack.psql(f"{server}/{pg_names[0]}", in_postgresql([*SCHEMAS["api"], *FILED]))
    stack.psql(
        f"{server}/{pg_names[1]}", in_postgresql([*SCHEMAS["channel"], *SCHEMAS["spool"], *SCHEMAS["tracker"], *SAID])
    )

    manifest = stack.backup(live, tmp_path / "backup")
    dumps = {entry["file"]: entry for entry in manifest["files"] if entry["what"] == "database"}
    assert set(dumps) == {"api.dump", "channel+spool+tracker.dump"}
    assert dumps["channel+spool+tracker.dump"]["revisions"] == {"channel": "c005", "spool": "s001", "tracker": "t002"}

    restored = scaled_env(server, pg_names[2], pg_names[3], tmp_path / "restored")
    stack.restore(restored, tmp_path / "backup", migrate=False)
    for table, name in (("work_orders", 0), ("work_order_events", 0), ("events", 1)):
        query = f"SELECT * FROM {table} ORDER BY id"
        assert stack.psql(f"{server}/{pg_names[name + 2]}", query) == stack.psql(f"{server}/{pg_names[name]}", query)

    # the restored backend's database holds data now: a second restore is refused, then forced
    with pytest.raises(stack.StackError, match="work_orders"):
        stack.restore(restored, tmp_path / "backup", migrate=False)
    stack.restore(restored, tmp_path / "backup", force=True, migrate=False)
    assert len(stack.psql(f"{server}/{pg_names[2]}", "SELECT * FROM work_orders")) == 1


def test_a_dump_pg_restore_cannot_read_or_a_database_in_use_is_refused_before_anything_is_dropped(
    pg_names: list[str], tmp_path: Path
) -> None:
    server = postgres_server()
    live = scaled_env(server, pg_names[0], pg_names[1], tmp_path / "live")
    for name in pg_names[:2]:
        stack.psql(f"{server}/postgres", f'CREATE DATABASE "{name}"')
    stack.psql(f"{server}/{pg_names[0]}", in_postgresql([*SCHEMAS["api"], *FILED]))
    stack.backup(live, tmp_path / "backup")
    stack.backup(live, tmp_path / "unreadable")
    # a dump pg_restore cannot read, its checksum made to match (a newer pg_dump's, say)
    dump = tmp_path / "unreadable" / "api.dump"
    dump.write_bytes(b"PGDMP" + b"\xff" * 64)
    manifest_file = tmp_path / "unreadable" / "manifest.json"
    manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    for entry in manifest["files"]:
        if entry["file"] == "api.dump":
            entry["sha256"], entry["size"] = hashlib.sha256(dump.read_bytes()).hexdigest(), dump.stat().st_size
    manifest_file.write_text(json.dumps(manifest), encoding="utf-8")
    kept = "SELECT number FROM work_orders"
    with pytest.raises(stack.StackError, match="pg_restore cannot read api.dump"):
        stack.restore(live, tmp_path / "unreadable", force=True, migrate=False)
    assert stack.psql(f"{server}/{pg_names[0]}", kept) == [["GD20261208000001"]]
    # a session still open on the database (a process left running on another machine)
    import psycopg

    with psycopg.connect(f"{server}/{pg_names[0]}"), pytest.raises(stack.StackError, match="1 connection"):
        stack.restore(live, tmp_path / "backup", force=True, migrate=False)
    assert stack.psql(f"{server}/{pg_names[0]}", kept) == [["GD20261208000001"]]


def test_a_backup_is_readable_by_its_owner_only(live: dict[str, str], tmp_path: Path) -> None:
    """It holds every resident's data and staff's password hashes."""
    stack.backup(live, tmp_path / "backup")
    for path in [tmp_path / "backup", *(tmp_path / "backup").iterdir()]:
        assert path.stat().st_mode & 0o077 == 0, path


def test_a_dump_is_not_restored_into_sqlite(pg_names: list[str], tmp_path: Path) -> None:
    server = postgres_server()
    live = scaled_env(server, pg_names[0], pg_names[1], tmp_path / "live")
    for name in pg_names[:2]:
        stack.psql(f"{server}/postgres", f'CREATE DATABASE "{name}"')
    stack.backup(live, tmp_path / "backup")
    with pytest.raises(stack.StackError, match="configuration it was taken from"):
        stack.restore(sqlite_env(tmp_path / "new"), tmp_path / "backup", migrate=False)
    assert not (tmp_path / "new").exists()


# --------------------------------------------------------------------------- an older release's backup


def test_a_backup_of_an_older_release_comes_up_to_date(tmp_path: Path) -> None:
    """The backend's database backed up at an older migration is at the newest after the restore."""
    if not Path(stack.API_VENV.bin("alembic")).exists():
        pytest.skip(".venv/api is not set up")
    old = sqlite_env(tmp_path / "old")
    (tmp_path / "old").mkdir()
    alembic = [stack.API_VENV.bin("alembic"), "-c", "api/alembic.ini"]
    older = subprocess.run([*alembic, "upgrade", "0020"], cwd=ROOT, env=old, capture_output=True, text=True)
    assert older.returncode == 0, older.stderr
    for store in ("channel", "spool", "tracker"):
        execute(sqlite_file(old, store), [])
    heads = subprocess.run([*alembic, "heads"], cwd=ROOT, env=old, capture_output=True, text=True).stdout
    manifest = stack.backup(old, tmp_path / "backup")
    assert next(e for e in manifest["files"] if e["file"] == "api.sqlite3")["revisions"] == {"api": "0020"}

    new = sqlite_env(tmp_path / "new")
    stack.restore(new, tmp_path / "backup")
    migrated = stack.revisions(stack.Database(stack.store_urls(new)["api"], ("api",)))
    assert migrated["api"] != "0020" and migrated["api"] in heads
