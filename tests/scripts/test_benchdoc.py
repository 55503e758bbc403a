"""The benchmarks' page and history: figures recorded, and a regression called out at the top."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from scripts import benchdoc  # noqa: E402


@pytest.fixture
def page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "benchmarks.md"
    path.write_text("# Benchmarks\n\nIntro.\n\n<!-- scaled benchmarks -->\nold\n<!-- scaled benchmarks -->\n")
    monkeypatch.setattr(benchdoc, "BENCHMARKS", path)
    monkeypatch.setattr(benchdoc, "HISTORY", tmp_path / "history.csv")
    return path


def test_each_run_appends_its_figures_to_the_history(page: Path) -> None:
    benchdoc.record("scaled", [("p95 ms", 800.0, "ms", "lower")], "abc123", "2026-11-29T06:00:00+00:00")
    benchdoc.record("scaled", [("p95 ms", 820.0, "ms", "lower")], "def456", "2026-11-30T06:00:00+00:00")
    with benchdoc.HISTORY.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["commit"], r["figure"], r["value"]) for r in rows] == [
        ("abc123", "p95 ms", "800"),
        ("def456", "p95 ms", "820"),
    ]


def test_a_figure_over_20_percent_worse_than_the_best_is_called_out_at_the_top(page: Path) -> None:
    benchdoc.record("scaled", [("p95 ms", 800.0, "ms", "lower"), ("orders per s", 50.0, "/s", "higher")], "a", "t1")
    benchdoc.record("scaled", [("p95 ms", 900.0, "ms", "lower"), ("orders per s", 30.0, "/s", "higher")], "b", "t2")
    text = page.read_text()
    assert text.startswith("# Benchmarks\n\n<!-- scaled regressions -->")
    assert "orders per s is 30 /s, 40% worse than the best recorded (50)" in text
    assert "p95 ms is 900" not in text  # 12.5 % worse: within the margin
    assert "<!-- scaled benchmarks -->\nold" in text  # the section itself is left alone

    worse = benchdoc.record(
        "scaled", [("p95 ms", 790.0, "ms", "lower"), ("orders per s", 49.0, "/s", "higher")], "c", "t3"
    )
    assert worse == [] and "regressions" not in page.read_text()  # back within 20 %: the call-out goes


def test_a_figure_whose_best_is_zero_is_compared_without_dividing_by_it(page: Path) -> None:
    benchdoc.record("scaled", [("errors", 0.0, "count", "lower")], "a", "t1")
    assert benchdoc.record("scaled", [("errors", 0.0, "count", "lower")], "b", "t2") == []
    assert benchdoc.record("scaled", [("errors", 3.0, "count", "lower")], "c", "t3") == [
        "scaled: errors is 3 count, where the best recorded is 0"
    ]
