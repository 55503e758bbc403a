"""Which actions a work order allows in which state, and where each one leads.

accepted → responded → dispatched → arrived → completed → called_back → closed,
with return (回退, 10.1.3), extension (10.1.4), cancellation, and the paid-repair quote that the
resident must confirm before work starts (10.2.2).
"""

from __future__ import annotations

from dataclasses import dataclass

from heating_standard.orders import BusinessType, Code, Kind, Status
from heating_standard.words import STATUS_WORDS


class Action(Code):
    """What staff (or the bot, or the scheduler) can do to an order."""

    RESPOND = "respond"
    DISPATCH = "dispatch"
    ARRIVE = "arrive"
    QUOTE = "quote"
    CONFIRM_QUOTE = "confirm_quote"
    COMPLETE = "complete"
    RETURN = "return"
    EXTEND = "extend"
    CALLBACK = "callback"
    CLOSE = "close"
    CANCEL = "cancel"
    RESCHEDULE = "reschedule"  # 10.1.4 (办结条): a new completion time, with the reason, told to the resident
    MARK_UNREASONABLE = "mark_unreasonable"  # 14.4.4: not a reasonable complaint (with the reason)
    MARK_REASONABLE = "mark_reasonable"  # undoes it


OPEN_STATES = frozenset({Status.ACCEPTED, Status.RESPONDED, Status.DISPATCHED, Status.ARRIVED})

# (action, from state) -> to state; None keeps the state (a recorded action without a move).
TRANSITIONS: dict[tuple[Action, Status], Status | None] = {
    (Action.RESPOND, Status.ACCEPTED): Status.RESPONDED,
    (Action.DISPATCH, Status.RESPONDED): Status.DISPATCHED,
    (Action.ARRIVE, Status.DISPATCHED): Status.ARRIVED,
    # 10.2.2: a paid repair is quoted before the work: before dispatch, before arrival, or on site.
    (Action.QUOTE, Status.RESPONDED): None,
    (Action.QUOTE, Status.DISPATCHED): None,
    (Action.QUOTE, Status.ARRIVED): None,
    (Action.CONFIRM_QUOTE, Status.RESPONDED): None,
    (Action.CONFIRM_QUOTE, Status.DISPATCHED): None,
    (Action.CONFIRM_QUOTE, Status.ARRIVED): None,
    (Action.COMPLETE, Status.ARRIVED): Status.COMPLETED,
    (Action.COMPLETE, Status.RESPONDED): Status.COMPLETED,
    (Action.RETURN, Status.ACCEPTED): Status.RETURNED,
    (Action.RETURN, Status.RESPONDED): Status.RETURNED,
    (Action.CALLBACK, Status.COMPLETED): Status.CALLED_BACK,
    # 10.1.7: a repeat complaint has a further call-back after the first.
    (Action.CALLBACK, Status.CALLED_BACK): None,
    (Action.CLOSE, Status.CALLED_BACK): Status.CLOSED,
    (Action.CLOSE, Status.RETURNED): Status.CLOSED,
    (Action.CLOSE, Status.CANCELLED): Status.CLOSED,
}
for _state in OPEN_STATES:
    TRANSITIONS[(Action.EXTEND, _state)] = None
    TRANSITIONS[(Action.CANCEL, _state)] = Status.CANCELLED
    TRANSITIONS[(Action.RESCHEDULE, _state)] = None
# Whether a complaint is reasonable is judged at any time before it is cancelled; it moves nothing.
for _state in Status:
    if _state != Status.CANCELLED:
        TRANSITIONS[(Action.MARK_UNREASONABLE, _state)] = None
        TRANSITIONS[(Action.MARK_REASONABLE, _state)] = None

# Which deadline each action meets. 10.2.3: a leak is "handled" once staff are on site; 9.1.2: a
# business request is decided when staff respond (accept it) or cancel it (refuse it, with the reason).
# Each deadline as staff read it, and the clause that sets it (10.1.4 twice: the response window and the
# reply window share a clause number in the standard).
DEADLINE_LABELS: dict[str, tuple[str, str]] = {
    "response": ("响应", "10.1.4"),
    "handle": ("处置跑冒滴漏", "10.2.3"),
    "arrival": ("到场", "10.2.4"),
    "return": ("回退", "10.1.3"),
    "reply": ("答复热线", "10.1.4"),
    "decision": ("业务受理答复", "9.1.2"),
    "completion": ("承诺办结", "10.1.4（办结条）"),
    "callback": ("回访", "10.1.6"),
    # set by records kept beside the order: a claim's agreed sum (13.5), a fee reduction's refund (10.3 第4条)
    "claim_payment": ("理赔款交付", "13.5"),
    "refund": ("退费", "10.3 第4条"),
}
DEADLINE_NAMES = tuple(DEADLINE_LABELS)


def deadline_label(
    name: str, kind: Kind | str | None = None, business_type: BusinessType | str | None = None
) -> tuple[str, str]:
    """A deadline's words and clause for staff. A business request's completion is the standard's own
    for a new connection (9.1.4) and the company's promise for the others (9.1.2)."""
    if name == "completion" and kind == Kind.BUSINESS:
        if business_type == BusinessType.APPLY_CONNECTION:
            return ("报装办结", "9.1.4")
        return ("业务办结", "9.1.2")
    return DEADLINE_LABELS.get(name, (name, ""))


MEETS: dict[Action, tuple[str, ...]] = {
    Action.RESPOND: ("response", "return", "decision"),
    Action.ARRIVE: ("arrival", "handle"),
    Action.COMPLETE: ("response", "arrival", "handle", "reply", "decision", "completion"),
    # A returned order leaves the company (10.1.3): none of its deadlines runs on.
    Action.RETURN: DEADLINE_NAMES,
    Action.CALLBACK: ("callback",),
    Action.CANCEL: DEADLINE_NAMES,
}


# The steps of the work itself, which wait for the resident's confirmation of a quote (10.2.2).
WORK_STEPS = frozenset({Action.DISPATCH, Action.ARRIVE, Action.COMPLETE})

# Kinds whose work happens on site: they must be dispatched and arrive before completion.
ON_SITE_KINDS = frozenset({Kind.REPAIR, Kind.TEMPERATURE_TEST})


# What each action must record, and why: (field, reason for staff, in their words). A field named here
# must be given.
REQUIRED_FIELDS: dict[Action, tuple[tuple[str, str], ...]] = {
    Action.DISPATCH: (("technician", "派工须写明派去的维修人员（10.2.5）"),),
    Action.QUOTE: (("quote_items", "报价须列明维修项目、单价和材料（10.2.2）"),),
    Action.RETURN: (("note", "回退须记录与居民的沟通情况（10.1.3）"),),
    Action.EXTEND: (
        ("working_days", "延期须写明延期的工作日数和理由（10.1.4）"),
        ("reason", "延期须写明延期的工作日数和理由（10.1.4）"),
    ),
    Action.RESCHEDULE: (
        ("promised_at", "调整办结时间须写明新的时间和原因，两者都会告知居民（10.1.4）"),
        ("reason", "调整办结时间须写明新的时间和原因，两者都会告知居民（10.1.4）"),
    ),
    Action.MARK_UNREASONABLE: (("reason", "认定不合理投诉须写明理由（14.4.4）"),),
    Action.CALLBACK: tuple(
        (name, "回访须记录方式、过程满意度和结果满意度（14.4.4、14.4.5）")
        for name in ("method", "process_satisfied", "result_satisfied")
    ),
}
# 10.2.5, 10.3: a temperature test is completed with its record: three readings, the thermometer, the room,
# and the resident's signature (5.4.5, 5.4.6, 10.3 第1条 a; heating_standard.temperature_tests).
TEMPERATURE_FIELD = (
    "temperature_test",
    "入户测温完成时须记录三次读数、温度计、测量房间和居民签字（5.4.6、10.3 第1条 a）",
)
# 10.2.5: the technician's record of a visit, made on site when they complete it: who (the technician's
# account), when (the time of arrival and completion), the result, and the resident's satisfaction.
VISIT_RECORD_FIELDS = (
    ("result", "完工须记录处理结果（10.2.5）"),
    ("site_satisfaction", "完工须记录居民对本次维修的满意度（10.2.5）"),
)
# 9.1.2: an application not accepted is told why, with a suggestion how to solve it; any other
# cancellation records why.
REFUSAL_FIELDS = (
    ("reason", "不予受理须告知居民原因和解决建议（9.1.2）"),
    ("suggestion", "不予受理须告知居民原因和解决建议（9.1.2）"),
)
CANCEL_FIELD = ("note", "撤销须写明原因")


def is_refusal(action: Action, state: OrderState) -> bool:
    """Cancelling a business request before it is accepted refuses the application (9.1.2)."""
    return action == Action.CANCEL and state.kind == Kind.BUSINESS and state.status == Status.ACCEPTED


def missing_field(action: Action, state: OrderState, given: set[str], on_site: bool = False) -> tuple[str, str] | None:
    """The first field ``action`` needs and ``given`` lacks, with the reason; None when all are there.
    ``on_site``: the technician completes the work where it was done, and records the visit (10.2.5)."""
    needed = list(REQUIRED_FIELDS.get(action, ()))
    if action == Action.COMPLETE and on_site:
        needed += VISIT_RECORD_FIELDS
    if action == Action.COMPLETE and state.kind == Kind.TEMPERATURE_TEST:
        needed.append(TEMPERATURE_FIELD)
    if action == Action.CANCEL:
        needed += REFUSAL_FIELDS if is_refusal(action, state) else (CANCEL_FIELD,)
    return next((item for item in needed if item[0] not in given), None)


class TransitionRefused(Exception):
    """The action is not allowed now; ``reason`` says why, in words for staff."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class OrderState:
    """What the rules need to know about an order."""

    status: Status
    kind: Kind
    quote_pending: bool = False  # a quote exists and the resident has not confirmed it
    callbacks_pending: int = 0  # call-backs planned and not yet made (10.1.6, 10.1.7)
    reasonable: bool = True  # a complaint staff have not marked unreasonable (14.4.4)
    completion_due: bool = False  # the order has a completion time that can be moved (10.1.4)


ACTION_WORDS: dict[Action, str] = {
    Action.RESPOND: "响应",
    Action.DISPATCH: "派工",
    Action.ARRIVE: "到场",
    Action.QUOTE: "报价",
    Action.CONFIRM_QUOTE: "确认报价",
    Action.COMPLETE: "完成",
    Action.RETURN: "回退",
    Action.EXTEND: "延期",
    Action.CALLBACK: "回访",
    Action.CLOSE: "关闭",
    Action.CANCEL: "撤销",
    Action.RESCHEDULE: "调整办结时间",
    Action.MARK_UNREASONABLE: "认定为不合理投诉",
    Action.MARK_REASONABLE: "恢复为合理投诉",
}


def next_status(state: OrderState, action: Action) -> Status:
    """The state after ``action``, or TransitionRefused with the reason (in staff's words: the console
    shows it as it is)."""
    key = (action, state.status)
    if key not in TRANSITIONS:
        allowed = [ACTION_WORDS[a] for a in Action if (a, state.status) in TRANSITIONS and _refusal(state, a) is None]
        raise TransitionRefused(
            f"工单{STATUS_WORDS[state.status]}，不能{ACTION_WORDS[action]}；现在可以：{'、'.join(allowed) or '无'}"
        )
    reason = _refusal(state, action)
    if reason is not None:
        raise TransitionRefused(reason)
    target = TRANSITIONS[key]
    return state.status if target is None else target


def _refusal(state: OrderState, action: Action) -> str | None:
    """Why an action the state allows is refused all the same; None when it is not."""
    if action == Action.COMPLETE and state.status == Status.RESPONDED and state.kind in ON_SITE_KINDS:
        return "这类工单须在现场完成：先派工、到场，再完成"
    if action in WORK_STEPS and state.quote_pending:
        # 10.2.2: nobody is sent, arrives or works on a paid repair the resident has not agreed to.
        return "居民尚未确认这项有偿维修的报价，确认后才能继续（10.2.2）"
    if action == Action.CONFIRM_QUOTE and not state.quote_pending:
        return "没有等待居民确认的报价"
    if action == Action.CALLBACK and state.callbacks_pending <= 0:
        return "这张工单计划的回访都已完成"
    if action == Action.CLOSE and state.status == Status.CALLED_BACK and state.callbacks_pending > 0:
        return "这是重复投诉，还有一次回访要做，之后才能关闭（10.1.7）"
    if action == Action.RESCHEDULE and not state.completion_due:
        return "这张工单没有可以调整的办结时间"
    if action in (Action.MARK_UNREASONABLE, Action.MARK_REASONABLE):
        if state.kind != Kind.COMPLAINT:
            return "只有投诉才认定是否合理（14.4.4）"
        if state.reasonable == (action == Action.MARK_REASONABLE):
            return f"这条投诉已经认定为{'合理' if state.reasonable else '不合理'}"
    return None


def allowed_actions(state: OrderState) -> list[Action]:
    """Every action that ``next_status`` would accept now."""
    result = []
    for action in Action:
        try:
            next_status(state, action)
        except TransitionRefused:
            continue
        result.append(action)
    return result
