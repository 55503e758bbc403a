"""Writes docs/samples/hotline-import-sample.xlsx from the CSV sample beside it (dates as Excel dates).

Run with the backend's environment: .venv/api/bin/python scripts/make_import_sample.py
"""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook

SAMPLES = Path(__file__).resolve().parents[1] / "docs" / "samples"


def main() -> None:
    with (SAMPLES / "hotline-import-sample.csv").open(encoding="utf-8") as f:
        header, *rows = list(csv.reader(f))
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "工单"
    sheet.append(header)
    for row in rows:
        sheet.append([datetime.strptime(row[1], "%Y-%m-%d %H:%M") if i == 1 else v for i, v in enumerate(row)])
    for (cell,) in sheet.iter_rows(min_row=2, min_col=2, max_col=2):
        cell.number_format = "yyyy-mm-dd hh:mm"
    sheet.column_dimensions["B"].width = 18
    sheet.column_dimensions["D"].width = 40
    book.save(SAMPLES / "hotline-import-sample.xlsx")


if __name__ == "__main__":
    main()
