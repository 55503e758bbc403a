"""The call-backs page, /console/callbacks: call-backs due and overdue (10.1.6, 10.1.7), and the WeChat survey."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from api.console.pages import Desk, DeskDep, WritingDeskDep
from api.deps import IdPath
from api.errors import Forbidden
from api.services import callbacks, work_orders
from api.views import labels
from heating_standard.localtime import end_of_local_day, local_date

router = APIRouter()


def _callbacks(desk: Desk) -> dict[str, Any]:
    """Every open call-back, soonest due first: those due by the end of today, then those due later (a
    survey may go out as soon as the order is completed: it need not wait for the due day)."""
    tasks, total = callbacks.list_callbacks(desk.session, "open", desk.now)
    end_of_today = end_of_local_day(local_date(desk.now))
    orders = work_orders.by_ids(desk.session, [t.order_id for t in tasks])
    rows = [
        {"t": t, "o": orders[t.order_id], "overdue": t.due_at < desk.now, "today": t.due_at <= end_of_today}
        for t in sorted(tasks, key=lambda t: t.due_at)
    ]
    return {"rows": rows, "total": total, "labels": labels}


@router.get("/callbacks", response_class=HTMLResponse)
def callbacks_page(desk: DeskDep) -> HTMLResponse:
    return desk.render("callbacks.html", **_callbacks(desk))


@router.post("/callbacks/{task_id}/survey", response_class=HTMLResponse)
def send_survey(task_id: IdPath, desk: WritingDeskDep) -> HTMLResponse:
    """A supervisor asks the bot to run the satisfaction survey on WeChat (the API's rule)."""
    if not desk.principal.may_approve:
        raise Forbidden("only a supervisor sends the WeChat survey")
    callbacks.send_survey(desk.session, task_id, desk.bot, desk.now, desk.principal.name)
    return desk.render("_callbacks_table.html", **_callbacks(desk))
