"""Create the PostgreSQL databases named by the given URLs when they are missing (the scaled configuration).

Run with the backend's environment (psycopg): ``python scripts/create_databases.py [--fresh] URL ...``.
Connects to the server's ``postgres`` database with each URL's user; creating needs CREATEDB.
``--fresh`` drops each database first (the tests' own databases only).
"""

from __future__ import annotations

import sys
from urllib.parse import urlsplit

import psycopg
from psycopg import sql


def ensure(url: str, fresh: bool = False) -> bool:
    """True when the database was created, False when it was there."""
    parts = urlsplit(url.replace("postgresql+psycopg://", "postgresql://", 1))
    name = parts.path.lstrip("/")
    if not name:
        raise SystemExit(f"no database name in {parts.scheme}://{parts.hostname}:{parts.port}")
    server = parts._replace(path="/postgres").geturl()
    with psycopg.connect(server, autocommit=True, connect_timeout=5) as connection:
        if fresh:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return False
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return True


def main(args: list[str]) -> int:
    fresh = "--fresh" in args
    for url in [a for a in args if a != "--fresh"]:
        if ensure(url, fresh):
            print(f"[stack] created database {urlsplit(url).path.lstrip('/')}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
