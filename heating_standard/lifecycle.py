"""Which actions a work order allows in which state, and where each one leads.

accepted → responded → dispatched → arrived → completed → called_back → closed,
with return (回退, 10.1.3), extension (10.1.4), cancellation, and the paid-repair quote that the
resident must confirm before work starts (10.2.2).
"""

from __future__ import annotations

from dataclasses import dataclass

from heating_standard.orders import Code, Kind, Status


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
    (Action.CLOSE, Status.CALLED_BACK): Status.CLOSED,
    (Action.CLOSE, Status.RETURNED): Status.CLOSED,
    (Action.CLOSE, Status.CANCELLED): Status.CLOSED,
}
for _state in OPEN_STATES:
    TRANSITIONS[(Action.EXTEND, _state)] = None
    TRANSITIONS[(Action.CANCEL, _state)] = Status.CANCELLED

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
    "completion": ("业务办结", "9.1.4"),
    "callback": ("回访", "10.1.6"),
}
DEADLINE_NAMES = tuple(DEADLINE_LABELS)
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
    if action == Action.CONFIRM_QUOTE and not state.quote_pending:
        raise TransitionRefused("there is no quote waiting for confirmation")
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
