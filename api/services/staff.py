"""Staff accounts and logins: bcrypt password hashes, opaque session tokens stored hashed.

Guessing is limited so that it cannot be turned against the person guessed at (review N7, N8):

- failures are counted per username *and address*: five from one address lock that pair, not the
  account, so an outsider hammering ``admin`` from elsewhere does not shut the administrator out;
- beyond that, a username that failed ``per_account_anywhere`` times from anywhere, or an address that
  failed ``per_address`` times for any usernames, may be tried only from the addresses the account
  logged in from lately (its usual addresses): a slow-down for the guesser, none for its owner at their
  desk, nor for colleagues behind the same NAT who logged in from it before;
- each attempt claims one of the allowed failures with one conditional statement before its password
  is checked, and gives it back only when right, so parallel guesses get exactly the allowed number
  evaluated (it was count-then-insert: 30 parallel guesses had 15 evaluated where one was allowed).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import bcrypt
from sqlalchemy import case, delete, literal, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.db import UTCDateTime, insert_of
from api.errors import AppError, Conflict, NotAuthenticated
from api.models import LoginThrottle, StaffLoginAddress, StaffSession, StaffUser
from api.schemas import MAX_PASSWORD_BYTES, StaffUserCreate
from api.services.principals import Principal, Role
from api.settings import Settings


class TooManyAttempts(AppError):
    status_code = 429
    code = "too_many_attempts"


@dataclass(frozen=True)
class LoginLimits:
    """Failures counted over ``window``: ``per_account`` for a username from one address lock that pair;
    ``per_address`` from one address or ``per_account_anywhere`` for a username leave only the account's
    usual addresses (logged in from within ``usual_for``) free to try."""

    window: timedelta = timedelta(minutes=15)
    per_account: int = 5
    per_address: int = 30
    per_account_anywhere: int = 50
    usual_for: timedelta = timedelta(days=30)
    rounds: int = 12


@dataclass(frozen=True)
class Counter:
    """One count of failures (a row of login_throttles) and how many it allows in its window."""

    scope: str  # pair, account, address
    username: str
    address: str
    limit: int


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
    wrong case. Too many failures (see the module's docstring) answer 429 for a while."""
    limits = limits or LoginLimits()
    username, address = username[:64], address[:64]
    user = session.scalars(select(StaffUser).where(StaffUser.username == username)).first()
    counters = [Counter("pair", username, address, limits.per_account)]
    # looked up for an unknown username too (as no one's), so that the answer takes as long
    if not _is_usual_address(session, user.id if user else 0, address, now - limits.usual_for):
        counters += [
            Counter("account", username, "", limits.per_account_anywhere),
            Counter("address", "", address, limits.per_address),
        ]
    session.commit()  # the claims below each begin a transaction of their own with their write
    _claim_attempt(session, counters, now, limits.window)
    stored = user.password_hash.encode() if user is not None else _dummy_hash(limits.rounds)
    ok = _password_matches(password, stored)
    if user is None or not ok or not user.active:
        raise NotAuthenticated("wrong username or password")  # the claims stay counted as failures
    _give_back(session, counters, right=True)
    _remember_address(session, user.id, address, now)
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
        per_account_anywhere=settings.login_failures_per_account_anywhere,
        usual_for=timedelta(days=settings.login_usual_address_days),
        rounds=settings.password_hash_rounds,
    )
    ttl = timedelta(hours=settings.staff_session_hours)
    return login(session, username, password, address, now, ttl, limits)


REFUSALS = {
    "pair": "too many failed logins for this account from this address",
    "account": "too many failed logins for this account from elsewhere; log in from where you usually do",
    "address": "too many failed logins from this address",
}


def _claim_attempt(session: Session, counters: list[Counter], now: datetime, window: timedelta) -> None:
    """Claim one allowed failure of every counter, or none and TooManyAttempts. Expired counts are
    dropped first, so the table holds only the window's."""
    session.execute(delete(LoginThrottle).where(LoginThrottle.window_started_at <= now - window))
    session.commit()
    for index, counter in enumerate(counters):
        if not _claim(session, counter, now, now - window):
            _give_back(session, counters[:index])
            minutes = int(window.total_seconds() // 60)
            raise TooManyAttempts(f"{REFUSALS[counter.scope]}; try again in {minutes} minutes or ask an administrator")


def _claim(session: Session, counter: Counter, now: datetime, since: datetime) -> bool:
    """One more failure on the counter if it allows one, in one statement the database runs atomically
    (a row locked by another attempt is read again after it commits); committed at once."""
    row = LoginThrottle
    expired = row.window_started_at <= since
    claim = (
        update(row)
        .where(row.scope == counter.scope, row.username == counter.username, row.address == counter.address)
        .where(or_(expired, row.failures < counter.limit))
        .values(
            failures=case((expired, 1), else_=row.failures + 1),
            window_started_at=case((expired, literal(now, UTCDateTime())), else_=row.window_started_at),
        )
        .returning(row.id)
        .execution_options(synchronize_session=False)
    )
    claimed = session.execute(claim).first() is not None
    if not claimed:  # no row yet: the first failure makes it (or another attempt made it just now)
        first = insert_of(session)(row).values(
            scope=counter.scope, username=counter.username, address=counter.address, failures=1, window_started_at=now
        )
        first = first.on_conflict_do_nothing(index_elements=["scope", "username", "address"]).returning(row.id)
        claimed = session.execute(first).first() is not None or session.execute(claim).first() is not None
    session.commit()
    return claimed


def _give_back(session: Session, counters: list[Counter], right: bool = False) -> None:
    """Undo an attempt's claims: it was refused by a later counter, or it was ``right``. A right password
    from an address clears that pair; the account's and the address's counts lose only this attempt."""
    row = LoginThrottle
    for counter in counters:
        key = (row.scope == counter.scope, row.username == counter.username, row.address == counter.address)
        if right and counter.scope == "pair":
            session.execute(delete(row).where(*key))
        else:
            session.execute(
                update(row).where(*key, row.failures > 0).values(failures=row.failures - 1),
                execution_options={"synchronize_session": False},
            )
    session.commit()


def _is_usual_address(session: Session, staff_user_id: int, address: str, since: datetime) -> bool:
    found = session.scalar(
        select(StaffLoginAddress.id).where(
            StaffLoginAddress.staff_user_id == staff_user_id,
            StaffLoginAddress.address == address,
            StaffLoginAddress.last_login_at > since,
        )
    )
    return found is not None


def _remember_address(session: Session, staff_user_id: int, address: str, now: datetime) -> None:
    statement = insert_of(session)(StaffLoginAddress).values(
        staff_user_id=staff_user_id, address=address, last_login_at=now
    )
    session.execute(
        statement.on_conflict_do_update(index_elements=["staff_user_id", "address"], set_={"last_login_at": now})
    )


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
    return principal_of(found.staff_user)


def principal_of(user: StaffUser) -> Principal:
    """A staff account as the caller of a request."""
    return Principal(name=f"staff:{user.username}", role=Role(user.role), staff_user_id=user.id)


def display_names(session: Session) -> dict[str, str]:
    """Every member of staff's display name by principal name ("staff:wang" → "王小红")."""
    rows = session.execute(select(StaffUser.username, StaffUser.display_name))
    return {f"staff:{username}": display for username, display in rows if display}
