"""Operator commands of the backend: ``python -m api.cli create-admin`` (``make admin``).

The first administrator is made here, on the server, rather than through the API: the machine
token (API_TOKEN) is for the bot and scripts, and may not create accounts.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from datetime import UTC, datetime

from pydantic import ValidationError

from api.db import make_engine, make_session_factory
from api.errors import Conflict
from api.schemas import StaffUserCreate
from api.services import staff
from api.settings import Settings, get_settings

PASSWORD_VARIABLE = "ADMIN_PASSWORD"


def create_user(settings: Settings, data: StaffUserCreate) -> int:
    """Store a staff account directly in the database; returns its id."""
    engine = make_engine(settings.sqlalchemy_url)
    try:
        with make_session_factory(engine)() as session:
            user = staff.create_staff_user(session, data, datetime.now(UTC), settings.password_hash_rounds)
            return user.id
    finally:
        engine.dispose()


def _password(interactive: bool) -> str:
    given = os.environ.get(PASSWORD_VARIABLE)
    if given:
        return given
    if not interactive:
        raise SystemExit(f"set {PASSWORD_VARIABLE} or run in a terminal to be asked for the password")
    first = getpass.getpass("password (8 to 72 bytes): ")
    if getpass.getpass("again: ") != first:
        raise SystemExit("the two passwords differ")
    return first


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m api.cli", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-admin", help="create an administrator (password from ADMIN_PASSWORD)")
    create.add_argument("username")
    create.add_argument("--display-name", help="the name colleagues see (default: the username)")
    create.add_argument("--role", choices=["admin", "supervisor", "agent", "technician"], default="admin")
    args = parser.parse_args(argv)
    try:
        data = StaffUserCreate(
            username=args.username,
            display_name=args.display_name or args.username,
            role=args.role,
            password=_password(sys.stdin.isatty()),
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        print(f"refused: {'.'.join(map(str, first['loc']))}: {first['msg']}", file=sys.stderr)
        return 2
    try:
        user_id = create_user(get_settings(), data)
    except Conflict as exc:
        print(f"refused: {exc.message}", file=sys.stderr)
        return 1
    print(f"created {args.role} {args.username} (id {user_id})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
