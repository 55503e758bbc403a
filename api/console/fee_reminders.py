"""The fee reminders page, /console/fee-reminders (9.2.2): a supervisor pastes the households in arrears and
the day to pay by; each batch shows what became of every reminder and the households to phone, whose calls
staff record here (the reminders' proof)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from api.console.pages import Desk, DeskDep, WritingDeskDep, pasted_lines, validated
from api.deps import IdPath
from api.errors import Forbidden, Unprocessable
from api.schemas import FeeReminderCall, FeeReminderSend
from api.services import fee_reminders
from api.views import labels

router = APIRouter()


def household_rows(text: str) -> list[dict[str, Any]]:
    """Pasted lines, 地址,电话,欠费金额 (a header line is skipped), read into the API's rows."""
    rows = []
    for number, cells in pasted_lines(text, "地址"):
        if len(cells) < 3 or not cells[2]:
            raise Unprocessable("households", f"第{number}行：须为“地址,电话,欠费金额”（电话可空）")
        rows.append({"address": cells[0], "phone": cells[1] or None, "amount": cells[2]})
    return rows


def _page(desk: Desk, batch: str | None = None) -> dict[str, Any]:
    known = fee_reminders.batches(desk.session)
    chosen = batch or (known[0] if known else None)
    items = fee_reminders.of_batch(desk.session, chosen, desk.bot) if chosen else []
    return {"batches": known, "batch": chosen, "items": items, "labels": labels}


@router.get("/fee-reminders", response_class=HTMLResponse)
def fee_reminders_page(desk: DeskDep, batch: str | None = None) -> HTMLResponse:
    return desk.render_page("fee_reminders.html", "_fee_reminders.html", **_page(desk, batch))


@router.post("/fee-reminders", response_class=HTMLResponse)
def send(desk: WritingDeskDep) -> HTMLResponse:
    if not desk.principal.may_approve:
        raise Forbidden("催费通知由班长发出")
    body = validated(
        FeeReminderSend,
        {"pay_by": desk.form.get("pay_by", ""), "households": household_rows(desk.form.get("households", ""))},
    )
    batch = fee_reminders.send(desk.session, body, desk.operator_config.company.standard, desk.principal, desk.now)
    return desk.render("_fee_reminders.html", **_page(desk, batch))


@router.post("/fee-reminders/{reminder_id}/called", response_class=HTMLResponse)
def record_call(reminder_id: IdPath, desk: WritingDeskDep) -> HTMLResponse:
    call = validated(FeeReminderCall, {"note": desk.form.get("note", "").strip()})
    reminder = fee_reminders.record_call(desk.session, reminder_id, call.note, desk.principal, desk.now)
    return desk.render("_fee_reminders.html", **_page(desk, reminder.batch))
