"""Working an order: one action under the state machine (``heating_standard.lifecycle``), as a small
dispatcher over one function per action.

``perform_action`` locks the order, checks who may act (``ACTION_OWNERS``) and when (back-dating), asks
the state machine for the next status and the fields the action needs, runs the action's effect
(``EFFECTS``), marks the deadlines the action meets, watches afresh the one it moves, and records the
event. Each effect changes the order and returns what the event keeps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.errors import Conflict, Forbidden, NotFound, Unprocessable
from api.models import CallbackTask, RoomTemperatureTest, StaffUser, WorkOrder, WorkOrderEvent
from api.schemas import ActionRequest, TemperatureTestRecord
from api.services import deadline_watch
from api.services.deadline_watch import Rewatch
from api.services.principals import FIELD_ROLES, STAFF_ROLES, SUPERVISOR_ROLES, Principal, Role
from api.services.resident_notices import ask_to_confirm_quote, ask_to_confirm_temperature, tell_resident
from api.services.work_orders import Context, check_resident
from heating_standard import deadlines as rules
from heating_standard import notices, temperature_tests
from heating_standard.lifecycle import (
    ACTION_WORDS,
    MEETS,
    Action,
    OrderState,
    TransitionRefused,
    is_refusal,
    missing_field,
    next_status,
)
from heating_standard.orders import Kind, Source, Status
from heating_standard.temperature_tests import Signature

# Who may take each action. Staff work the order; a supervisor approves returns, extensions and
# cancellations (10.1.3); only the resident confirms a quote (10.2.2): in WeChat, through the bot (the
# machine token naming the order's own resident), or, for a resident without WeChat, on paper that
# staff record with a note; a call-back is recorded by staff (phone, face to face) or by the bot for
# the resident who answered the WeChat survey. A technician records the work on site (arrival 10.2.4, the
# quote 10.2.2, completion with the visit's record 10.2.5), on the orders dispatched to them only.
ACTION_OWNERS: dict[Action, frozenset[Role]] = {
    Action.RESPOND: STAFF_ROLES,
    Action.DISPATCH: STAFF_ROLES,
    Action.ARRIVE: STAFF_ROLES | FIELD_ROLES,
    Action.QUOTE: STAFF_ROLES | FIELD_ROLES,
    Action.COMPLETE: STAFF_ROLES | FIELD_ROLES,
    Action.CLOSE: STAFF_ROLES,
    Action.RETURN: SUPERVISOR_ROLES,
    Action.EXTEND: SUPERVISOR_ROLES,
    Action.CANCEL: SUPERVISOR_ROLES,
    Action.CONFIRM_QUOTE: STAFF_ROLES | {Role.MACHINE},
    Action.CALLBACK: STAFF_ROLES | {Role.MACHINE},
    Action.RESCHEDULE: STAFF_ROLES,
    # 14.4.4: whether a complaint counts in T is a supervisor's judgement, with the reason.
    Action.MARK_UNREASONABLE: SUPERVISOR_ROLES,
    Action.MARK_REASONABLE: SUPERVISOR_ROLES,
}

NOT_YOURS = "没有找到派给您的这张工单"


@dataclass
class Step:
    """One action being applied: what its effect reads, and what the event will keep (``data``)."""

    session: Session
    order: WorkOrder
    request: ActionRequest
    principal: Principal
    ctx: Context
    at: datetime  # when the action counts (deadlines, KPIs)
    state: OrderState
    technician_account: StaffUser | None = None
    data: dict[str, Any] = field(default_factory=dict)
    # a deadline the action sets or moves, watched afresh once the action's own are met
    rewatch: Rewatch | None = None


def perform_action(
    session: Session, order_id: int, action: Action, request: ActionRequest, principal: Principal, ctx: Context
) -> WorkOrder:
    """Apply one action to an order under the state machine; records the audit event."""
    order = session.get(WorkOrder, order_id, with_for_update=True)
    if order is None:
        # a technician is told the same of an order that exists and is not theirs (check_dispatched_to)
        raise NotFound(NOT_YOURS if principal.role in FIELD_ROLES else f"work order {order_id} does not exist")
    check_owner(action, principal, request, order)
    claimed = request.at or ctx.now
    if claimed > ctx.now:
        raise Unprocessable("at", "操作时间不能晚于现在")
    if claimed < order.accepted_at:
        raise Unprocessable("at", "操作时间不能早于工单受理时间")
    at = effective_time(claimed, principal, request, ctx)
    state = order_state(order)
    try:
        target = next_status(state, action)
    except TransitionRefused as exc:
        raise Conflict(exc.reason, code="transition_not_allowed") from None
    step = Step(session, order, request, principal, ctx, at, state)
    if at != claimed:
        # Entered later than the window allows: deadlines and KPIs count the entry time.
        step.data.update(claimed_at=claimed.isoformat(), backdate_reason=request.backdate_reason)
    _complete_the_request(step, action)
    EFFECTS[action](step)
    deadline_watch.meet(order, MEETS.get(action, ()), at)
    if step.rewatch is not None:
        deadline_watch.watch(order, step.rewatch, ctx.config.escalation.reminder_share)
    _move(step, action, target, claimed)
    session.commit()
    return order


def _complete_the_request(step: Step, action: Action) -> None:
    """What the request leaves to the system (the technician's account named, who did the work on site),
    then the fields the action needs (``missing_field``)."""
    request, on_site = step.request, step.principal.role in FIELD_ROLES
    if action == Action.DISPATCH and request.technician_id is not None:
        step.technician_account = _technician_account(step.session, request)
        request = request.model_copy(update={"technician": step.technician_account.display_name})
    elif action == Action.COMPLETE and on_site:
        request = request.model_copy(update={"technician": step.order.technician})  # 10.2.5: who did the work
    given = {name for name, value in request.model_dump(exclude_none=True).items() if value not in ("", [])}
    missing = missing_field(action, step.state, given, on_site=on_site)
    if missing is not None:
        raise Unprocessable(*missing)
    if request.technician:
        step.data["technician"] = request.technician
    step.request = request


def _move(step: Step, action: Action, target: Status, claimed: datetime) -> None:
    """The order takes its new status, and the event records the move."""
    order, now = step.order, step.ctx.now
    from_status = order.status
    order.status = target.value
    order.updated_at = now
    order.next_due_at = deadline_watch.next_due(order)
    step.session.add(
        WorkOrderEvent(
            order_id=order.id,
            action=action.value,
            from_status=from_status,
            to_status=order.status,
            actor=step.principal.name,
            at=claimed,
            recorded_at=now,
            note=step.request.note,
            data=step.data or None,
        )
    )


# --------------------------------------------------------------------------- one effect per action


def _respond(step: Step) -> None:
    step.order.responded_at = step.at


def _dispatch(step: Step) -> None:
    step.order.technician = step.request.technician
    account = step.technician_account
    step.order.technician_id = account.id if account else None
    if account:
        step.data["technician_id"] = account.id


def _arrive(step: Step) -> None:
    step.order.arrived_at = step.at


def _quote(step: Step) -> None:
    """10.2.2: the quote is recorded and the resident asked to confirm it before any work."""
    order, items = step.order, step.request.quote_items
    assert items is not None
    order.quote_items = [item.model_dump(mode="json") for item in items]
    order.quote_total = sum((item.price * item.quantity for item in items), Decimal(0))
    order.quote_confirmed_at = None
    step.data["quote_total"] = str(order.quote_total)
    ask_to_confirm_quote(step.session, order, step.ctx.now)


def _confirm_quote(step: Step) -> None:
    step.order.quote_confirmed_at = step.at


def _complete(step: Step) -> None:
    """10.2.5: the visit's record; 10.1.6: the call-backs are planned and the first one watched."""
    order, request = step.order, step.request
    order.completed_at = step.at
    order.result = request.result or request.note
    if request.temperature_test is not None:
        _record_temperature_test(step, request.temperature_test)
    if request.site_satisfaction:
        order.site_satisfaction = request.site_satisfaction
        step.data["site_satisfaction"] = request.site_satisfaction
    first_callback = _plan_callbacks(step.session, order, step.at, step.ctx)
    step.rewatch = Rewatch("callback", first_callback, step.at)


def _record_temperature_test(step: Step, given: TemperatureTestRecord) -> None:
    """5.4.6's record of a temperature test (heating_standard.temperature_tests); the measured temperature is
    the readings' mean. A resident in WeChat may be asked there to confirm it (10.3 第1条 a)."""
    order = step.order
    if order.kind != Kind.TEMPERATURE_TEST:
        raise Unprocessable("temperature_test", "只有入户测温工单记录测温数据")
    record = temperature_tests.TemperatureRecord(
        given.readings,
        given.instrument,
        given.resolution,
        given.room,
        given.outdoor_temperature,
        given.excluded,
        given.signature,
        given.note,
    )
    try:
        order.measured_temperature = temperature_tests.check(record, wechat_resident=bool(order.resident_openid))
    except temperature_tests.RecordRefused as exc:
        raise Unprocessable(f"temperature_test.{exc.field}", exc.reason) from None
    order.temperature_test = RoomTemperatureTest(**given.model_dump(), recorded_at=step.ctx.now)
    step.data.update(measured_temperature=order.measured_temperature, signature=given.signature.value)
    if given.excluded is not None:
        step.data["excluded"] = given.excluded.value
    if given.signature == Signature.WECHAT:
        ask_to_confirm_temperature(step.session, order, step.ctx.now)


def _return(step: Step) -> None:
    """10.1.3: a hotline order handed back; a complaint whose cause is not the company's is explained (10.1.4)."""
    due = deadline_watch.due_at(step.order, "return")
    if due is not None and step.at > due:
        step.data["late"] = True  # past its window (10.1.3): the monthly review counts it
    _explain_not_ours(step)


def _extend(step: Step) -> None:
    """10.1.4: a hotline order's reply window extended once, by working days, with the reason."""
    order, request, ctx = step.order, step.request, step.ctx
    assert request.working_days is not None and request.reason
    reply_due = deadline_watch.due_at(order, "reply")
    if reply_due is None:
        raise Conflict("this order has no reply deadline to extend", code="transition_not_allowed")
    try:
        new_due, certain = rules.extend_reply(
            Source(order.source), reply_due, request.working_days, order.extended, ctx.config.calendar()
        )
    except rules.DeadlineError as exc:
        raise Conflict(str(exc), code="transition_not_allowed") from None
    order.extended = True
    order.extension_reason = request.reason
    order.calendar_uncertain = order.calendar_uncertain or not certain
    step.data.update(working_days=request.working_days, reason=request.reason, reply_due_at=new_due.isoformat())
    step.rewatch = Rewatch("reply", new_due, order.accepted_at)


def _reschedule(step: Step) -> None:
    """10.1.4 (办结条): a new completion time with its reason; the resident is told both in WeChat."""
    order, request, now = step.order, step.request, step.ctx.now
    assert request.promised_at is not None and request.reason
    previous = deadline_watch.due_at(order, "completion")
    try:
        promised = rules.reschedule(previous, request.promised_at, now, request.reason)
        message = notices.reschedule_notice(order.number or "", request.reason, promised)
    except rules.DeadlineError as exc:
        raise Unprocessable("promised_at", str(exc)) from None
    except notices.NoticeRefused as exc:
        raise Unprocessable("reason", f"the reason is sent to the resident: {exc.reason}") from None
    late = previous is not None and now > previous
    order.rescheduled_late = order.rescheduled_late or late
    told = tell_resident(step.session, order, "completion_rescheduled", promised.isoformat(), message, now)
    step.data.update(
        reason=request.reason,
        promised_at=promised.isoformat(),
        previous=previous.isoformat() if previous else None,
        late=late,
        resident_told=told,
    )
    step.rewatch = Rewatch("completion", promised, now)


def _mark_unreasonable(step: Step) -> None:
    step.order.reasonable, step.order.unreasonable_reason = False, step.request.reason
    step.data["reason"] = step.request.reason


def _mark_reasonable(step: Step) -> None:
    step.order.reasonable, step.order.unreasonable_reason = True, None


def _callback(step: Step) -> None:
    """10.1.6: the earliest call-back still to make is made; 10.1.7: a repeat complaint's next one is watched."""
    request = step.request
    further = _record_callback(step.session, step.order, request, step.principal, step.at)
    step.data["further_callback"] = further is not None
    step.data.update(method=request.method, process_satisfied=request.process_satisfied)
    step.data["result_satisfied"] = request.result_satisfied
    if further is not None:
        step.rewatch = Rewatch("callback", further, step.at)


def _cancel(step: Step) -> None:
    """A cancellation; one that refuses an application (9.1.2) tells the resident the reason and a suggestion;
    one of a complaint whose cause is not the company's explains that to the complainant (10.1.4)."""
    if not is_refusal(Action.CANCEL, step.state):
        _explain_not_ours(step)
        return
    order, request = step.order, step.request
    assert request.reason and request.suggestion
    try:
        message = notices.refusal_notice(order.number or "", request.reason, request.suggestion)
    except notices.NoticeRefused as exc:
        raise Unprocessable(exc.field, f"it is sent to the resident: {exc.reason}") from None
    told = tell_resident(step.session, order, "application_refused", "refused", message, step.ctx.now)
    step.data.update(reason=request.reason, suggestion=request.suggestion, resident_told=told)


def _explain_not_ours(step: Step) -> None:
    """10.1.4 (办结条) "因非供热经营企业原因无法处理的，应向投诉人做出解释": the explanation given is sent to a
    complainant on WeChat and kept on the event; one not on WeChat is explained to by phone (``resident_told``
    false tells the desk so)."""
    order, explanation = step.order, step.request.explanation
    if not explanation:
        return
    if order.kind != Kind.COMPLAINT:
        raise Unprocessable("explanation", "向投诉人解释（10.1.4）只用于投诉工单")
    try:
        message = notices.not_ours_notice(order.number or "", explanation)
    except notices.NoticeRefused as exc:
        raise Unprocessable(exc.field, f"it is sent to the resident: {exc.reason}") from None
    told = tell_resident(step.session, order, "complaint_not_ours", "explained", message, step.ctx.now)
    step.data.update(explanation=explanation, resident_told=told)


def _close(step: Step) -> None:
    step.order.closed_at = step.at


EFFECTS: dict[Action, Callable[[Step], None]] = {
    Action.RESPOND: _respond,
    Action.DISPATCH: _dispatch,
    Action.ARRIVE: _arrive,
    Action.QUOTE: _quote,
    Action.CONFIRM_QUOTE: _confirm_quote,
    Action.COMPLETE: _complete,
    Action.RETURN: _return,
    Action.EXTEND: _extend,
    Action.RESCHEDULE: _reschedule,
    Action.MARK_UNREASONABLE: _mark_unreasonable,
    Action.MARK_REASONABLE: _mark_reasonable,
    Action.CALLBACK: _callback,
    Action.CANCEL: _cancel,
    Action.CLOSE: _close,
}


# --------------------------------------------------------------------------- who, when, in which state


def order_state(order: WorkOrder) -> OrderState:
    """What the state machine needs to know about the order."""
    session = Session.object_session(order)
    pending = 0
    if session is not None and order.status in (Status.COMPLETED, Status.CALLED_BACK):
        tasks = session.scalars(select(CallbackTask.done_at).where(CallbackTask.order_id == order.id)).all()
        # An order completed before call-back tasks existed still has its one call-back to make.
        pending = sum(1 for done in tasks if done is None) if tasks else int(order.status == Status.COMPLETED)
    return OrderState(
        status=Status(order.status),
        kind=Kind(order.kind),
        quote_pending=order.quote_items is not None and order.quote_confirmed_at is None,
        callbacks_pending=pending,
        reasonable=order.reasonable is not False,
        completion_due=deadline_watch.due_at(order, "completion") is not None,
    )


def check_owner(action: Action, principal: Principal, request: ActionRequest, order: WorkOrder) -> None:
    """Each action has its owner (ACTION_OWNERS); the bot may touch only its resident's order, a
    technician only the orders dispatched to their own account."""
    owners = ACTION_OWNERS[action]
    if principal.role not in owners:
        if principal.role in FIELD_ROLES:
            raise Forbidden(f"维修人员只在现场记录到场、报价和完工；{ACTION_WORDS[action]}由客服中心办理")
        if owners == SUPERVISOR_ROLES:
            raise Forbidden(f"{ACTION_WORDS[action]}须由班长审批（10.1.3）")
        raise Forbidden(f"{ACTION_WORDS[action]}由工作人员办理")
    if principal.role == Role.MACHINE:
        check_resident(order, request.resident_openid)
        if action == Action.CALLBACK and request.method != "wechat":
            raise Forbidden("机器人只记录微信回访")
    elif principal.role in FIELD_ROLES:
        check_dispatched_to(order, principal)
    elif action == Action.CONFIRM_QUOTE:
        if order.resident_openid:
            raise Forbidden("报价须由居民本人在微信中确认（10.2.2）")
        if not request.note:
            raise Unprocessable("note", "请写明居民如何确认报价（如现场签字）")


def check_dispatched_to(order: WorkOrder, principal: Principal) -> None:
    """A technician sees and works only the orders dispatched to their own account; for any other order
    the answer is the same as for one that does not exist (12.1: nothing of it is shown)."""
    if principal.staff_user_id is None or order.technician_id != principal.staff_user_id:
        raise NotFound(NOT_YOURS)


def effective_time(claimed: datetime, principal: Principal, request: ActionRequest, ctx: Context) -> datetime:
    """When an action counts for deadlines and KPIs: the claimed time within the back-dating window,
    else the time it was entered. Further back needs a supervisor with a reason, within a limit."""
    age = ctx.now - claimed
    if age <= ctx.backdate_window:
        return claimed
    if not principal.may_approve:
        minutes = int(ctx.backdate_window.total_seconds() // 60)
        raise Unprocessable("at", f"坐席最多补录{minutes}分钟内的操作；更早的时间请班长补录，并写明原因")
    if not request.backdate_reason:
        raise Unprocessable("backdate_reason", "补录这么早的时间，须写明原因")
    if age > ctx.supervisor_backdate_limit:
        hours = int(ctx.supervisor_backdate_limit.total_seconds() // 3600)
        raise Unprocessable("at", f"最多只能补录{hours}小时内的操作")
    return ctx.now


# --------------------------------------------------------------------------- technicians and call-backs


def _technician_account(session: Session, request: ActionRequest) -> StaffUser:
    """The technician's account a dispatch names: an active account of the technician role."""
    if request.technician:
        raise Unprocessable("technician", "请只选一种：维修人员账号，或外部队伍的姓名")
    user = session.get(StaffUser, request.technician_id)
    if user is None or user.role not in FIELD_ROLES:
        raise Unprocessable("technician_id", "所选账号不是维修人员")
    if not user.active:
        raise Unprocessable("technician_id", f"维修人员{user.display_name}的账号已停用")
    return user


def _plan_callbacks(session: Session, order: WorkOrder, completed_at: datetime, ctx: Context) -> datetime:
    """10.1.6: every completed service gets a call-back; 10.1.7: a repeat complaint more, the first face
    to face (the plan is heating_standard.deadlines.callback_plan). The first one's due time."""
    plan = rules.callback_plan(completed_at, order.repeat_complaint, ctx.config.promises)
    session.add_all(
        CallbackTask(order_id=order.id, sequence=p.sequence, due_at=p.due_at, face_to_face_required=p.face_to_face)
        for p in plan
    )
    return plan[0].due_at


def _record_callback(
    session: Session, order: WorkOrder, request: ActionRequest, principal: Principal, at: datetime
) -> datetime | None:
    """The earliest call-back still to make is made. The due time of the next, when a further call-back is
    due (10.1.7): the order's call-back deadline moves to it."""
    tasks = session.scalars(
        select(CallbackTask)
        .where(CallbackTask.order_id == order.id, CallbackTask.done_at.is_(None))
        .order_by(CallbackTask.sequence)
    ).all()
    if not tasks:  # completed before call-back tasks existed
        due = deadline_watch.due_at(order, "callback") or at
        tasks = [CallbackTask(order_id=order.id, sequence=1, due_at=due)]
        session.add(tasks[0])
    task = tasks[0]
    if task.face_to_face_required and request.method != "face_to_face" and not request.note:
        raise Unprocessable("method", "a repeat complaint is called back face to face, or the note says why not")
    task.done_at = at
    task.method = request.method
    task.process_satisfied = request.process_satisfied
    task.result_satisfied = request.result_satisfied
    task.note = request.note
    task.actor = principal.name
    return tasks[1].due_at if len(tasks) > 1 else None
