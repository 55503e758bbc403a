"""The season's room-temperature sampling plan (5.4.2–5.4.4): the household list and the draw."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from api.console.pages import Desk, DeskDep, WritingDeskDep, pasted_lines, validated
from api.errors import Forbidden, Unprocessable
from api.schemas import HouseholdImport, SamplingPlanCreate
from api.services import sampling
from api.views import labels

router = APIRouter()

# The list's columns: 地址, 管网位置, 朝向, 楼层 (the last three may be blank).
COLUMNS: tuple[tuple[str, Mapping[Any, str]], ...] = (
    ("position", labels.POSITIONS),
    ("orientation", labels.ORIENTATIONS),
    ("floor_level", labels.FLOORS),
)


def _page(desk: Desk, **extra: Any) -> dict[str, Any]:
    return {
        "plans": sampling.list_plans(desk.session),
        "households": sampling.household_count(desk.session),
        "labels": labels,
        **extra,
    }


@router.get("/sampling", response_class=HTMLResponse)
def sampling_page(desk: DeskDep) -> HTMLResponse:
    return desk.render("sampling.html", **_page(desk))


def household_rows(text: str) -> list[dict[str, Any]]:
    """Pasted CSV lines, 地址,管网位置,朝向,楼层, read into the API's household rows; a header line is skipped."""
    rows = []
    for number, cells in pasted_lines(text, "地址"):
        row: dict[str, Any] = {"address": cells[0]}
        for (field, words), cell in zip(COLUMNS, [*cells[1:4], "", "", ""][:3], strict=True):
            if not cell:
                continue
            code = next((c.value for c, w in words.items() if w == cell), None)
            if code is None:
                raise Unprocessable("households", f"第{number}行：“{cell}”应为{'、'.join(words.values())}之一")
            row[field] = code
        rows.append(row)
    return rows


def _supervisor(desk: Desk) -> None:
    if not desk.principal.may_approve:
        raise Forbidden("the household list and the sampling plan are a supervisor's")


@router.post("/sampling/households", response_class=HTMLResponse)
def import_households(desk: WritingDeskDep) -> HTMLResponse:
    _supervisor(desk)
    body = validated(HouseholdImport, {"households": household_rows(desk.form.get("households", ""))})
    created, updated, _ = sampling.import_households(desk.session, body.households, desk.now)
    return desk.render("_sampling.html", **_page(desk, imported=(created, updated)))


@router.post("/sampling/plans", response_class=HTMLResponse)
def create_plan(desk: WritingDeskDep) -> HTMLResponse:
    _supervisor(desk)
    fields = {k: desk.form.get(k, "") for k in ("first_day", "last_day", "collector")}
    sampling.create_plan(desk.session, validated(SamplingPlanCreate, fields), desk.ctx, desk.principal)
    return desk.render("_sampling.html", **_page(desk))
