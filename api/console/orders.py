"""The order board: work orders against the clock, one order's deadlines, history and actions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from api.console.pages import Desk, DeskDep, WritingDeskDep, explained, local_time, temperature_test_form, validated
from api.deps import IdPath
from api.errors import AppError, Conflict, Forbidden, Unprocessable
from api.models import CallbackTask, Deadline, WorkOrder, WorkOrderEvent
from api.schemas import ActionRequest, ClaimCreate, ClaimStep, TemperatureFinding, WorkOrderFilter
from api.services import (
    callbacks,
    claims,
    deadline_watch,
    media,
    order_actions,
    people,
    quotes,
    temperature_results,
    work_orders,
)
from api.services.principals import SUPERVISOR_ROLES, Role
from api.services.work_orders import shown
from api.views import labels
from heating_standard.lifecycle import Action, allowed_actions, deadline_label
from heating_standard.orders import Category, Kind, Source, Status

router = APIRouter()

DUE_SOON = timedelta(hours=1)
BOARD_SIZE = 200
OPEN = [Status.ACCEPTED, Status.RESPONDED, Status.DISPATCHED, Status.ARRIVED, Status.COMPLETED]


def _choice(enum: Any, value: str | None) -> Any:
    """A filter's value as its enum member; an empty or unknown value is no filter."""
    try:
        return enum(value) if value else None
    except ValueError:
        return None


def _filters(desk: Desk, params: dict[str, str]) -> tuple[WorkOrderFilter, dict[str, str]]:
    """The board's filters and search box; by urgency unless "newest" is chosen (overdue and the
    soonest deadline first: tomorrow's visit never sits above an order already late)."""
    status = _choice(Status, params.get("status"))
    due = params.get("due", "")
    community = (params.get("community") or "").strip()[:64]
    filters = WorkOrderFilter(
        status=[status] if status else (OPEN if params.get("status") != "all" else None),
        source=_choice(Source, params.get("source")),
        kind=_choice(Kind, params.get("kind")),
        category=_choice(Category, params.get("category")),
        community=[community] if community else None,
        overdue=True if due == "overdue" else None,
        due_before=desk.now + DUE_SOON if due == "soon" else None,
        q=(params.get("q") or "").strip()[:64] or None,
        sort="newest" if params.get("sort") == "newest" else "urgency",
        limit=BOARD_SIZE,
    )
    keys = ("status", "source", "kind", "category", "community", "due", "q", "sort")
    chosen = {key: params.get(key, "") for key in keys}
    return filters, chosen


def _next_callback(desk: Desk, order: WorkOrder) -> CallbackTask | None:
    """The earliest call-back still to make (10.1.6, 10.1.7), from the moment the order is completed."""
    return callbacks.next_of(desk.session, order.id)


def open_deadlines(desk: Desk, order_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Every open deadline of these orders, soonest first, with its label, clause and state."""
    found: dict[int, list[dict[str, Any]]] = {oid: [] for oid in order_ids}
    if not order_ids:
        return found
    for row, kind, business_type in deadline_watch.open_of(desk.session, order_ids):
        found[row.order_id].append(deadline_view(desk.now, row, kind, business_type))
    return found


def deadline_view(now: datetime, row: Deadline, kind: str, business_type: str | None) -> dict[str, Any]:
    label, clause = deadline_label(row.name, kind, business_type)
    left = (row.due_at - now).total_seconds()
    state = "overdue" if left < 0 else ("soon" if left < DUE_SOON.total_seconds() else "ok")
    return {
        "name": row.name,
        "label": label,
        "clause": clause,
        "due_at": row.due_at,
        "left": left,
        "state": state,
        "met_at": row.met_at,
    }


def _board(desk: Desk) -> dict[str, Any]:
    filters, chosen = _filters(desk, dict(desk.request.query_params))
    orders, total = work_orders.list_work_orders(desk.session, filters, desk.now)
    deadlines = open_deadlines(desk, [o.id for o in orders])
    rows = [{"o": shown(o, desk.principal), "deadlines": deadlines[o.id]} for o in orders]
    technicians = work_orders.technician_accounts(desk.session)
    return {"rows": rows, "total": total, "chosen": chosen, "labels": labels, "technicians": technicians}


@router.get("/orders", response_class=HTMLResponse)
def board_page(desk: DeskDep) -> HTMLResponse:
    return desk.render_page("orders.html", "_orders_table.html", **_board(desk))


BULK_MOST = 50


@router.post("/orders/bulk-dispatch", response_class=HTMLResponse)
def bulk_dispatch(desk: WritingDeskDep) -> HTMLResponse:
    """Dispatch the ticked orders to one technician, each on its own (the rules of a single dispatch:
    its state, its deadlines, its history): those that may be dispatched are, the others are listed with
    the reason, and the board is shown again with the same filters."""
    picked = sorted({int(i) for i in desk.lists.get("order_id", []) if i.isdigit() and len(i) < 10})
    if not picked:
        raise Unprocessable("order_id", "请先勾选要派工的工单")
    if len(picked) > BULK_MOST:
        raise Unprocessable("order_id", f"一次最多派 {BULK_MOST} 张工单")
    chosen = {"technician": desk.form.get("technician", ""), "technician_id": desk.form.get("technician_id", "")}
    body = action_request(Action.DISPATCH, chosen)
    done, refused = [], []
    for order_id in picked:
        ctx = desk.ctx
        try:
            order = order_actions.perform_action(desk.session, order_id, Action.DISPATCH, body, desk.principal, ctx)
            done.append(order.number or str(order.id))
        except AppError as exc:
            desk.session.rollback()
            found = work_orders.find(desk.session, order_id)
            name = (found.number or str(found.id)) if found else f"#{order_id}"
            state = f"（当前状态：{labels.words(labels.STATUSES, found.status)}）" if found else ""
            refused.append(f"{name}：{explained(exc)[0]}{state}")
    named = body.technician or next(
        (t.display_name for t in work_orders.technician_accounts(desk.session) if str(t.id) == chosen["technician_id"]),
        "",
    )
    result = {"technician": named, "done": done, "refused": refused}
    return desk.render("_orders_table.html", **_board(desk), bulk=result)


def _order_context(desk: Desk, order_id: int) -> dict[str, Any]:
    order = work_orders.get_work_order(desk.session, order_id)
    deadlines = deadline_watch.of_order(desk.session, order.id)
    actions = offered_actions(order, desk.principal.role in SUPERVISOR_ROLES)
    forwarded_by = people.grid_worker(desk.session, order.forwarded_by_grid_worker_id)
    return {
        "o": shown(order, desk.principal),
        "order": order,
        "forwarded_by": forwarded_by,
        "photos": media.for_order(desk.session, order.id),
        "deadlines": [deadline_view(desk.now, d, order.kind, order.business_type) for d in deadlines],
        "events": order.events,
        "history": history(order),
        "quote": quotes.pending_quote(desk.session, order),
        "next_callback": _next_callback(desk, order),
        "actions": actions,
        "labels": labels,
        "backdate_minutes": int(desk.settings.backdate_window_minutes),
        "technicians": work_orders.technician_accounts(desk.session) if Action.DISPATCH in actions else [],
    }


CALLBACK_METHODS = {"phone": "电话", "face_to_face": "上门", "wechat": "微信问卷"}


def _moment(value: object) -> str:
    """A time the history keeps as ISO text, in Beijing time ("12-12 09:00"); "" when absent."""
    if not isinstance(value, str) or not value:
        return ""
    try:
        return local_time(datetime.fromisoformat(value))
    except ValueError:
        return ""


def _yuan(value: object) -> str:
    try:
        return f"{Decimal(str(value)):.2f}"
    except (InvalidOperation, ValueError):
        return str(value)


def _verdict(value: object) -> str:
    return "满意" if value is True else "不满意" if value is False else "—"


def event_label(event: WorkOrderEvent) -> str:
    """What the history calls an event; a quote confirmed by the resident in WeChat (the bot records it)
    is not the paper confirmation staff record for a resident without WeChat (10.2.2)."""
    if event.action == Action.CONFIRM_QUOTE.value and event.actor == Role.MACHINE.value:
        return "居民在微信中确认报价"
    return labels.EVENTS.get(event.action, event.action)


def event_details(event: WorkOrderEvent, order: WorkOrder) -> list[str]:
    """What an event changed, in words: a quote's total, a new completion time or reply deadline with
    its reason, a refusal's reason, a call-back's answers, why it was entered late."""
    data: dict[str, Any] = event.data or {}
    details: list[str] = []
    if event.action in (Action.QUOTE.value, quotes.QUOTE_RESENT) and data.get("quote_total") is not None:
        details.append(f"报价合计 {_yuan(data['quote_total'])} 元")
    worded = _DETAILS.get(event.action)
    if worded is not None:
        details += worded(data, order)
    if data.get("backdate_reason"):
        details.append(f"补录（实际发生于 {_moment(data.get('claimed_at')) or '—'}），原因：{data['backdate_reason']}")
    return details


def _rescheduled(data: dict[str, Any], _order: WorkOrder) -> list[str]:
    """10.1.4 (办结条): the new time and the reason, as the resident was told them."""
    line = f"新的办结时间 {_moment(data.get('promised_at')) or '—'}"
    if data.get("previous"):
        line += f"（原为 {_moment(data['previous'])}）"
    details = [line]
    if data.get("reason"):
        details.append(f"原因：{data['reason']}")
    if data.get("late"):
        details.append("原办结时间已过才调整：仍计为未按时办结（14.4.4）")
    if data.get("resident_told") is True:
        details.append("已通过微信告知居民")
    elif data.get("resident_told") is False:
        details.append("居民没有微信，未能告知，请电话告知")
    return details


def _extended(data: dict[str, Any], order: WorkOrder) -> list[str]:
    """10.1.4: a hotline order's reply window extended once, by working days, with the reason."""
    line = f"延期 {data['working_days']} 个工作日" if data.get("working_days") else "延期"
    if data.get("reply_due_at"):
        line += f"，新的答复期限 {_moment(data['reply_due_at'])}"
    reason = data.get("reason") or order.extension_reason  # an order is extended once: its reason
    return [line, f"理由：{reason}"] if reason else [line]


def _refused(data: dict[str, Any], _order: WorkOrder) -> list[str]:
    """9.1.2's refusal, or 10.1.4's explanation to a complainant whose cause is not the company's."""
    details = []
    if data.get("reason"):
        details.append(f"不予受理的原因：{data['reason']}；建议：{data.get('suggestion') or '—'}")
    if data.get("explanation"):
        details.append(f"非供热企业原因，向投诉人的解释：{data['explanation']}")
        if data.get("resident_told") is False:
            details.append("居民没有微信，未能告知，请电话解释（10.1.4）")
        elif data.get("resident_told") is True:
            details.append("已通过微信告知居民")
    return details


def _judged_unreasonable(data: dict[str, Any], _order: WorkOrder) -> list[str]:
    return [f"认定理由：{data['reason']}"] if data.get("reason") else []


def _called_back(data: dict[str, Any], _order: WorkOrder) -> list[str]:
    if not data.get("method"):
        return []
    method = CALLBACK_METHODS.get(data["method"], data["method"])
    process, result = _verdict(data.get("process_satisfied")), _verdict(data.get("result_satisfied"))
    return [f"{method}回访：过程{process}，结果{result}"]


# What each kind of event adds to the order's history, from what it recorded.
_DETAILS: dict[str, Callable[[dict[str, Any], WorkOrder], list[str]]] = {
    Action.RESCHEDULE.value: _rescheduled,
    Action.EXTEND.value: _extended,
    Action.CANCEL.value: _refused,
    Action.RETURN.value: _refused,
    Action.MARK_UNREASONABLE.value: _judged_unreasonable,
    Action.CALLBACK.value: _called_back,
}


def history(order: WorkOrder) -> list[dict[str, Any]]:
    """The order's events, oldest first, each with its label and what it changed."""
    return [{"e": e, "label": event_label(e), "details": event_details(e, order)} for e in order.events]


SUPERVISOR_ONLY = {a for a, owners in order_actions.ACTION_OWNERS.items() if owners == SUPERVISOR_ROLES}


def offered_actions(order: WorkOrder, may_approve: bool) -> list[Action]:
    """The actions the state machine allows now and the role may do (a resident on WeChat confirms a
    quote there; staff record a signed paper confirmation only for one without). The server checks
    all of it again when the form is sent."""
    offered: list[Action] = []
    for action in allowed_actions(order_actions.order_state(order)):
        if action in SUPERVISOR_ONLY and not may_approve:
            continue
        if action == Action.CONFIRM_QUOTE and order.resident_openid:
            continue  # the resident confirms in WeChat; staff record a paper confirmation only without it
        offered.append(action)
    return offered


@router.get("/orders/{order_id}", response_class=HTMLResponse)
def order_page(order_id: IdPath, desk: DeskDep) -> HTMLResponse:
    return desk.render("order.html", **_order_context(desk, order_id))


@router.get("/orders/{order_id}/contact", response_class=HTMLResponse)
def order_contact(order_id: IdPath, desk: DeskDep) -> HTMLResponse:
    """The whole phone and address, on purpose and audited (12.1), as the JSON API does."""
    order = work_orders.get_work_order(desk.session, order_id)
    work_orders.record_contact_view(desk.session, order, desk.principal, desk.now)
    return desk.render("_contact.html", order=order)


def action_request(action: Action, form: dict[str, str]) -> ActionRequest:
    """The action's form as the API's ActionRequest; a bad field is a 422 naming it."""
    body: dict[str, Any] = {}
    for field in ("note", "technician", "result", "reason", "suggestion", "explanation", "method", "backdate_reason"):
        if form.get(field, "").strip():
            body[field] = form[field].strip()
    for moment in ("at", "promised_at"):
        if form.get(moment):
            body[moment] = local_input(form[moment])
    if form.get("working_days"):
        body["working_days"] = form["working_days"]
    record = temperature_test_form(form)
    if record is not None:
        body["temperature_test"] = record
    for flag in ("process_satisfied", "result_satisfied"):
        if form.get(flag) in ("yes", "no"):
            body[flag] = form[flag] == "yes"
    if action == Action.QUOTE:
        body["quote_items"] = _quote_items(form)
    if action == Action.DISPATCH and form.get("technician_id", "").strip():
        body["technician_id"] = form["technician_id"].strip()  # a technician's account: their 我的工单
    if action == Action.DISPATCH and "technician" not in body and "technician_id" not in body:
        raise Unprocessable("technician", "派工须选择维修人员账号，或填写外部队伍的姓名")
    return validated(ActionRequest, body)


def local_input(value: str) -> str:
    """An <input type=datetime-local> value is Beijing time."""
    return value if ("+" in value or value.endswith("Z")) else f"{value}:00+08:00" if len(value) == 16 else value


def _quote_items(form: dict[str, str]) -> list[dict[str, Any]]:
    """Quote lines typed one per line: 项目, 材料, 数量, 单价."""
    items = []
    for number, line in enumerate((form.get("quote_lines") or "").splitlines(), start=1):
        parts = [p.strip() for p in line.replace("，", ",").split(",")]
        if not any(parts):
            continue
        if len(parts) != 4:
            raise Unprocessable("quote_lines", f"第{number}行应为：项目, 材料, 数量, 单价")
        try:
            items.append(
                {
                    "item": parts[0],
                    "material": parts[1] or None,
                    "quantity": int(parts[2]),
                    "price": str(Decimal(parts[3])),
                }
            )
        except (ValueError, InvalidOperation):
            raise Unprocessable("quote_lines", f"第{number}行的数量或单价不是数字") from None
    return items


@router.post("/orders/{order_id}/quote/resend", response_class=HTMLResponse)
def resend_quote(order_id: IdPath, desk: WritingDeskDep) -> HTMLResponse:
    """重新发送: the quote that waits for the resident goes to them in WeChat again (the API's rule)."""
    quotes.resend_quote(desk.session, order_id, desk.principal, desk.now)
    return desk.render("_order_body.html", **_order_context(desk, order_id))


@router.post("/orders/{order_id}/survey", response_class=HTMLResponse)
def send_survey(order_id: IdPath, desk: WritingDeskDep) -> HTMLResponse:
    """发微信问卷 from the order, as soon as it is completed (10.1.6): a supervisor asks the bot to run the
    satisfaction survey for the order's next call-back (the API's rule, as on the call-backs page)."""
    if not desk.principal.may_approve:
        raise Forbidden("only a supervisor sends the WeChat survey")
    order = work_orders.get_work_order(desk.session, order_id)
    task = _next_callback(desk, order)
    if task is None:
        raise Conflict("这张工单没有待做的回访", code="transition_not_allowed")
    callbacks.send_survey(desk.session, task.id, desk.bot, desk.now, desk.principal.name)
    return desk.render("_order_body.html", **_order_context(desk, order_id))


@router.post("/orders/{order_id}/claim", response_class=HTMLResponse)
def open_claim(order_id: IdPath, desk: WritingDeskDep) -> HTMLResponse:
    """登记理赔 (13.3, 13.4): the API's rule."""
    form = desk.form
    body: dict[str, Any] = {"damage": form.get("damage", "").strip()}
    body.update(injured=form.get("injured") == "yes", photos_kept=form.get("photos_kept") == "yes")
    for moment in ("insurer_notified_at", "surveyed_with_resident_at"):
        if form.get(moment):
            body[moment] = local_input(form[moment])
    claims.open_claim(desk.session, order_id, validated(ClaimCreate, body), desk.principal, desk.now)
    return desk.render("_order_body.html", **_order_context(desk, order_id))


@router.post("/orders/{order_id}/claim/steps", response_class=HTMLResponse)
def advance_claim(order_id: IdPath, desk: WritingDeskDep) -> HTMLResponse:
    """The claim's next step (13.5, 13.6, 13.8): the API's rule."""
    form = desk.form
    body: dict[str, Any] = {"step": form.get("step", "")}
    for name in ("amount", "exclusion", "note"):
        if form.get(name, "").strip():
            body[name] = form[name].strip()
    if form.get("at"):
        body["at"] = local_input(form["at"])
    claims.advance_claim(desk.session, order_id, validated(ClaimStep, body), desk.principal, desk.ctx)
    return desk.render("_order_body.html", **_order_context(desk, order_id))


@router.post("/orders/{order_id}/temperature-test/finding", response_class=HTMLResponse)
def record_finding(order_id: IdPath, desk: WritingDeskDep) -> HTMLResponse:
    """室温不达标处理 (10.3 第1条 c–e, 10.4): the API's rule."""
    form = desk.form
    body: dict[str, Any] = {"cause": form.get("cause", "").strip(), "responsibility": form.get("responsibility", "")}
    if form.get("fee_reduction", "").strip():
        body["fee_reduction"] = form["fee_reduction"].strip()
    body["offset_next_season"] = form.get("offset_next_season") == "yes"
    finding = validated(TemperatureFinding, body)
    temperature_results.record_finding(desk.session, order_id, finding, desk.principal, desk.ctx)
    return desk.render("_order_body.html", **_order_context(desk, order_id))


@router.post("/orders/{order_id}/temperature-test/refund", response_class=HTMLResponse)
def record_refund(order_id: IdPath, desk: WritingDeskDep) -> HTMLResponse:
    """登记已退费 (10.4)."""
    temperature_results.record_refund(desk.session, order_id, desk.principal, desk.now)
    return desk.render("_order_body.html", **_order_context(desk, order_id))


@router.post("/orders/{order_id}/actions/{action}", response_class=HTMLResponse)
def act(order_id: IdPath, action: Action, desk: WritingDeskDep) -> HTMLResponse:
    body = action_request(action, desk.form)
    ctx = desk.ctx
    order_actions.perform_action(desk.session, order_id, action, body, desk.principal, ctx)
    return desk.render("_order_body.html", **_order_context(desk, order_id))
