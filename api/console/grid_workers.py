"""Grid workers (11.4): supervisors register them with their communities and give each a one-time
code; the grid worker sends it to the bot to bind their WeChat."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from api.console.pages import Desk, DeskDep, WritingDeskDep, validated
from api.deps import IdPath
from api.errors import Forbidden
from api.schemas import GridWorkerCreate
from api.services import people

router = APIRouter()


def _require_supervisor(desk: Desk) -> None:
    if not desk.principal.may_approve:
        raise Forbidden("only a supervisor registers grid workers and gives them codes")


def _workers(desk: Desk, **extra: Any) -> dict[str, Any]:
    forwarded = people.orders_forwarded(desk.session)
    return {"workers": people.grid_workers(desk.session), "forwarded": forwarded, "ttl": people.BIND_CODE_TTL, **extra}


@router.get("/grid-workers", response_class=HTMLResponse)
def workers_page(desk: DeskDep) -> HTMLResponse:
    return desk.render("grid_workers.html", **_workers(desk))


@router.post("/grid-workers", response_class=HTMLResponse)
def register(desk: WritingDeskDep) -> HTMLResponse:
    _require_supervisor(desk)
    words = desk.form.get("communities", "").replace("，", ",").replace("、", ",")
    body = {
        "name": desk.form.get("name", "").strip(),
        "phone": desk.form.get("phone", "").strip() or None,
        "communities": [c.strip() for c in words.split(",") if c.strip()],
    }
    worker, code = people.register_grid_worker(
        desk.session, validated(GridWorkerCreate, body), desk.now, desk.principal.name
    )
    return desk.render("_grid_workers_table.html", **_workers(desk, issued=(worker, code)))


@router.post("/grid-workers/{worker_id}/code", response_class=HTMLResponse)
def new_code(worker_id: IdPath, desk: WritingDeskDep) -> HTMLResponse:
    _require_supervisor(desk)
    worker, code = people.new_bind_code(desk.session, worker_id, desk.now, desk.principal.name)
    return desk.render("_grid_workers_table.html", **_workers(desk, issued=(worker, code)))


@router.post("/grid-workers/{worker_id}/active", response_class=HTMLResponse)
def set_active(worker_id: IdPath, desk: WritingDeskDep) -> HTMLResponse:
    _require_supervisor(desk)
    people.set_grid_worker_active(
        desk.session, worker_id, desk.form.get("active") == "yes", desk.now, desk.principal.name
    )
    return desk.render("_grid_workers_table.html", **_workers(desk))
