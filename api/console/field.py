"""我的工单: a technician's phone view of the orders dispatched to their account, with arrival (10.2.4),
the quote (10.2.2) and completion with the visit's record (10.2.5) recorded on site.

Only the technician role reaches these pages (``FieldDeskDep``), and every order is read through
``order_actions.check_dispatched_to``: an order dispatched to someone else answers exactly as one that does
not exist. The actions go through ``order_actions.perform_action``, as on the order page, so the state
machine, the owners of each action and the deadlines' bookkeeping have one home.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from api.console.orders import open_deadlines
from api.console.pages import Desk, FieldDeskDep, FieldWritingDeskDep, temperature_test_form, validated
from api.deps import IdPath
from api.errors import Conflict, NotFound, Unprocessable
from api.models import WorkOrder
from api.schemas import ActionRequest, QuoteItem
from api.services import order_actions, work_orders
from api.services.work_orders import shown
from api.views import labels
from heating_standard.lifecycle import Action, TransitionRefused, allowed_actions, next_status
from heating_standard.orders import Kind, Status

router = APIRouter()

# What a technician records on site, in the order of the work.
FIELD_ACTIONS = (Action.ARRIVE, Action.QUOTE, Action.COMPLETE)
# Finished orders stay in the list this long, so the technician sees what they recorded.
RECENT = timedelta(days=3)
# The quote form's rows (a repair's quote has a few lines: work, parts).
QUOTE_ROWS = 5
# The deadlines a technician on the way must meet: the leak's handling (10.2.3) and the arrival (10.2.4).
ON_THE_WAY = ("handle", "arrival")
SATISFACTION = {
    "satisfied": "满意",
    "basically_satisfied": "基本满意",
    "unsatisfied": "不满意",
    "not_given": "居民未评价",
}
QUOTE_FIELDS = {"item": "项目", "material": "材料", "quantity": "数量", "price": "单价"}


def _card(desk: Desk, order: WorkOrder, deadlines: list[dict[str, Any]]) -> dict[str, Any]:
    """One order as the technician's card shows it: masked as staff see it elsewhere (12.1), the next
    deadline they must meet, what they may record now, and why the work waits when it does."""
    state = order_actions.order_state(order)
    offered = [a for a in allowed_actions(state) if a in FIELD_ACTIONS]
    waiting = None
    if state.quote_pending and order.status in (Status.DISPATCHED, Status.ARRIVED):
        # the state machine's own reason why the next step of the work waits (10.2.2)
        try:
            next_status(state, Action.ARRIVE if order.status == Status.DISPATCHED else Action.COMPLETE)
        except TransitionRefused as exc:
            waiting = exc.reason
    return {
        "o": shown(order, desk.principal),
        "open": order.status in (Status.DISPATCHED, Status.ARRIVED),
        "next": _next_deadline(order, deadlines),
        "deadlines": deadlines,
        "offered": offered,
        "waiting": waiting,
        "wechat": bool(order.resident_openid),
        "temperature_test": order.kind == Kind.TEMPERATURE_TEST,
    }


def _next_deadline(order: WorkOrder, deadlines: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The deadline the technician must meet next: on the way, the leak's handling or the arrival;
    once there (or when neither runs), the order's soonest open deadline."""
    if order.status == Status.DISPATCHED:
        on_the_way = [d for d in deadlines if d["name"] in ON_THE_WAY]
        if on_the_way:
            return on_the_way[0]
    return deadlines[0] if deadlines else None


def _urgency(card: dict[str, Any]) -> tuple[int, datetime, int]:
    """Open orders first, soonest next deadline first (none last); finished ones after, newest first."""
    far = datetime.max.replace(tzinfo=None)
    due = card["next"]["due_at"].replace(tzinfo=None) if card["next"] else far
    return (0 if card["open"] else 1, due if card["open"] else far, -card["o"].id)


def _cards(desk: Desk) -> list[dict[str, Any]]:
    orders = work_orders.dispatched_to(desk.session, desk.principal, desk.now - RECENT)
    deadlines = open_deadlines(desk, [o.id for o in orders])
    return sorted((_card(desk, o, deadlines[o.id]) for o in orders), key=_urgency)


def _own_order(desk: Desk, order_id: int) -> WorkOrder:
    """The order, if it is dispatched to this technician (else 404, as for one that does not exist)."""
    order = work_orders.find(desk.session, order_id)
    if order is None:
        raise NotFound(order_actions.NOT_YOURS)
    order_actions.check_dispatched_to(order, desk.principal)
    return order


def _render_card(desk: Desk, order: WorkOrder) -> HTMLResponse:
    deadlines = open_deadlines(desk, [order.id])[order.id]
    return desk.render("_field_card.html", c=_card(desk, order, deadlines), **_words())


def _words() -> dict[str, Any]:
    return {"labels": labels, "satisfaction": SATISFACTION, "quote_rows": range(1, QUOTE_ROWS + 1)}


@router.get("/field", response_class=HTMLResponse)
def my_orders(desk: FieldDeskDep) -> HTMLResponse:
    cards = _cards(desk)
    return desk.render(
        "field.html",
        cards=[c for c in cards if c["open"]],
        finished=[c for c in cards if not c["open"]],
        recent_days=RECENT.days,
        **_words(),
    )


@router.get("/field/{order_id}/contact", response_class=HTMLResponse)
def order_contact(order_id: IdPath, desk: FieldDeskDep) -> HTMLResponse:
    """The whole phone and address of the technician's own order, to call ahead and find the flat
    (10.2.4); read on purpose and kept on the order's audit trail (12.1), as staff's reads are."""
    order = _own_order(desk, order_id)
    if order.status not in (Status.DISPATCHED, Status.ARRIVED):  # the visit is over: nothing to call ahead for
        raise Conflict("这张工单已不在待上门或上门中，不能再查看完整地址电话", code="transition_not_allowed")
    work_orders.record_contact_view(desk.session, order, desk.principal, desk.now)
    return desk.render("_contact.html", order=order)


@router.post("/field/{order_id}/actions/{action}", response_class=HTMLResponse)
def act(order_id: IdPath, action: Action, desk: FieldWritingDeskDep) -> HTMLResponse:
    """Record arrival, a quote or completion on the technician's own order; the order page's service
    decides (who may, in which state, what must be recorded) and keeps the deadlines."""
    body = field_request(action, desk.form)
    ctx = desk.ctx
    order = order_actions.perform_action(desk.session, order_id, action, body, desk.principal, ctx)
    return _render_card(desk, order)


def field_request(action: Action, form: dict[str, str]) -> ActionRequest:
    """The card's form as the API's ActionRequest. The time is now (the technician records as it
    happens) and the technician is the account's own; a bad field is a 422 naming it in words."""
    body: dict[str, Any] = {}
    for name in ("note", "result", "site_satisfaction"):
        if form.get(name, "").strip():
            body[name] = form[name].strip()
    record = temperature_test_form(form)
    if record is not None:
        body["temperature_test"] = record
    if action == Action.QUOTE:
        body["quote_items"] = quote_items(form)
    try:
        return validated(ActionRequest, body)
    except Unprocessable as exc:
        # the form's own fields, said in words (the API's rule stays the check); "readings.1" is "readings"
        rule = next((name for name in FORM_RULES if exc.field == name or exc.field.startswith(f"{name}.")), None)
        if rule is not None:
            raise Unprocessable(exc.field, FORM_RULES[rule]) from None
        raise


# What ActionRequest asks of the completion form's fields, in words.
FORM_RULES = {
    "site_satisfaction": "请选择居民满意度：满意、基本满意、不满意或居民未评价",
    "temperature_test.readings": "须填写三次读数，每次为-10到40之间的数字（℃）",
    "temperature_test.instrument": "请填写所用温度计（5.4.5）",
    "temperature_test.resolution": "温度计最小分度值应不大于0.1℃（5.4.5）",
    "temperature_test.room": "请选择测量的房间：卧室或起居室（5.1）",
    "temperature_test.signature": "请选择居民签字确认的方式（10.3 第1条 a）",
    "result": "处理结果最多4000字",
    "note": "备注最多4000字",
}


def quote_items(form: dict[str, str]) -> list[dict[str, Any]]:
    """The quote's rows (项目, 材料, 数量, 单价), each checked as the API checks a quote line (QuoteItem),
    with the row and the field named in words."""
    items = []
    for row in range(1, QUOTE_ROWS + 1):
        cells = {name: form.get(f"{name}_{row}", "").strip() for name in QUOTE_FIELDS}
        if not any(cells.values()):
            continue
        line: dict[str, Any] = {"item": cells["item"], "material": cells["material"] or None}
        try:
            line["quantity"] = int(cells["quantity"] or "1")
            line["price"] = str(Decimal(cells["price"]))
        except (ValueError, InvalidOperation):
            raise Unprocessable("quote_items", f"第{row}项的数量或单价不是数字") from None
        try:
            items.append(QuoteItem.model_validate(line).model_dump(mode="json"))
        except ValidationError as exc:
            name = str(exc.errors()[0]["loc"][0])
            words = f"第{row}项的{QUOTE_FIELDS.get(name, name)}填写有误：{_rule(name)}"
            raise Unprocessable("quote_items", words) from None
    return items


def _rule(name: str) -> str:
    """What QuoteItem asks of a field, in words."""
    return {
        "item": "须填写，200字以内",
        "material": "200字以内",
        "quantity": "须为1到1000的整数",
        "price": "须为不小于0、最多两位小数的金额",
    }.get(name, "请检查")
