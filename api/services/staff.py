"""Staff accounts and logins: bcrypt password hashes, opaque session tokens stored hashed."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import bcrypt
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.errors import AppError, Conflict, NotAuthenticated
from api.models import LoginFailure, StaffSession, StaffUser
from api.schemas import MAX_PASSWORD_BYTES, StaffUserCreate
from api.services.principals import Principal, Role
from api.settings import Settings


class TooManyAttempts(AppError):
    status_code = 429
    code = "too_many_attempts"


@dataclass(frozen=True)
class LoginLimits:
    """Failures counted over ``window``: more than the limits lock the username, or the address."""

    window: timedelta = timedelta(minutes=15)
    per_account: int = 5
    per_address: int = 30
    rounds: int = 12


@lru_cache(maxsize=4)
def _dummy_hash(rounds: int) -> bytes:
    """Checked when the username does not exist, at the same cost as a real account's hash, so the
    answer time does not tell whether a username exists."""
    return bcrypt.hashpw(b"not-a-password", bcrypt.gensalt(rounds=rounds))


def hash_password(password: str, rounds: int = 12) -> str:
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=rounds)).decode()


def _password_matches(password: str, stored: bytes) -> bool:
    """bcrypt's check; a password over its 72 bytes cannot match (it was refused when set), but costs
    the same check so that its answer takes as long."""
    raw = password.encode("utf-8")
    if len(raw) > MAX_PASSWORD_BYTES:
        bcrypt.checkpw(raw[:MAX_PASSWORD_BYTES], stored)
        return False
    return bcrypt.checkpw(raw, stored)


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


def login(
    session: Session,
    username: str,
    password: str,
    address: str,
    now: datetime,
    ttl: timedelta,
    limits: LoginLimits | None = None,
) -> tuple[str, StaffSession]:
    """A new session token for correct credentials; the same error, after the same work, for every
    wrong case. Too many failures for a username, or from an address, answer 429 for a while."""
    limits = limits or LoginLimits()
    _check_not_locked(session, username, address, now, limits)
    user = session.scalars(select(StaffUser).where(StaffUser.username == username)).first()
    stored = user.password_hash.encode() if user is not None else _dummy_hash(limits.rounds)
    ok = _password_matches(password, stored)
    if user is None or not ok or not user.active:
        session.add(LoginFailure(username=username[:64], address=address[:64], at=now))
        session.commit()
        raise NotAuthenticated("wrong username or password")
    session.execute(delete(LoginFailure).where(LoginFailure.username == username))
    token = secrets.token_urlsafe(32)
    staff_session = StaffSession(
        token_hash=_token_hash(token), staff_user_id=user.id, created_at=now, expires_at=now + ttl
    )
    session.add(staff_session)
    session.commit()
    return token, staff_session


def login_as_configured(
    session: Session, settings: Settings, username: str, password: str, address: str, now: datetime
) -> tuple[str, StaffSession]:
    """``login`` with the session length and the failure lock of the process's settings (the API's
    login and the console's)."""
    limits = LoginLimits(
        window=timedelta(minutes=settings.login_window_minutes),
        per_account=settings.login_failures_per_account,
        per_address=settings.login_failures_per_address,
        rounds=settings.password_hash_rounds,
    )
    ttl = timedelta(hours=settings.staff_session_hours)
    return login(session, username, password, address, now, ttl, limits)


def _check_not_locked(session: Session, username: str, address: str, now: datetime, limits: LoginLimits) -> None:
    since = now - limits.window
    by_account = session.scalar(select(func.count()).where(LoginFailure.username == username, LoginFailure.at > since))
    by_address = session.scalar(select(func.count()).where(LoginFailure.address == address, LoginFailure.at > since))
    minutes = int(limits.window.total_seconds() // 60)
    if (by_account or 0) >= limits.per_account or (by_address or 0) >= limits.per_address:
        raise TooManyAttempts(f"too many failed logins; try again in {minutes} minutes or ask an administrator")


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
