"""Rows of the spreadsheets the backend writes (the monthly report): every text is a text cell.

Text from people and files (a hotline's platform number, a note) may begin with "=", "+", "-", "@", a
tab or a carriage return, which a spreadsheet takes for a formula (OWASP's CSV injection): openpyxl
stored "=HYPERLINK(…)" from an imported file as a live formula (review N4). It may also hold control
characters, which the xlsx format cannot carry: openpyxl refused one and the whole report failed (N5).
So a text is written as text, typed so explicitly, never evaluated, and cleaned of what xlsx cannot hold.
"""

from __future__ import annotations

from collections.abc import Iterable

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.worksheet.worksheet import Worksheet

# What a spreadsheet reads as the start of a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def text_cell(sheet: Worksheet, text: str) -> Cell:
    """A cell holding ``text`` as text: typed a string whatever it begins with, control characters shown
    as "�", and a text that starts like a formula marked as typed with a leading apostrophe, so Excel
    keeps it text when someone edits the cell."""
    cell = Cell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("\ufffd", text))
    cell.data_type = "s"
    if text.startswith(FORMULA_STARTS):
        cell.quotePrefix = True
    return cell


def append_row(sheet: Worksheet, values: Iterable[object]) -> None:
    """``sheet.append`` for the backend's sheets: numbers stay numbers, every text is a ``text_cell``."""
    sheet.append([text_cell(sheet, value) if isinstance(value, str) else value for value in values])
