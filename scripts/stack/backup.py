"""Backups of every store that must not be lost, and their restore (`make backup`, `make restore`).

A backup is one directory: a copy of each database of the configuration the product runs with (the
backend's ``DATABASE_URL``; the channel's outbox ``WECHAT_OUTBOX_DB``, the action spool ``ACTION_SPOOL_DB``
and Rasa's tracker store, named by the endpoints file Rasa reads), the served models directory
(``BOT_MODELS_DIR``) as one tar file, and ``manifest.json``: what each file is, its sha256 and size, each
store's Alembic revision, when it was taken (Beijing time).

- SQLite: Python's online backup API (``sqlite3.Connection.backup``), a consistent copy while the
  processes write; PostgreSQL: ``pg_dump --format=custom``, one snapshot per database. A database
  holding several stores (the scaled configuration's ``heating_bot``) is copied once.
- A restore checks the manifest and every checksum, that each database of the configuration has its
  copy of the same kind, that the product is stopped and that no target holds data (``--force``
  replaces it), and only then writes: SQLite through the backup API again, PostgreSQL into a database
  made afresh with ``pg_restore --no-owner`` in one transaction; then it runs every store's
  migrations, so that a backup of an older release comes up to date.

Only the standard library and PostgreSQL's client programs; passwords never reach a command line or
the screen (``PGPASSWORD``; URLs are shown masked).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import tarfile
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from stack.config import ROOT, VAR, StackError, load_env, port_of, say

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")  # no daylight saving in China
MANIFEST = "manifest.json"
KIND = "heating-backup"
FORMAT = 1
MODELS_FILE = "models.tar"
# Where each store's database is named; the tracker store's comes from the endpoints file (below).
STORE_VARIABLES = {"api": "DATABASE_URL", "channel": "WECHAT_OUTBOX_DB", "spool": "ACTION_SPOOL_DB"}
STORES = ("api", "channel", "spool", "tracker")
VERSION_TABLES = {
    "api": "alembic_version",
    "channel": "alembic_version_channel",
    "spool": "alembic_version_spool",
    "tracker": "alembic_version_tracker",
}
# Rows the migrations themselves write (api/migrations/versions/0014: the starter quick replies): a
# database holding only these is as good as empty.
SEEDED = {"canned_replies": "created_by = 'system'"}
# What a restore reports, to be compared with what staff see: table -> what its rows are.
COUNTED = {
    "work_orders": "orders",
    "work_order_events": "order events",
    "events": "conversation events",
    "wechat_outbox": "outbox messages",
    "waiting": "orders waiting in the spool",
}
CHUNK = 1 << 20


# --------------------------------------------------------------------------- the configuration's stores


@dataclass(frozen=True)
class Database:
    """One database of the configuration and the stores it holds (several share one in PostgreSQL)."""

    url: str  # sqlite:////absolute/path, or a libpq URL postgresql://user:password@host:port/name
    stores: tuple[str, ...]

    @property
    def engine(self) -> str:
        return "sqlite" if self.url.startswith("sqlite:") else "postgresql"

    @property
    def path(self) -> Path:
        """The SQLite file."""
        return Path(self.url.removeprefix("sqlite:///"))

    @property
    def file_name(self) -> str:
        """The copy's name in the backup: the stores it holds, and the format."""
        return "+".join(self.stores) + (".sqlite3" if self.engine == "sqlite" else ".dump")

    @property
    def shown(self) -> str:
        return mask(self.url)


def mask(url: str) -> str:
    """The URL with its password replaced by ***, for messages and the manifest: in the address, and in
    a ``password=`` of the query (libpq's other way of giving one)."""
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    if parts.password is None and not any(k.lower() == "password" for k, _ in query):
        return url
    if query:
        shown = [(k, "***" if k.lower() == "password" else v) for k, v in query]
        parts = parts._replace(query=urllib.parse.urlencode(shown, safe="*"))
    if parts.password is None:
        return parts.geturl()
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"{user}:***@{host}").geturl()


def normalized(url: str) -> str:
    """One spelling per database: SQLite paths absolute from the project root (as the processes, started
    there, read them), SQLAlchemy's driver suffix (``+psycopg``) dropped for libpq."""
    if url.startswith("sqlite:"):
        path = url.removeprefix("sqlite:///")
        if not path or path == ":memory:":
            raise StackError(f"{url} is not a database file that can be backed up")
        return "sqlite:///" + str((ROOT / path).resolve())
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.split("+")[0] not in ("postgresql", "postgres"):
        raise StackError(f"a store at {mask(url)}: only SQLite and PostgreSQL databases are backed up")
    return "postgresql://" + rest


def endpoint_section(path: Path, section: str, env: dict[str, str]) -> dict[str, str | None]:
    """The flat ``key: value`` lines of one section of Rasa's endpoints file, with ``${VAR}`` expanded
    from ``env`` as Rasa expands them (an empty value reads as none, as YAML reads it)."""
    values: dict[str, str | None] = {}
    inside = False
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split(" #")[0].rstrip() if not raw.lstrip().startswith("#") else ""
        if not line:
            continue
        if not line[0].isspace():
            inside = line.rstrip(":").strip() == section
            continue
        key, sep, value = line.strip().partition(":")
        if inside and sep and line.startswith("  ") and not line.startswith("   "):
            value = re.sub(r"\$\{(\w+)\}", lambda m: env.get(m.group(1), ""), value.strip())
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            values[key.strip()] = value or None
    return values


def tracker_url(env: dict[str, str]) -> str:
    """Rasa's tracker store database, from the endpoints file Rasa reads (``RASA_ENDPOINTS``), built as
    Rasa's SQLTrackerStore builds it (bot/stores.py reads it with Rasa itself; a test keeps both equal)."""
    path = Path(env.get("RASA_ENDPOINTS") or "endpoints.yml")
    path = path if path.is_absolute() else ROOT / path
    if not path.exists():
        raise StackError(f"the endpoints file {path} does not exist (RASA_ENDPOINTS)")
    options = endpoint_section(path, "tracker_store", env)
    if (options.get("type") or "").lower() != "sql":
        raise StackError(f"{path} names no SQL tracker store: the conversations cannot be backed up")
    dialect, host, db = options.get("dialect") or "sqlite", options.get("url"), options.get("db") or "rasa.db"
    if dialect == "sqlite":
        return f"sqlite:///{db}"
    if host and "://" in host:
        return host
    quote = urllib.parse.quote
    user = quote(options.get("username") or "", safe="")
    password = options.get("password")
    credentials = user + (f":{quote(password, safe='')}" if password else "") + ("@" if user or password else "")
    port = f":{options['port']}" if options.get("port") else ""
    return f"{dialect}://{credentials}{host or ''}{port}/{quote(db, safe='')}"


def store_urls(env: dict[str, str]) -> dict[str, str]:
    """Each store's database, normalized."""
    urls = {store: env.get(variable, "") for store, variable in STORE_VARIABLES.items()}
    missing = [STORE_VARIABLES[store] for store, url in urls.items() if not url]
    if missing:
        raise StackError(f"{', '.join(missing)} is not set: which database to back up is unknown")
    urls["tracker"] = tracker_url(env)
    return {store: normalized(url) for store, url in urls.items()}


def databases(env: dict[str, str]) -> list[Database]:
    """The configuration's databases, each once, with the stores it holds."""
    urls = store_urls(env)
    grouped: dict[str, list[str]] = {}
    for store, url in urls.items():
        grouped.setdefault(identity(url), []).append(store)
    return [Database(urls[stores[0]], tuple(stores)) for stores in grouped.values()]


def identity(url: str) -> str:
    """What makes two URLs the same database (a user or a password does not)."""
    if url.startswith("sqlite:"):
        return url
    parts = urllib.parse.urlsplit(url)
    return f"postgresql://{parts.hostname or ''}:{parts.port or 5432}{parts.path}"


def models_dir(env: dict[str, str]) -> Path:
    """The served models directory (the backend's ``BOT_MODELS_DIR``, models/candidates by default)."""
    return ROOT / (env.get("BOT_MODELS_DIR") or "models/candidates")


# --------------------------------------------------------------------------- PostgreSQL's client programs


def pg_program(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise StackError(
            f"{name} is needed for the PostgreSQL databases and is not installed.\n"
            "  Install PostgreSQL's client programs (of the server's version or newer), then run the command "
            "again:  apt-get install postgresql-client"
        )
    return found


def libpq(url: str, database: str | None = None) -> tuple[str, dict[str, str]]:
    """The URL without its password (on a command line anyone may read it) and the environment with it."""
    parts = urllib.parse.urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    path = "/" + urllib.parse.quote(database, safe="") if database is not None else parts.path
    env = {**os.environ, "PGCONNECT_TIMEOUT": "10"}
    if parts.password is not None:
        env["PGPASSWORD"] = urllib.parse.unquote(parts.password)
    return parts._replace(netloc=netloc, path=path).geturl(), env


def pg_run(args: list[str], url: str, database: str | None = None, what: str = "") -> str:
    """Run a PostgreSQL client program against ``url`` (its last argument is the connection); its output.
    A failure is one message with the program's own words, the password masked."""
    target, env = libpq(url, database)
    done = subprocess.run([*args, target], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        detail = done.stderr.strip().splitlines()
        raise StackError(f"{what or Path(args[0]).name} failed on {mask(url)}: " + " / ".join(detail[-3:]))
    return done.stdout


def psql(url: str, sql: str, database: str | None = None) -> list[list[str]]:
    """Rows of one query, fields split."""
    out = pg_run([pg_program("psql"), "-XAqt", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql], url, database)
    return [line.split("\t") for line in out.splitlines() if line]


def pg_database_name(url: str) -> str:
    name = urllib.parse.unquote(urllib.parse.urlsplit(url).path.lstrip("/"))
    if not name:
        raise StackError(f"{mask(url)} names no database")
    return name


def quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


# --------------------------------------------------------------------------- what a database holds


def tables(db: Database) -> list[str]:
    if db.engine == "sqlite":
        with closing_sqlite(db.path) as connection:
            rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        return sorted(str(row[0]) for row in rows if not str(row[0]).startswith("sqlite_"))
    rows = psql(db.url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    return [row[0] for row in rows]


def with_data(db: Database) -> list[str]:
    """The tables of ``db`` that hold rows, other than the migrations' own (version tables, seeded rows)."""
    if db.engine == "sqlite" and not db.path.exists():
        return []
    if db.engine == "postgresql" and not pg_exists(db):
        return []
    wanted = [t for t in tables(db) if not t.startswith("alembic_version")]
    if not wanted:
        return []
    probes = []
    for table in wanted:
        seeded = f" WHERE NOT ({SEEDED[table]})" if table in SEEDED else ""
        probes.append(f"SELECT '{table}' WHERE EXISTS (SELECT 1 FROM {quoted(table)}{seeded})")
    sql = " UNION ALL ".join(probes)
    if db.engine == "sqlite":
        with closing_sqlite(db.path) as connection:
            return [str(row[0]) for row in connection.execute(sql)]
    return [row[0] for row in psql(db.url, sql)]


def counts(db: Database) -> dict[str, int]:
    """Rows of each table, for a manifest and a restore's report."""
    names = [t for t in tables(db) if not t.startswith("alembic_version")]
    if not names:
        return {}
    sql = " UNION ALL ".join(f"SELECT '{t}', count(*) FROM {quoted(t)}" for t in names)
    if db.engine == "sqlite":
        with closing_sqlite(db.path) as connection:
            return {str(name): int(n) for name, n in connection.execute(sql)}
    return {name: int(n) for name, n in psql(db.url, sql)}


def revisions(db: Database) -> dict[str, str | None]:
    """Each store's Alembic revision in ``db`` (None: never migrated)."""
    present = set(tables(db))
    found: dict[str, str | None] = {}
    for store in db.stores:
        table = VERSION_TABLES[store]
        found[store] = None
        if table not in present:
            continue
        sql = f"SELECT version_num FROM {quoted(table)}"
        if db.engine == "sqlite":
            with closing_sqlite(db.path) as connection:
                rows = [str(row[0]) for row in connection.execute(sql)]
        else:
            rows = [row[0] for row in psql(db.url, sql)]
        found[store] = ",".join(sorted(rows)) or None
    return found


def pg_exists(db: Database) -> bool:
    name = pg_database_name(db.url)
    return bool(
        psql(db.url, f"SELECT 1 FROM pg_database WHERE datname = '{name.replace(chr(39), chr(39) * 2)}'", "postgres")
    )


class closing_sqlite:
    """A connection to an SQLite file that is closed (not only committed) at the end of the block."""

    def __init__(self, path: Path) -> None:
        self.connection = sqlite3.connect(path, timeout=30)

    def __enter__(self) -> sqlite3.Connection:
        return self.connection

    def __exit__(self, *_exc: object) -> None:
        self.connection.close()


# --------------------------------------------------------------------------- backup


def beijing_now() -> datetime:
    return datetime.now(BEIJING)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite database through its online backup API, as one file (the
    copy's journal is not WAL: nothing beside it is needed)."""
    with closing_sqlite(source) as src, closing_sqlite(target) as dst:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")
        problem = dst.execute("PRAGMA quick_check").fetchone()[0]
    if problem != "ok":
        raise StackError(f"the copy of {source} fails SQLite's check: {problem}")


def backup_database(db: Database, folder: Path) -> dict[str, object]:
    """The copy of one database in ``folder`` and its manifest entry."""
    target = folder / db.file_name
    if db.engine == "sqlite":
        if not db.path.exists():
            raise StackError(f"{db.path} ({', '.join(db.stores)}) does not exist: run `make setup` first")
        copy_sqlite(db.path, target)
        copy = Database("sqlite:///" + str(target), db.stores)
        extra: dict[str, object] = {"revisions": revisions(copy), "rows": counts(copy)}
    else:
        extra = {"revisions": revisions(db)}
        pg_run([pg_program("pg_dump"), "--format=custom", f"--file={target}", "--dbname"], db.url, what="pg_dump")
    return {
        "file": target.name,
        "what": "database",
        "engine": db.engine,
        "stores": list(db.stores),
        "source": db.shown,
        "sha256": sha256_of(target),
        "size": target.stat().st_size,
        **extra,
    }


def backup_models(source: Path, folder: Path) -> dict[str, object]:
    """The served models directory as one tar file (the archives are compressed already)."""
    target = folder / MODELS_FILE
    files = 0
    with tarfile.open(target, "w") as tar:
        if source.is_dir():
            for path in sorted(source.rglob("*")):
                if path.is_file() and not path.is_symlink():
                    tar.add(path, arcname=str(path.relative_to(source)), recursive=False)
                    files += 1
    return {
        "file": target.name,
        "what": "models",
        "source": str(source),
        "files": files,
        "sha256": sha256_of(target),
        "size": target.stat().st_size,
    }


def default_folder(env: dict[str, str]) -> Path:
    return Path(env.get("BACKUP_DIR") or VAR / "backups" / beijing_now().strftime("%Y%m%d-%H%M%S"))


def backup(env: dict[str, str], folder: Path) -> dict[str, Any]:
    """Back up every store and the models directory of ``env`` into ``folder`` (made here; refused when it
    holds anything). Written under ``<folder>.partial`` and renamed when complete, so that a backup cut
    short is never taken for one."""
    folder = folder if folder.is_absolute() else ROOT / folder
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise StackError(f"{folder} exists and is not an empty directory: name a new one")
    dbs = databases(env)  # before anything is written: a bad configuration touches nothing
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    # every resident's data and staff's password hashes: readable by the owner only
    previous_mask = os.umask(0o077)
    try:
        partial.mkdir(parents=True, mode=0o700)
        return _write_backup(env, dbs, folder, partial)
    finally:
        os.umask(previous_mask)


def _write_backup(env: dict[str, str], dbs: list[Database], folder: Path, partial: Path) -> dict[str, Any]:
    started = time.monotonic()
    try:
        files = [backup_database(db, partial) for db in dbs]
        files.append(backup_models(models_dir(env), partial))
        manifest = {
            "kind": KIND,
            "format": FORMAT,
            "created_at": beijing_now().isoformat(timespec="seconds"),
            "app_env": env.get("APP_ENV", ""),
            "seconds": round(time.monotonic() - started, 2),
            "files": files,
        }
        (partial / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        if folder.exists():
            folder.rmdir()
        partial.rename(folder)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return manifest


# --------------------------------------------------------------------------- restore: checks


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of a backup, with every file present and matching its checksum and size."""
    if not folder.is_dir():
        raise StackError(f"no backup at {folder}: the directory does not exist")
    path = folder / MANIFEST
    if not path.is_file():
        raise StackError(f"{folder} is not a backup: it has no {MANIFEST}")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise StackError(f"{path} is not readable JSON: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("kind") != KIND or not isinstance(manifest.get("files"), list):
        raise StackError(f"{path} is not the manifest of this product's backup (kind {KIND!r})")
    if manifest.get("format") != FORMAT:
        raise StackError(f"{path} is backup format {manifest.get('format')}; this release reads format {FORMAT}")
    for entry in manifest["files"]:
        check_file(folder, entry)
    return manifest


def check_file(folder: Path, entry: dict[str, object]) -> None:
    name = str(entry.get("file") or "")
    path = folder / name
    if not name or Path(name).name != name or not path.is_file():
        raise StackError(f"the backup at {folder} lacks {name or 'a file its manifest names'}")
    if path.stat().st_size != entry.get("size") or sha256_of(path) != entry.get("sha256"):
        raise StackError(f"{path} does not match its checksum in the manifest: the backup is damaged")


@dataclass(frozen=True)
class Step:
    """One database of the configuration and the copy that restores it."""

    target: Database
    entry: dict[str, object]


def plan(manifest: dict[str, Any], env: dict[str, str]) -> list[Step]:
    """Which copy restores which database of this configuration; refused unless every one has exactly its
    copy, of the same kind (a PostgreSQL dump does not restore into SQLite, nor the reverse)."""
    entries = [e for e in manifest["files"] if isinstance(e, dict) and e.get("what") == "database"]
    by_stores = {tuple(e.get("stores") or ()): e for e in entries}
    steps = []
    for db in databases(env):
        entry = by_stores.get(db.stores)
        if entry is None:
            held = "; ".join(f"{'+'.join(e.get('stores') or ())} ({e.get('engine')})" for e in entries)
            raise StackError(
                f"this configuration keeps {'+'.join(db.stores)} in one {db.engine} database ({db.shown}); "
                f"the backup holds {held}. Restore it with the configuration it was taken from."
            )
        if entry.get("engine") != db.engine:
            raise StackError(
                f"the backup's copy of {'+'.join(db.stores)} is {entry.get('engine')}; this configuration keeps "
                f"it in {db.engine} ({db.shown}). Restore it with the configuration it was taken from."
            )
        steps.append(Step(db, entry))
    return steps


def running_at(env: dict[str, str]) -> list[str]:
    """The product's addresses that answer (a restore under running processes would mix two states)."""
    answering = []
    host = env.get("BIND_HOST") or "127.0.0.1"
    for variable in ("API_URL", "RASA_URL", "ACTION_SERVER_URL"):
        url = env.get(variable)
        if not url:
            continue
        try:
            socket.create_connection((urllib.parse.urlsplit(url).hostname or host, port_of(url)), timeout=1).close()
            answering.append(url)
        except OSError:
            continue
    return answering


def check_targets(steps: list[Step], models: Path, force: bool) -> None:
    """Refuse to overwrite data unless ``force``; name what is there."""
    if force:
        return
    held = []
    for step in steps:
        full = with_data(step.target)
        if full:
            held.append(f"{step.target.shown} ({', '.join(full[:5])}{' ...' if len(full) > 5 else ''})")
    if models.is_dir() and any(p.is_file() for p in models.rglob("*")):
        held.append(f"{models} (model files)")
    if held:
        raise StackError(
            "the restore would overwrite data: " + "; ".join(held) + ".\n"
            "  Restore into empty databases, or replace them: make restore FROM=… FORCE=1 (--force)"
        )


# --------------------------------------------------------------------------- restore: writing


def restore_sqlite(copy: Path, target: Path) -> None:
    """The copy written over ``target`` through the backup API (which also replaces a WAL's content)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with closing_sqlite(copy) as src, closing_sqlite(target) as dst:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=WAL")  # as the stores open it


def check_postgresql_targets(steps: list[Step], folder: Path) -> None:
    """Before anything is dropped: ``pg_restore`` can read each dump (a dump of a newer ``pg_dump`` is
    refused here, not after the database is gone), and no one is connected to a database about to be
    replaced (a process of the product left running on another machine, or an operator's session)."""
    for step in steps:
        if step.target.engine != "postgresql":
            continue
        listed = subprocess.run(
            [pg_program("pg_restore"), "--list", str(folder / str(step.entry["file"]))], capture_output=True, text=True
        )
        if listed.returncode != 0:
            detail = " / ".join(listed.stderr.strip().splitlines()[-2:])
            raise StackError(f"pg_restore cannot read {step.entry['file']}: {detail}; nothing was touched")
        if not pg_exists(step.target):
            continue
        name = pg_database_name(step.target.url).replace("'", "''")
        others = psql(
            step.target.url,
            f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()",
            "postgres",
        )
        if others and int(others[0][0]):
            raise StackError(
                f"{step.target.shown} has {others[0][0]} connection(s): stop every process of the product "
                "(on every machine) and close other sessions before a restore; nothing was touched"
            )


def restore_postgresql(copy: Path, db: Database) -> None:
    """A database made afresh (dropped first when there), the dump restored into it in one transaction."""
    name = quoted(pg_database_name(db.url))
    if pg_exists(db):
        psql(db.url, f"DROP DATABASE {name}", "postgres")
    psql(db.url, f"CREATE DATABASE {name}", "postgres")
    restore = [pg_program("pg_restore"), "--no-owner", "--exit-on-error", "--single-transaction", str(copy), "--dbname"]
    pg_run(restore, db.url, what="pg_restore")


def restore_models(copy: Path, target: Path) -> None:
    """The models directory replaced by the backup's (unpacked beside it first, then swapped in)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(prefix=f".{target.name}.restore-", dir=target.parent))
    with tarfile.open(copy) as tar:
        for member in tar.getmembers():
            if not member.isfile() or member.name.startswith("/") or ".." in Path(member.name).parts:
                raise StackError(f"{copy} holds {member.name!r}, which is not a model file: refused")
        if hasattr(tarfile, "data_filter"):  # Python 3.11.4 and later
            tar.extractall(fresh, filter="data")
        else:
            tar.extractall(fresh)  # noqa: S202 - every member was checked above
    if target.exists():
        old = target.with_name(f".{target.name}.replaced")
        shutil.rmtree(old, ignore_errors=True)
        target.rename(old)
        fresh.rename(target)
        shutil.rmtree(old)
    else:
        fresh.rename(target)


def restore(env: dict[str, str], folder: Path, force: bool = False, migrate: bool = True) -> list[Step]:
    """Restore the backup in ``folder`` into the stores of ``env``: every check first (nothing is written
    when one fails), then the copies, then the migrations."""
    folder = folder if folder.is_absolute() else ROOT / folder
    manifest = read_manifest(folder)
    steps = plan(manifest, env)
    running = running_at(env)
    if running:
        raise StackError(f"the product answers at {', '.join(running)}: stop it before a restore")
    models = models_dir(env)
    check_targets(steps, models, force)
    check_postgresql_targets(steps, folder)
    for step in steps:
        copy = folder / str(step.entry["file"])
        if step.target.engine == "sqlite":
            restore_sqlite(copy, step.target.path)
        else:
            restore_postgresql(copy, step.target)
        check_rows(step)
    models_entry = next((e for e in manifest["files"] if e.get("what") == "models"), None)
    if models_entry is not None:
        restore_models(folder / str(models_entry["file"]), models)
    if migrate:
        from stack.envs import ensure_api_env, ensure_bot_env, migrate_conversation_stores
        from stack.envs import migrate as migrate_backend

        ensure_api_env()
        ensure_bot_env()
        migrate_backend(env)
        migrate_conversation_stores(env)
    return steps


def check_rows(step: Step) -> None:
    """The restored database holds as many rows per table as the copy did when it was taken (known for
    SQLite; pg_restore's single transaction restores all or nothing)."""
    recorded = step.entry.get("rows")
    if not isinstance(recorded, dict):
        return
    found = counts(step.target)
    wrong = {t: (n, found.get(t)) for t, n in recorded.items() if found.get(t) != n}
    if wrong:
        raise StackError(f"{step.target.shown} after the restore differs from the backup (table: kept, found): {wrong}")


# --------------------------------------------------------------------------- commands


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def cmd_backup(folder: str | None, scaled: bool = False) -> int:
    env = load_env(scaled=scaled)
    target = Path(folder) if folder else default_folder(env)
    manifest = backup(env, target)
    target = target if target.is_absolute() else ROOT / target
    for entry in manifest["files"]:
        what = "+".join(entry["stores"]) + f" ({entry['source']})" if entry["what"] == "database" else entry["source"]
        say(f"  {entry['file']:<28} {human_size(int(entry['size'])):>10}  {what}")
    say(f"backup written to {target} in {manifest['seconds']} s")
    return 0


def cmd_restore(folder: str | None, force: bool = False, scaled: bool = False) -> int:
    if not folder:
        raise StackError("name the backup to restore: make restore FROM=var/backups/<time>")
    env = load_env(scaled=scaled)
    started = time.monotonic()
    steps = restore(env, Path(folder), force=force)
    for step in steps:
        found = counts(step.target)
        shown = ", ".join(f"{found[t]} {what}" for t, what in COUNTED.items() if t in found)
        say(f"  {'+'.join(step.target.stores)}: {step.target.shown}" + (f" — {shown}" if shown else ""))
    say(f"restored from {folder} and migrated in {time.monotonic() - started:.1f} s")
    return 0
