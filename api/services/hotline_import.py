"""Work orders from the 12345 and provincial platforms, imported from a CSV or Excel (.xlsx) export.

Each row gives the source, the platform's original acceptance time, the content, the resident, the phone,
the address and the platform's own order number. Deadlines follow from the source and the original
acceptance time (10.1.3, 10.1.4), exactly as filing the order through the API sets them.

- ``preview`` reads the file and answers every row with its computed deadlines or its errors; nothing is
  stored.
- ``commit`` stores every new row in one transaction, or nothing when any row has an error.
- A row whose platform number (per source) is on file already is skipped, so importing the same file
  twice creates nothing new.

A file is hostile until read: what a workbook may expand to is bounded before its rows are built, each
field's length and characters are checked per row, and the preview shows a bounded page whatever the
file holds (review N5, N6).
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.errors import AppError, Conflict, Unprocessable
from api.models import WorkOrder
from api.schemas import WorkOrderCreate
from api.services import work_orders
from api.services.audit import record
from api.views.text import control_character_at, shown_without_controls
from heating_standard import words as standard_words
from heating_standard.deadlines import HOTLINE_WINDOWS, Deadlines
from heating_standard.localtime import LOCAL_TZ
from heating_standard.orders import Category, Kind, Source

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_ROWS = 1000
# What a workbook may expand to, checked before its rows are built: its parts unzipped (the sheet's and
# the shared strings' XML), and the text of its cells as read. A 7 KB .xlsx whose one 1,000,000-character
# shared string every row reused made a 300 MB preview page (review N6); an export of MAX_ROWS rows
# within the fields' lengths stays far below both.
MAX_XLSX_EXPANDED_BYTES = 20 * 1024 * 1024
MAX_FILE_CHARS = 10_000_000
# The preview shows at most this many rows (those with errors first) and characters of a cell.
PREVIEW_ROWS = 200
PREVIEW_CELL_CHARS = 100

# The header of each column (as the platforms' exports and our sample files name them) and our field.
COLUMNS = {
    "来源": "source",
    "原始受理时间": "accepted_at",
    "诉求内容": "description",
    "居民姓名": "contact_name",
    "联系电话": "phone",
    "地址": "address",
    "平台工单号": "external_reference",
    "类型": "kind",
    "问题分类": "category",
}
REQUIRED = ("source", "accepted_at", "description", "external_reference")


def _longest(key: str) -> int:
    """The most characters a column may hold: the work order's own limit for what it keeps, 64 for the
    words that name a source, time, kind or category."""
    rules = WorkOrderCreate.model_fields[key].metadata
    return next((rule.max_length for rule in rules if getattr(rule, "max_length", None)), 64)


LONGEST = {key: _longest(key) for key in COLUMNS.values()}
# The one column of free text, which may keep tabs and line breaks.
FREE_TEXT = {"description"}

# Only the platforms whose orders carry return and reply windows are imported.
# The spellings a hotline platform's sheet uses for a code: the staff word (heating_standard.words), the code
# itself, and the platforms' own synonyms.
SOURCE_WORDS: dict[str, Source] = {
    **{standard_words.SOURCE_WORDS[source]: source for source in HOTLINE_WINDOWS},
    **{source.value: source for source in HOTLINE_WINDOWS},
    "12345": Source.CITY_HOTLINE,
    "市民热线": Source.CITY_HOTLINE,
    "省12345": Source.PROVINCIAL_HOTLINE,
    "省级12345": Source.PROVINCIAL_HOTLINE,
}
# A hotline order is a complaint, repair, temperature test or question (business requests come to a hall).
IMPORTED_KINDS = (Kind.COMPLAINT, Kind.REPAIR, Kind.TEMPERATURE_TEST, Kind.CONSULTATION)
KIND_WORDS: dict[str, Kind] = {
    **{standard_words.KIND_WORDS[kind]: kind for kind in IMPORTED_KINDS},
    "测温": Kind.TEMPERATURE_TEST,
}
CATEGORY_WORDS: dict[str, Category] = {
    **{word: category for category, word in standard_words.CATEGORY_WORDS.items()},
    "不热": Category.NO_HEAT,
    "停热": Category.NO_HEAT,
    "漏水": Category.LEAK,
    "设备": Category.EQUIPMENT,
}
TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y年%m月%d日 %H:%M")


@dataclass
class Row:
    """One line of the file: what it would file, or why it cannot."""

    line: int
    values: dict[str, str]
    order: WorkOrderCreate | None = None
    deadlines: Deadlines | None = None
    existing: WorkOrder | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class Preview:
    filename: str
    sha256: str
    rows: list[Row]

    @property
    def errors(self) -> int:
        return sum(1 for r in self.rows if r.errors)

    @property
    def new(self) -> int:
        return sum(1 for r in self.rows if r.ok and r.existing is None)

    @property
    def known(self) -> int:
        return sum(1 for r in self.rows if r.ok and r.existing is not None)

    def shown(self) -> list[Row]:
        """The rows the page shows: at most PREVIEW_ROWS, those with errors first, in the file's order."""
        chosen = sorted(self.rows, key=lambda r: (r.ok, r.line))[:PREVIEW_ROWS]
        return sorted(chosen, key=lambda r: r.line)


def read_table(content: bytes, filename: str) -> list[dict[str, str]]:
    """The file's rows as {field: text}; a file that cannot be read is a 422 naming why."""
    if len(content) > MAX_FILE_BYTES:
        raise Unprocessable("file", f"the file is larger than {MAX_FILE_BYTES // 1024 // 1024} MB")
    name = filename.lower()
    if name.endswith(".xlsx"):
        table = _xlsx_rows(content)
    elif name.endswith(".csv"):
        table = _csv_rows(content)
    else:
        raise Unprocessable("file", "upload a .csv or .xlsx file")
    if not table:
        raise Unprocessable("file", "the file is empty")
    header = [str(h or "").strip() for h in table[0]]
    unknown_required = [word for word, key in COLUMNS.items() if key in REQUIRED and word not in header]
    if unknown_required:
        raise Unprocessable("file", f"the header lacks the columns: {'、'.join(unknown_required)}")
    body = [r for r in table[1:] if any(str(c or "").strip() for c in r)]
    if len(body) > MAX_ROWS:
        raise Unprocessable("file", f"at most {MAX_ROWS} rows per file")
    rows = []
    for cells in body:
        values = {}
        for index, word in enumerate(header):
            if word in COLUMNS and index < len(cells):
                values[COLUMNS[word]] = _text(cells[index])
        rows.append(values)
    return rows


def _text(cell: Any) -> str:
    if isinstance(cell, datetime):
        return cell.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))  # a phone number Excel stored as a number
    return str(cell if cell is not None else "").strip()


def _csv_rows(content: bytes) -> list[list[str]]:
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK unless told otherwise
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise Unprocessable("file", "the CSV is neither UTF-8 nor GBK")
    try:
        return [row for row in csv.reader(io.StringIO(text))]
    except csv.Error as exc:  # e.g. a field over the reader's 131,072 characters
        raise Unprocessable("file", f"CSV 文件无法读取（{exc}），请从热线平台重新导出") from None


UNREADABLE_XLSX = "the Excel file cannot be read (save it as .xlsx)"


def _xlsx_rows(content: bytes) -> list[list[Any]]:
    from openpyxl import load_workbook

    _check_expansion(content)
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged or foreign file
        raise Unprocessable("file", UNREADABLE_XLSX) from None
    try:
        rows, chars = [], 0
        for cells in book.worksheets[0].iter_rows(values_only=True, max_row=MAX_ROWS + 2):
            # Cells that share one string are one object here; counting them bounds what rows may hold.
            chars += sum(len(cell) for cell in cells if isinstance(cell, str))
            if chars > MAX_FILE_CHARS:
                raise Unprocessable("file", f"文件中的文字超过 {MAX_FILE_CHARS:,} 个字符，不是热线平台导出的工单")
            rows.append(list(cells))
        return rows
    except Unprocessable:
        raise
    except Exception:  # a sheet that is damaged past its first bytes
        raise Unprocessable("file", UNREADABLE_XLSX) from None
    finally:
        book.close()


def _check_expansion(content: bytes) -> None:
    """Refuse a workbook whose parts unzip to more than MAX_XLSX_EXPANDED_BYTES, before anything parses
    them (reading a part stops at the size it declares, so the declared sizes bound what is read)."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            expanded = sum(part.file_size for part in archive.infolist())
    except (zipfile.BadZipFile, ValueError):
        raise Unprocessable("file", UNREADABLE_XLSX) from None
    if expanded > MAX_XLSX_EXPANDED_BYTES:
        megabytes = MAX_XLSX_EXPANDED_BYTES // 1024 // 1024
        raise Unprocessable("file", f"Excel 文件解压后超过 {megabytes} MB，不是热线平台导出的工单")


def parse_time(text: str) -> datetime:
    """The platform's acceptance time, Beijing time unless it names its offset."""
    text = text.strip()
    try:
        found = datetime.fromisoformat(text)
    except ValueError:
        found = None
        for fmt in TIME_FORMATS:
            try:
                found = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    if found is None:
        raise ValueError(f"原始受理时间“{text}”无法识别，请写成 2026-12-01 08:15")
    return found if found.tzinfo else found.replace(tzinfo=LOCAL_TZ)


def _row(session: Session, line: int, values: dict[str, str], ctx: work_orders.Context, seen: set) -> Row:  # type: ignore[type-arg]
    row = Row(line=line, values=values)
    _check_text(row)
    missing = [word for word, key in COLUMNS.items() if key in REQUIRED and not values.get(key)]
    if missing:
        row.errors.append(f"缺少：{'、'.join(missing)}")
        return row
    source, kind, category, accepted_at = _codes(row)
    if row.errors or source is None or kind is None or category is None or accepted_at is None:
        return row
    key = (source, values["external_reference"])
    if key in seen:
        row.errors.append(f"平台工单号 {values['external_reference']} 在文件中重复")
        return row
    seen.add(key)
    try:
        row.order = WorkOrderCreate(
            kind=kind,
            category=category,
            source=source,
            description=values["description"],
            contact_name=values.get("contact_name") or None,
            phone=values.get("phone") or None,
            address=values.get("address") or None,
            accepted_at=accepted_at,
            external_reference=values["external_reference"],
        )
    except ValidationError as exc:
        for error in exc.errors():
            where = "、".join(_column_word(str(p)) for p in error.get("loc", ()))
            row.errors.append(f"{where}：{error.get('msg')}")
        return row
    row.existing = work_orders.by_external_reference(session, source, values["external_reference"])
    if row.existing is None:
        try:
            _, _, row.deadlines = work_orders.plan(row.order, ctx)
        except AppError as exc:
            row.errors.append(exc.message)
    return row


def _codes(row: Row) -> tuple[Source | None, Kind | None, Category | None, datetime | None]:
    """The row's source, kind, category and acceptance time as codes; an error of the row for each that
    is not one (a missing kind reads as a complaint, a missing category as other)."""
    values = row.values
    source = SOURCE_WORDS.get(values["source"])
    if source is None:
        row.errors.append(
            f"来源“{values['source']}”不是可导入的热线平台（12345、省级平台、接诉即办、互联网+督查、首问负责制）"
        )
    kind = KIND_WORDS.get(values.get("kind") or "投诉")
    if kind is None:
        row.errors.append(f"类型“{values.get('kind')}”应为：{'、'.join(KIND_WORDS)}")
    category = CATEGORY_WORDS.get(values.get("category") or "其他")
    if category is None:
        row.errors.append(f"问题分类“{values.get('category')}”应为：{'、'.join(CATEGORY_WORDS)}")
    try:
        accepted_at: datetime | None = parse_time(values["accepted_at"])
    except ValueError as exc:
        row.errors.append(str(exc))
        accepted_at = None
    return source, kind, category, accepted_at


def _check_text(row: Row) -> None:
    """A field over its length, or holding a control character, is an error of the row. The values kept
    for the page are cut to the field's length and show each control character as "�"."""
    for word, key in COLUMNS.items():
        value = row.values.get(key)
        if not value:
            continue
        if len(value) > LONGEST[key]:
            row.errors.append(f"{word}超过 {LONGEST[key]} 字（共 {len(value):,} 字）")
            value = value[: LONGEST[key]] + "…"
        at = control_character_at(value, free_text=key in FREE_TEXT)
        if at is not None:
            row.errors.append(f"{word}的第 {at} 个字符是不可见的控制字符，请在文件中删除后重新预览")
            value = shown_without_controls(value)
        row.values[key] = value


def _column_word(field_name: str) -> str:
    return next((word for word, key in COLUMNS.items() if key == field_name), field_name)


def preview(session: Session, content: bytes, filename: str, ctx: work_orders.Context) -> Preview:
    """Every row with the deadlines it would get, the order it already is, or its errors."""
    seen: set = set()  # type: ignore[type-arg]
    rows = [_row(session, n, values, ctx, seen) for n, values in enumerate(read_table(content, filename), start=2)]
    return Preview(filename=filename, sha256=hashlib.sha256(content).hexdigest(), rows=rows)


def commit(
    session: Session, content: bytes, filename: str, ctx: work_orders.Context, actor: str
) -> tuple[Preview, list[WorkOrder]]:
    """Store every new row in one transaction; any row with an error stores nothing (409)."""
    checked = preview(session, content, filename, ctx)
    if checked.errors:
        raise Unprocessable("file", f"{checked.errors} rows have errors; nothing was imported")
    created = []
    try:
        for row in checked.rows:
            if row.existing is None and row.order is not None:
                order, _ = work_orders.create_work_order(session, row.order, ctx, actor=actor, commit=False)
                created.append(order)
        record(
            session,
            ctx.now,
            actor,
            "hotline.import",
            filename[:64],
            f"sha256={checked.sha256} created={len(created)} known={checked.known}",
        )
        session.commit()
    except (IntegrityError, AppError):
        session.rollback()
        raise Conflict("another import stored some of these orders at the same moment; import again") from None
    return checked, created
