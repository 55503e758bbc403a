"""Which actions a work order allows in which state, and where each one leads.

accepted → responded → dispatched → arrived → completed → called_back → closed,
with return (回退, 10.1.3), extension (10.1.4), cancellation, and the paid-repair quote that the
resident must confirm before work starts (10.2.2).
"""

from __future__ import annotations

from dataclasses import dataclass

from heating_standard.orders import BusinessType, Code, Kind, Status


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


# What each action must record, and why: (field, reason for staff). A field named here must be given.
REQUIRED_FIELDS: dict[Action, tuple[tuple[str, str], ...]] = {
    Action.DISPATCH: (("technician", "dispatch names the technician sent (10.2.5)"),),
    Action.QUOTE: (("quote_items", "a quote lists its items, prices and materials (10.2.2)"),),
    Action.RETURN: (("note", "a return records the contact with the resident (10.1.3)"),),
    Action.EXTEND: (
        ("working_days", "an extension gives working_days and a reason (10.1.4)"),
        ("reason", "an extension gives working_days and a reason (10.1.4)"),
    ),
    Action.RESCHEDULE: (
        ("promised_at", "a new completion time is given with the reason, both told to the resident (10.1.4)"),
        ("reason", "a new completion time is given with the reason, both told to the resident (10.1.4)"),
    ),
    Action.MARK_UNREASONABLE: (("reason", "a complaint is marked unreasonable with the reason (14.4.4)"),),
    Action.CALLBACK: tuple(
        (name, "a call-back records method, process and result satisfaction (14.4.4, 14.4.5)")
        for name in ("method", "process_satisfied", "result_satisfied")
    ),
}
# 10.2.5, 10.3: a temperature test is completed with the temperature measured (5.4.6).
TEMPERATURE_FIELD = ("measured_temperature", "a temperature test records the measured temperature")
# 9.1.2: an application not accepted is told why, with a suggestion how to solve it; any other
# cancellation records why.
REFUSAL_FIELDS = (
    ("reason", "a business request not accepted is told the reason and a suggestion (9.1.2)"),
    ("suggestion", "a business request not accepted is told the reason and a suggestion (9.1.2)"),
)
CANCEL_FIELD = ("note", "a cancellation records why")


def is_refusal(action: Action, state: OrderState) -> bool:
    """Cancelling a business request before it is accepted refuses the application (9.1.2)."""
    return action == Action.CANCEL and state.kind == Kind.BUSINESS and state.status == Status.ACCEPTED


def missing_field(action: Action, state: OrderState, given: set[str]) -> tuple[str, str] | None:
    """The first field ``action`` needs and ``given`` lacks, with the reason; None when all are there."""
    needed = list(REQUIRED_FIELDS.get(action, ()))
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


def next_status(state: OrderState, action: Action) -> Status:
    """The state after ``action``, or TransitionRefused with the reason."""
    key = (action, state.status)
    if key not in TRANSITIONS:
        allowed = sorted(a.value for a, s in TRANSITIONS if s == state.status)
        raise TransitionRefused(
            f"cannot {action.value} an order that is {state.status.value}; "
            f"allowed now: {', '.join(allowed) or 'nothing'}"
        )
    if action == Action.COMPLETE and state.status == Status.RESPONDED and state.kind in ON_SITE_KINDS:
        raise TransitionRefused(f"a {state.kind.value} order is completed on site: dispatch and arrive first")
    if action in WORK_STEPS and state.quote_pending:
        # 10.2.2: nobody is sent, arrives or works on a paid repair the resident has not agreed to.
        raise TransitionRefused("the resident has not confirmed the quote of this paid repair (10.2.2)")
    if action == Action.CONFIRM_QUOTE and not state.quote_pending:
        raise TransitionRefused("there is no quote waiting for the resident's confirmation")
    if action == Action.CALLBACK and state.callbacks_pending <= 0:
        raise TransitionRefused("every planned call-back of this order is made")
    if action == Action.CLOSE and state.status == Status.CALLED_BACK and state.callbacks_pending > 0:
        raise TransitionRefused("a further call-back of this repeat complaint is still to be made (10.1.7)")
    if action == Action.RESCHEDULE and not state.completion_due:
        raise TransitionRefused("this order has no completion time to move")
    if action in (Action.MARK_UNREASONABLE, Action.MARK_REASONABLE):
        if state.kind != Kind.COMPLAINT:
            raise TransitionRefused("only a complaint is judged reasonable or not (14.4.4)")
        if state.reasonable == (action == Action.MARK_REASONABLE):
            raise TransitionRefused(f"the complaint is {'reasonable' if state.reasonable else 'unreasonable'} already")
    target = TRANSITIONS[key]
    return state.status if target is None else target


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
