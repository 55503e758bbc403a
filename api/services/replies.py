"""Quick replies: the shared ones supervisors keep (numbered for good, Alt+1…9), each member of staff's own,
the variables a reply may carry ({单号}, {时限}, {居民称呼}) filled from the chat's order and resident, and
macros: a shared reply that also does one thing (respond to or dispatch the chat's order, or end the chat)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.errors import Conflict, Forbidden, NotFound, Unprocessable
from api.models import CannedReply, Deadline, Handoff, PersonalReply, Resident, WorkOrder
from api.services.audit import record
from api.services.principals import Principal
from heating_standard.lifecycle import deadline_label
from heating_standard.localtime import LOCAL_TZ

# What a macro does besides sending its text, in the words staff see.
MACRO_ACTIONS = {
    "respond": "并标记工单已响应",
    "dispatch": "并派工",
    "close": "并交还机器人、结束会话",
}
# The variables a reply may carry, and what each becomes (``values``).
VARIABLES = {
    "{单号}": "本会话关联工单的单号",
    "{时限}": "该工单最近一个未到的时限（北京时间）及其条款",
    "{居民称呼}": "居民留下的姓名，未留下时为“居民”",
}
PERSONAL_MOST = 50  # each is offered twice in every chat panel (the list and the picker)
_VARIABLE = re.compile(r"\{(单号|时限|居民称呼)\}")


@dataclass(frozen=True)
class Picked:
    """A reply as the chat page offers it: shared (with its number and macro) or the agent's own."""

    key: str  # "s<id>" or "p<id>"
    title: str
    text: str
    position: int | None
    action: str | None


def canned_replies(session: Session) -> list[CannedReply]:
    """The quick replies by their numbers."""
    return list(
        session.scalars(select(CannedReply).where(CannedReply.deleted_at.is_(None)).order_by(CannedReply.position))
    )


def add_canned_reply(session: Session, principal: Principal, title: str, text: str, now: datetime) -> CannedReply:
    """Supervisors keep the quick replies (快捷回复)."""
    if not principal.may_approve:
        raise Forbidden("only a supervisor may change the quick replies")
    if session.scalars(select(CannedReply).where(CannedReply.title == title)).first() is not None:
        raise Conflict(f"a quick reply is already called {title}")
    last = session.scalar(select(func.max(CannedReply.position))) or 0
    reply = CannedReply(title=title, text=text, created_by=principal.name, created_at=now, position=last + 1)
    session.add(reply)
    record(session, now, principal.name, "canned_reply.add", title)
    try:
        session.commit()
    except IntegrityError:  # another supervisor added one (or this title) at the same moment
        session.rollback()
        raise Conflict("快捷回复刚被别人改过，请刷新后再添加") from None
    return reply


def edit_canned_reply(
    session: Session, principal: Principal, reply_id: int, title: str, text: str, now: datetime
) -> CannedReply:
    """A supervisor rewords a quick reply; its number stays."""
    if not principal.may_approve:
        raise Forbidden("only a supervisor may change the quick replies")
    reply = session.get(CannedReply, reply_id)
    if reply is None or reply.deleted_at is not None:
        raise NotFound(f"quick reply {reply_id} does not exist")
    clash = session.scalars(select(CannedReply).where(CannedReply.title == title, CannedReply.id != reply_id)).first()
    if clash is not None:
        raise Conflict(f"已有名为“{title}”的快捷回复")
    reply.title, reply.text = title, text
    record(session, now, principal.name, "canned_reply.edit", title)
    session.commit()
    return reply


def delete_canned_reply(session: Session, principal: Principal, reply_id: int, now: datetime) -> None:
    if not principal.may_approve:
        raise Forbidden("only a supervisor may change the quick replies")
    reply = session.get(CannedReply, reply_id)
    if reply is None or reply.deleted_at is not None:
        raise NotFound(f"quick reply {reply_id} does not exist")
    record(session, now, principal.name, "canned_reply.delete", reply.title)
    # kept, with its title freed for a new reply: its number is never given to another
    reply.deleted_at, reply.title = now, f"已删除#{reply.id}"
    session.commit()


def set_macro(session: Session, principal: Principal, reply_id: int, action: str | None, now: datetime) -> None:
    """A supervisor makes a shared reply a macro (or plain again)."""
    if not principal.may_approve:
        raise Forbidden("只有班长可以设置一键操作")
    if action is not None and action not in MACRO_ACTIONS:
        raise Unprocessable("action", "不认识的一键操作")
    reply = session.get(CannedReply, reply_id)
    if reply is None or reply.deleted_at is not None:
        raise NotFound(f"quick reply {reply_id} does not exist")
    reply.action = action
    record(session, now, principal.name, "canned_reply.macro", reply.title, action or "none")
    session.commit()


# ------------------------------------------------------------------------------- one's own replies


def personal_replies(session: Session, owner: str) -> list[PersonalReply]:
    """A member of staff's own quick replies, by title."""
    return list(
        session.scalars(select(PersonalReply).where(PersonalReply.owner == owner).order_by(PersonalReply.title))
    )


def add_personal_reply(session: Session, principal: Principal, title: str, text: str, now: datetime) -> PersonalReply:
    """Anyone on the desk keeps replies of their own; only they see them."""
    taken = select(PersonalReply).where(PersonalReply.owner == principal.name, PersonalReply.title == title)
    if session.scalars(taken).first() is not None:
        raise Conflict(f"您已有名为“{title}”的快捷回复")
    kept = session.scalar(select(func.count()).select_from(PersonalReply).where(PersonalReply.owner == principal.name))
    if (kept or 0) >= PERSONAL_MOST:
        raise Conflict(f"每人最多保存 {PERSONAL_MOST} 条自己的快捷回复，请先删去不用的")
    reply = PersonalReply(owner=principal.name, title=title, text=text, created_at=now)
    session.add(reply)
    try:
        session.commit()
    except IntegrityError:  # the same title from another page of theirs at the same moment
        session.rollback()
        raise Conflict(f"您已有名为“{title}”的快捷回复") from None
    return reply


def _own(session: Session, principal: Principal, reply_id: int) -> PersonalReply:
    reply = session.get(PersonalReply, reply_id)
    if reply is None or reply.owner != principal.name:  # another's reply is as good as absent
        raise NotFound(f"您没有编号为 {reply_id} 的个人快捷回复")
    return reply


def edit_personal_reply(
    session: Session, principal: Principal, reply_id: int, title: str, text: str, now: datetime
) -> None:
    reply = _own(session, principal, reply_id)
    clash = select(PersonalReply).where(
        PersonalReply.owner == principal.name, PersonalReply.title == title, PersonalReply.id != reply_id
    )
    if session.scalars(clash).first() is not None:
        raise Conflict(f"您已有名为“{title}”的快捷回复")
    reply.title, reply.text = title, text
    try:
        session.commit()
    except IntegrityError:  # the same title saved from another page of theirs at the same moment
        session.rollback()
        raise Conflict(f"您已有名为“{title}”的快捷回复") from None


def delete_personal_reply(session: Session, principal: Principal, reply_id: int, now: datetime) -> None:
    session.delete(_own(session, principal, reply_id))
    session.commit()


def offered(session: Session, principal: Principal) -> list[Picked]:
    """What the chat page offers this member of staff: the shared replies by number, then their own."""
    shared = [Picked(f"s{r.id}", r.title, r.text, r.position, r.action) for r in canned_replies(session)]
    own = [Picked(f"p{r.id}", r.title, r.text, None, None) for r in personal_replies(session, principal.name)]
    return shared + own


# ------------------------------------------------------------------------------- variables


def values(session: Session, handoff: Handoff, now: datetime) -> dict[str, str]:
    """What each variable becomes in this chat; a variable without a value (no order linked, no open
    deadline) is left out, and a reply carrying it is refused rather than sent half-filled."""
    found: dict[str, str] = {}
    order = session.get(WorkOrder, handoff.work_order_id) if handoff.work_order_id else None
    resident = session.scalars(select(Resident).where(Resident.openid == handoff.resident_openid)).first()
    name = (order.contact_name if order else None) or (resident.name if resident else None)
    found["{居民称呼}"] = name.strip() if name and name.strip() else "居民"
    if order is None:
        return found
    found["{单号}"] = order.number or str(order.id)
    due = session.scalars(
        select(Deadline)
        .where(Deadline.order_id == order.id, Deadline.met_at.is_(None), Deadline.due_at > now)
        .order_by(Deadline.due_at)
    ).first()
    if due is not None:
        label, clause = deadline_label(due.name, order.kind, order.business_type)
        when = due.due_at.astimezone(LOCAL_TZ).strftime("%m月%d日%H:%M")
        found["{时限}"] = f"{when}前（{label}，{clause}）" if clause else f"{when}前（{label}）"
    return found


def fill(text: str, known: dict[str, str]) -> str:
    """The text with its variables filled; one that has no value here is refused, naming it."""
    missing = sorted({m.group(0) for m in _VARIABLE.finditer(text)} - known.keys())
    if missing:
        why = "本会话还没有关联工单" if "{单号}" in missing else "关联的工单没有未到的时限"
        raise Unprocessable("text", f"{why}，无法填写{'、'.join(missing)}：请先关联或登记工单，或删去这些变量")
    return _VARIABLE.sub(lambda m: known[m.group(0)], text)


def macro(session: Session, reply_id: int) -> CannedReply:
    """A shared reply that acts (NotFound for a plain reply, a deleted one, or none)."""
    reply = session.get(CannedReply, reply_id)
    if reply is None or reply.deleted_at is not None or reply.action is None:
        raise NotFound(f"没有编号为 {reply_id} 的一键操作")
    return reply
