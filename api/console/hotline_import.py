"""Hotline import: upload a CSV or Excel export, check every row, then save all of it or nothing."""

from __future__ import annotations

import base64
import binascii
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse

from api.console.pages import DeskDep, WritingDeskDep
from api.errors import Unprocessable
from api.services import hotline_import
from api.views import labels

router = APIRouter()

SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"
SAMPLE_FILES = {"csv": "hotline-import-sample.csv", "xlsx": "hotline-import-sample.xlsx"}


@router.get("/hotline-import", response_class=HTMLResponse)
def import_page(desk: DeskDep) -> HTMLResponse:
    return desk.render("hotline_import.html", columns=hotline_import.COLUMNS, required=hotline_import.REQUIRED)


@router.get("/hotline-import/sample.{fmt}")
def sample(fmt: str, desk: DeskDep) -> FileResponse:
    if fmt not in SAMPLE_FILES:
        raise Unprocessable("fmt", "csv or xlsx")
    return FileResponse(SAMPLES / SAMPLE_FILES[fmt], filename=SAMPLE_FILES[fmt])


def _upload(desk: WritingDeskDep) -> tuple[bytes, str]:
    """The uploaded file (preview) or the same bytes carried back by the preview's form (save)."""
    upload = desk.files.get("file")
    if upload is not None and upload.filename:
        content = upload.file.read(hotline_import.MAX_FILE_BYTES + 1)
        return content, upload.filename
    try:
        content = base64.b64decode(desk.form.get("content", ""), validate=True)
    except (binascii.Error, ValueError):
        raise Unprocessable("file", "choose a file to import") from None
    if not content:
        raise Unprocessable("file", "choose a file to import")
    return content, desk.form.get("filename", "import.csv")[:200]


@router.post("/hotline-import/preview", response_class=HTMLResponse)
def preview(desk: WritingDeskDep) -> HTMLResponse:
    content, filename = _upload(desk)
    checked = hotline_import.preview(desk.session, content, filename, desk.ctx)
    carried = base64.b64encode(content).decode()
    return desk.render(
        "_hotline_import_preview.html",
        p=checked,
        content=carried,
        labels=labels,
        cell=hotline_import.PREVIEW_CELL_CHARS,
    )


@router.post("/hotline-import/commit", response_class=HTMLResponse)
def commit(desk: WritingDeskDep) -> HTMLResponse:
    content, filename = _upload(desk)
    ctx = desk.ctx
    checked, created = hotline_import.commit(desk.session, content, filename, ctx, desk.principal.name)
    return desk.render("_hotline_import_done.html", p=checked, created=created, labels=labels)
