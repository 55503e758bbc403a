"""The chat desk as a shift works it: who is on the desk and where (presence), who is typing in a chat,
each agent's load, and the round robin that gives waiting chats to agents who are online.

Presence is written by the console's live streams (each open page looks every second and says where its
member of staff is at most every ``SEEN_EVERY_SECONDS``) and by the reply box (typing). It is kept in the
database, so every backend process of the scaled layout sees the same desk.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.errors import Forbidden, Unprocessable
from api.models import Deadline, DeskSettings, Handoff, StaffAudit, StaffPresence, StaffUser
from api.services.audit import record
from api.services.principals import Principal, Role

# A page says where its member of staff is at most this often; one unheard of for ONLINE_SECONDS has
# gone (the page was closed, the laptop slept, the network dropped).
SEEN_EVERY_SECONDS = 10
ONLINE_SECONDS = 30
# The reply box says "typing" at most every few seconds while keys are pressed; silent this long, it stops.
TYPING_SECONDS = 6
DESK = 0  # the handoff_id of a page that is not a chat
# The round robin's word for itself in the chat's assignment and the staff audit.
ROUND_ROBIN = "system"
# A chat the round robin gave out and nobody took within this time goes back to the queue, to another
# agent (an agent whose tab is open while they are away from the desk still counts as online).
TAKE_SECONDS = 90
CHAT_LIMIT_MAX = 20


@dataclass(frozen=True)
class Here:
    """A colleague on the same chat: their principal name and whether they are typing."""

    staff: str
    typing: bool


@dataclass(frozen=True)
class Load:
    """One member of staff on the desk: online or not, the chats they hold and the waiting ones given them."""

    user: StaffUser
    online: bool
    holding: int
    assigned: int

    @property
    def total(self) -> int:
        return self.holding + self.assigned


def _upsert(session: Session, staff: str, handoff_id: int, now: datetime, typing: bool) -> None:
    values: dict[str, datetime] = {"seen_at": now}
    if typing:
        values["typing_at"] = now
    where = [StaffPresence.staff == staff, StaffPresence.handoff_id == handoff_id]
    if not typing:  # a look writes only when the last one is old enough
        where.append(StaffPresence.seen_at < now - timedelta(seconds=SEEN_EVERY_SECONDS))
    changed = session.execute(update(StaffPresence).where(*where).values(**values))
    if changed.rowcount:  # type: ignore[attr-defined]
        session.commit()
        return
    if session.get(StaffPresence, (staff, handoff_id)) is not None:
        session.rollback()  # seen a moment ago: nothing to write
        return
    session.add(StaffPresence(staff=staff, handoff_id=handoff_id, **values))
    try:
        session.commit()
    except IntegrityError:  # another page of theirs wrote it at the same instant
        session.rollback()


def seen(session: Session, staff: str, handoff_id: int, now: datetime) -> None:
    """``staff`` has a page open on the chat (or, with ``DESK``, on another page of the console)."""
    _upsert(session, staff, handoff_id, now, typing=False)


class Sayer:
    """What one page's stream needs to say where its member of staff is: at most every
    ``SEEN_EVERY_SECONDS`` by its own clock, so that the looks in between touch no table for it."""

    def __init__(self, handoff_id: int) -> None:
        self.handoff_id = handoff_id
        self.said_at: float | None = None

    def say(self, session: Session, staff: str, now: datetime) -> None:
        moment = time.monotonic()
        if self.said_at is not None and moment - self.said_at < SEEN_EVERY_SECONDS:
            return
        seen(session, staff, self.handoff_id, now)
        self.said_at = moment


def typing(session: Session, staff: str, handoff_id: int, now: datetime) -> None:
    """``staff`` is typing in the chat's reply box."""
    _upsert(session, staff, handoff_id, now, typing=True)


def here(session: Session, handoff_id: int, now: datetime) -> list[Here]:
    """Who has the chat open now, by name, with whether each is typing."""
    rows = session.scalars(
        select(StaffPresence)
        .where(
            StaffPresence.handoff_id == handoff_id,
            StaffPresence.seen_at >= now - timedelta(seconds=ONLINE_SECONDS),
        )
        .order_by(StaffPresence.staff)
    )
    typing_since = now - timedelta(seconds=TYPING_SECONDS)
    return [Here(row.staff, row.typing_at is not None and row.typing_at >= typing_since) for row in rows]


def online(session: Session, now: datetime) -> set[str]:
    """The members of staff with a console page open now (principal names)."""
    since = now - timedelta(seconds=ONLINE_SECONDS)
    return set(session.scalars(select(StaffPresence.staff).where(StaffPresence.seen_at >= since).distinct()))


def forget_stale(session: Session, now: datetime) -> int:
    """Drop presence older than a day (the scheduler's pass): the table holds the desk's last day only."""
    gone = session.execute(delete(StaffPresence).where(StaffPresence.seen_at < now - timedelta(days=1)))
    session.commit()
    return int(gone.rowcount or 0)  # type: ignore[attr-defined]


# ------------------------------------------------------------------------------- settings and load


def settings(session: Session) -> DeskSettings:
    """The desk's settings; until a supervisor first saves them, round robin off and 3 chats an agent."""
    found = session.get(DeskSettings, 1)
    return found if found is not None else DeskSettings(id=1, auto_assign=False, chat_limit=3)


def save_settings(session: Session, principal: Principal, auto_assign: bool, chat_limit: int, now: datetime) -> None:
    """A supervisor turns the round robin on or off and sets how many chats an agent holds at most."""
    if not principal.may_approve:
        raise Forbidden("只有班长可以修改自动分配设置")
    if not 1 <= chat_limit <= CHAT_LIMIT_MAX:
        raise Unprocessable("chat_limit", f"每人同时接待的会话数须在 1 到 {CHAT_LIMIT_MAX} 之间")
    row = session.get(DeskSettings, 1) or DeskSettings(id=1)
    row.auto_assign, row.chat_limit = auto_assign, chat_limit
    if not auto_assign:  # turned off: what it gave out and nobody took is the queue's again
        session.execute(
            update(Handoff)
            .where(Handoff.status == "waiting", Handoff.assigned_by == ROUND_ROBIN)
            .values(assigned_to=None, assigned_at=None, assigned_by=None)
            .execution_options(synchronize_session=False)
        )
    row.updated_by, row.updated_at = principal.name, now
    session.add(row)
    record(session, now, principal.name, "desk.settings", None, f"auto_assign={auto_assign} chat_limit={chat_limit}")
    session.commit()


def _load_of(session: Session, name: str) -> tuple[int, int]:
    holding = select(func.count()).select_from(Handoff).where(Handoff.status == "active", Handoff.taken_by == name)
    assigned = select(func.count()).select_from(Handoff)
    assigned = assigned.where(Handoff.status == "waiting", Handoff.assigned_to == name)
    return session.scalar(holding) or 0, session.scalar(assigned) or 0


def loads(session: Session, now: datetime) -> list[Load]:
    """Every active member of staff who works chats, online first, with the chats they hold and are given."""
    present = online(session, now)
    users = session.scalars(
        select(StaffUser).where(
            StaffUser.active.is_(True), StaffUser.role.in_((Role.AGENT, Role.SUPERVISOR, Role.ADMIN))
        )
    )
    found = []
    for user in users:
        name = f"staff:{user.username}"
        holding, assigned = _load_of(session, name)
        found.append(Load(user, name in present, holding, assigned))
    return sorted(found, key=lambda load: (not load.online, load.user.username))


# ------------------------------------------------------------------------------- the round robin


def _next_agent(session: Session, candidates: list[Load], limit: int, passed_over: set[str]) -> str | None:
    """The online agent under the limit with the fewest chats; of equals, the one given a chat longest ago.
    Agents who let this chat go back to the queue are passed over while another can have it."""
    under = [c for c in candidates if c.online and c.total < limit]
    others = [c for c in under if f"staff:{c.user.username}" not in passed_over]
    under = others or under
    if not under:
        return None
    names = [f"staff:{c.user.username}" for c in under]
    last_given = dict(
        session.execute(
            select(Handoff.assigned_to, func.max(Handoff.assigned_at))
            .where(Handoff.assigned_to.in_(names))
            .group_by(Handoff.assigned_to)
        ).all()
    )

    def order(c: Load) -> tuple[int, float, str]:
        given = last_given.get(f"staff:{c.user.username}")
        return (c.total, given.timestamp() if given else 0.0, c.user.username)

    return f"staff:{min(under, key=order).user.username}"


def _give(session: Session, handoff_id: int, agent: str, limit: int, now: datetime) -> bool:
    """Give one waiting, unassigned chat to ``agent`` if they are still under the limit: the agent's row is
    locked (PostgreSQL; SQLite writes one at a time) while their chats are counted and the chat is given,
    so two processes giving out chats at once never take an agent past the limit, and one conditional
    UPDATE gives the chat, so a chat taken or assigned meanwhile is left alone."""
    username = agent.removeprefix("staff:")
    session.scalars(select(StaffUser.id).where(StaffUser.username == username).with_for_update()).first()
    if sum(_load_of(session, agent)) >= limit:
        session.rollback()
        return False
    changed = session.execute(
        update(Handoff)
        .where(Handoff.id == handoff_id, Handoff.status == "waiting", Handoff.assigned_to.is_(None))
        .values(assigned_to=agent, assigned_at=now, assigned_by=ROUND_ROBIN)
        .execution_options(synchronize_session=False)
    )
    if not changed.rowcount:  # type: ignore[attr-defined]
        session.rollback()
        return False
    record(session, now, ROUND_ROBIN, "handoff.auto_assign", f"handoff:{handoff_id}", agent)
    session.commit()
    return True


def release_absent(session: Session, now: datetime) -> int:
    """Chats the round robin gave to an agent who has since left the desk, or who has not taken them
    within ``TAKE_SECONDS``, go back to the queue (a supervisor's own assignment stays: they chose that
    person)."""
    present = online(session, now)
    given = session.scalars(
        select(Handoff).where(Handoff.status == "waiting", Handoff.assigned_by == ROUND_ROBIN)
    ).all()
    released = 0
    untaken = now - timedelta(seconds=TAKE_SECONDS)
    for handoff in given:
        if handoff.assigned_to in present and handoff.assigned_at is not None and handoff.assigned_at > untaken:
            continue
        changed = session.execute(
            update(Handoff)
            .where(
                Handoff.id == handoff.id,
                Handoff.status == "waiting",
                Handoff.assigned_to == handoff.assigned_to,
                Handoff.assigned_by == ROUND_ROBIN,
            )
            .values(assigned_to=None, assigned_at=None, assigned_by=None)
            .execution_options(synchronize_session=False)
        )
        if changed.rowcount:  # type: ignore[attr-defined]
            record(session, now, ROUND_ROBIN, "handoff.auto_release", f"handoff:{handoff.id}", handoff.assigned_to)
            released += 1
    session.commit()
    return released


def _let_go(session: Session, handoff_id: int) -> set[str]:
    """The agents the round robin gave this chat to who let it go back to the queue (the staff audit)."""
    released = select(StaffAudit.detail).where(
        StaffAudit.action == "handoff.auto_release", StaffAudit.target == f"handoff:{handoff_id}"
    )
    return {detail for detail in session.scalars(released) if detail}


def auto_assign(session: Session, now: datetime) -> int:
    """With the round robin on: chats given to agents who left go back to the queue, then each waiting,
    unassigned chat (the longest waiting first) goes to the online agent (role agent) under the chat
    limit with the fewest chats, of equals the one given a chat longest ago. Returns how many were given."""
    desk = settings(session)
    if not desk.auto_assign:
        return 0
    release_absent(session, now)
    waiting = session.scalars(
        select(Handoff.id)
        .where(Handoff.status == "waiting", Handoff.assigned_to.is_(None))
        .order_by(Handoff.created_at, Handoff.id)
    ).all()
    given = 0
    for handoff_id in waiting:
        agents = [load for load in loads(session, now) if load.user.role == Role.AGENT]
        agent = _next_agent(session, agents, desk.chat_limit, _let_go(session, handoff_id))
        if agent is None:
            break
        if _give(session, handoff_id, agent, desk.chat_limit, now):
            given += 1
    return given


# The most chats of one member of staff whose residents the top bar watches.
HELD_CHATS = 20


def bar_counts(session: Session, staff_name: str) -> tuple[dict[str, int], list[str]]:
    """The counts (chats waiting, of them given to this member of staff, deadlines breached, deadlines
    reminded and not yet breached), and the residents of the chats this member of staff holds or was given."""
    open_deadlines = select(func.count()).select_from(Deadline).where(Deadline.met_at.is_(None))
    reminded = open_deadlines.where(Deadline.reminded_at.is_not(None), Deadline.breached_at.is_(None))
    # the waiting chats counted once, in one pass (every page's stream looks each second)
    waiting, given, unassigned = session.execute(
        select(
            func.count(),
            func.count().filter(Handoff.assigned_to == staff_name),
            func.count().filter(Handoff.assigned_to.is_(None)),
        ).where(Handoff.status == "waiting")
    ).one()
    found = {
        "waiting": waiting,
        "given": given,
        "unassigned": unassigned,
        "breached": session.scalar(open_deadlines.where(Deadline.breached_at.is_not(None))) or 0,
        "reminded": session.scalar(reminded) or 0,
    }
    held = or_(Handoff.taken_by == staff_name, Handoff.assigned_to == staff_name)
    mine = select(Handoff.resident_openid).where(Handoff.status.in_(("waiting", "active")), held)
    return found, list(session.scalars(mine.order_by(Handoff.id.desc()).limit(HELD_CHATS)))
