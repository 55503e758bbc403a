"""The call-back campaign of 10.1.8 and the yearly survey of 14.3.2 e (rules: ``heating_standard.campaigns``).

A supervisor starts one. The call-back campaign takes the last heating year's finished orders: every new
connection (报装), every provincial or 互联网+督查 order, and the city hotline's by the operator file's share
(a seeded draw, kept with the campaign's label). The survey takes every resident who follows the account.
Whoever is on WeChat is asked there through the bot (``EXTERNAL_campaign_question``; the answer comes back
with ``answer``); the others are listed for staff to call, who record the answer the same way. The figures
(called back, satisfied) are shown beside the KPIs.
"""

from __future__ import annotations

import random
import secrets
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.errors import Conflict, NotFound, Unprocessable
from api.models import Campaign, CampaignContact, Resident, WorkOrder
from api.schemas import CampaignContactPublic, CampaignCreate, CampaignSummary
from api.services.audit import record
from api.services.principals import Principal, Role
from api.services.scheduler import notify
from heating_standard import campaigns as rules
from heating_standard.campaigns import CampaignKind
from heating_standard.localtime import LOCAL_TZ, local_date
from heating_standard.operator import OperatorFile
from heating_standard.orders import BusinessType, Kind, Status
from heating_standard.privacy import mask_phone

CAMPAIGN_QUESTION = "campaign_question"
FINISHED = (Status.COMPLETED.value, Status.CALLED_BACK.value, Status.CLOSED.value)


def _callback_orders(
    session: Session, config: OperatorFile, now: datetime, seed: int
) -> tuple[str, str, list[WorkOrder]]:
    """10.1.8's orders of the last heating year: the year, how they were chosen, and the orders."""
    year = rules.last_heating_year(local_date(now), config.seasons())
    if year is None:
        raise Unprocessable("kind", "运营配置中没有已经结束的供暖季，无法确定“上一供暖季”（10.1.8）")
    start = datetime.combine(year[0], datetime.min.time(), LOCAL_TZ)
    end = datetime.combine(year[1], datetime.min.time(), LOCAL_TZ)
    finished = select(WorkOrder).where(
        WorkOrder.accepted_at >= start, WorkOrder.accepted_at < end, WorkOrder.status.in_(FINISHED)
    )
    connections = session.scalars(
        finished.where(WorkOrder.kind == Kind.BUSINESS.value, WorkOrder.business_type == BusinessType.APPLY_CONNECTION)
    ).all()
    whole = session.scalars(finished.where(WorkOrder.source.in_([s.value for s in rules.ALL_CALLED_BACK]))).all()
    city = list(session.scalars(finished.where(WorkOrder.source.in_([s.value for s in rules.SHARED_CALLED_BACK]))))
    share = config.callbacks.city_hotline_share
    drawn = random.Random(seed).sample(city, k=round(len(city) * share)) if share else []
    chosen = {o.id: o for o in [*connections, *whole, *drawn]}
    period = f"{year[0].year}-{year[1].year}"
    how = f"市级热线按 {share:g} 抽取（种子 {seed}）" if share else "运营配置未设市级热线抽取比例，未抽取"
    return period, f"{period} 供暖季的报装、省级及互联网+督查诉求；{how}", sorted(chosen.values(), key=lambda o: o.id)


def start(
    session: Session, body: CampaignCreate, config: OperatorFile, principal: Principal, now: datetime
) -> Campaign:
    """Start the campaign and ask every contact on WeChat; one of each kind a year."""
    seed = body.seed if body.seed is not None else secrets.randbelow(2**31)
    contacts: list[tuple[int | None, str | None, str | None]]
    if body.kind == CampaignKind.CALLBACK:
        period, label, orders = _callback_orders(session, config, now, seed)
        contacts = [(o.id, o.resident_openid, o.number) for o in orders]
    else:
        period = str(local_date(now).year)
        label = f"{period} 年度热用户供暖服务质量调查（全体关注公众号的住户）"
        followers = session.scalars(select(Resident.openid).where(Resident.openid.is_not(None)).order_by(Resident.id))
        contacts = [(None, openid, None) for openid in followers]
    taken = session.scalar(select(Campaign.id).where(Campaign.kind == body.kind.value, Campaign.period == period))
    if taken is not None:
        raise Conflict(f"{period} 的回访或调查已经开始过（每年一次）", code="campaign_exists")
    if not contacts:
        raise Unprocessable("kind", "没有需要回访或调查的住户")
    campaign = Campaign(kind=body.kind.value, period=period, label=label, created_by=principal.name, created_at=now)
    session.add(campaign)
    session.flush()
    for order_id, openid, number in contacts:
        contact = CampaignContact(campaign_id=campaign.id, order_id=order_id, resident_openid=openid)
        session.add(contact)
        session.flush()
        if openid:
            key = f"{CAMPAIGN_QUESTION}:{contact.id}"
            message = rules.question(body.kind, config.company.standard, number)
            contact.notification_id = notify(
                session, kind=CAMPAIGN_QUESTION, key=key, message=message, now=now, recipient_openid=openid
            )
    record(session, now, principal.name, "campaign.start", f"campaign:{campaign.id}", label)
    session.commit()
    return campaign


def answer(
    session: Session,
    contact_id: int,
    rating: rules.Rating,
    note: str | None,
    openid: str | None,
    principal: Principal,
    now: datetime,
) -> CampaignContact:
    """The contact's answer, once (one conditional update): the bot's for its resident, or staff's by phone
    with a note of the call."""
    contact = session.get(CampaignContact, contact_id)
    if contact is None:
        raise NotFound(f"campaign contact {contact_id} does not exist")
    if principal.role == Role.MACHINE:
        if not openid or contact.resident_openid != openid:
            raise NotFound(f"campaign contact {contact_id} does not exist for this resident")
        by = "居民（微信）"
    elif not note:
        raise Unprocessable("note", "请记录电话回访的情况")
    else:
        by = principal.name
    moved = session.execute(
        update(CampaignContact)
        .where(CampaignContact.id == contact_id, CampaignContact.answered_at.is_(None))
        .values(rating=rating.value, note=note, answered_at=now, answered_by=by)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount == 0:  # type: ignore[attr-defined]
        session.rollback()
        raise Conflict("this contact has answered already", code="answered_already")
    session.commit()
    session.refresh(contact)
    return contact


def summaries(session: Session) -> list[CampaignSummary]:
    found = []
    for campaign in session.scalars(select(Campaign).order_by(Campaign.id.desc())):
        rows = session.execute(
            select(CampaignContact.rating, CampaignContact.resident_openid).where(
                CampaignContact.campaign_id == campaign.id
            )
        ).all()
        figures = rules.figures(len(rows), [r.rating for r in rows])
        found.append(
            CampaignSummary(
                id=campaign.id,
                kind=CampaignKind(campaign.kind),
                period=campaign.period,
                label=campaign.label,
                created_by=campaign.created_by,
                created_at=campaign.created_at,
                contacts=figures.contacts,
                answered=figures.answered,
                satisfied=figures.satisfied,
                basically_satisfied=figures.basically,
                unsatisfied=figures.unsatisfied,
                answered_rate=figures.answered_rate,
                satisfied_rate=figures.satisfied_rate,
                to_phone=sum(1 for r in rows if r.resident_openid is None and r.rating is None),
            )
        )
    return found


def contacts(session: Session, campaign_id: int, only_to_phone: bool) -> list[CampaignContactPublic]:
    """The campaign's contacts (those to call, when asked), with the order and the masked phone."""
    if session.get(Campaign, campaign_id) is None:
        raise NotFound(f"campaign {campaign_id} does not exist")
    query = select(CampaignContact).where(CampaignContact.campaign_id == campaign_id).order_by(CampaignContact.id)
    if only_to_phone:
        query = query.where(CampaignContact.resident_openid.is_(None), CampaignContact.answered_at.is_(None))
    listed = list(session.scalars(query))
    orders = {o.id: o for o in session.scalars(select(WorkOrder).where(WorkOrder.id.in_([c.order_id for c in listed])))}
    shown = []
    for contact in listed:
        order = orders.get(contact.order_id) if contact.order_id else None
        public = CampaignContactPublic.model_validate(contact)
        extra = {"order_number": order.number if order else None, "phone": mask_phone(order.phone if order else None)}
        shown.append(public.model_copy(update=extra))
    return shown
