"""Staff accounts and logins: bcrypt password hashes, opaque session tokens stored hashed."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

import bcrypt
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.errors import Conflict, NotAuthenticated
from api.models import StaffSession, StaffUser
from api.schemas import StaffUserCreate
from api.services.principals import Principal, Role

# Compared against when the user does not exist, so both paths cost one bcrypt check.
_DUMMY_HASH = bcrypt.hashpw(b"not-a-password", bcrypt.gensalt(rounds=4)).decode()


def hash_password(password: str, rounds: int = 12) -> str:
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=rounds)).decode()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_staff_user(session: Session, data: StaffUserCreate, now: datetime, rounds: int = 12) -> StaffUser:
    user = StaffUser(
        username=data.username,
        display_name=data.display_name,
        role=data.role,
        password_hash=hash_password(data.password, rounds),
        active=True,
        created_at=now,
    )
    session.add(user)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict(f"the username {data.username} is taken") from None
    return user


def login(session: Session, username: str, password: str, now: datetime, ttl: timedelta) -> tuple[str, StaffSession]:
    """A new session token for correct credentials; the same error for every wrong case."""
    user = session.scalars(select(StaffUser).where(StaffUser.username == username)).first()
    stored = user.password_hash if user is not None else _DUMMY_HASH
    ok = bcrypt.checkpw(password.encode("utf-8"), stored.encode())
    if user is None or not ok or not user.active:
        raise NotAuthenticated("wrong username or password")
    token = secrets.token_urlsafe(32)
    staff_session = StaffSession(
        token_hash=_token_hash(token), staff_user_id=user.id, created_at=now, expires_at=now + ttl
    )
    session.add(staff_session)
    session.commit()
    return token, staff_session


def logout(session: Session, token: str) -> None:
    found = session.scalars(select(StaffSession).where(StaffSession.token_hash == _token_hash(token))).first()
    if found is not None:
        session.delete(found)
        session.commit()


def principal_for_token(session: Session, token: str, api_token: str, now: datetime) -> Principal:
    """The machine client for API_TOKEN, or the staff user of a live session token."""
    if hmac.compare_digest(token.encode(), api_token.encode()):
        return Principal(name="machine", role=Role.MACHINE)
    found = session.scalars(select(StaffSession).where(StaffSession.token_hash == _token_hash(token))).first()
    if found is None or found.expires_at <= now or not found.staff_user.active:
        raise NotAuthenticated("a valid bearer token is required")
    user = found.staff_user
    return Principal(name=f"staff:{user.username}", role=Role(user.role), staff_user_id=user.id)
