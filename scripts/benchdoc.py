"""Writes one benchmark's section of docs/benchmarks.md, between its own markers (standard library only)."""

from __future__ import annotations

from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def write_section(name: str, body: str) -> None:
    """Replace the section marked ``<!-- NAME benchmarks -->`` (or append it)."""
    mark = f"<!-- {name} benchmarks -->"
    section = f"{mark}\n{body.rstrip()}\n{mark}\n"
    current = BENCHMARKS.read_text(encoding="utf-8") if BENCHMARKS.exists() else "# Benchmarks\n\n"
    if mark in current:
        head, _, rest = current.partition(mark)
        _, _, tail = rest.partition(mark)
        current = head + section + tail.lstrip("\n")
    else:
        current = current.rstrip("\n") + "\n\n" + section
    BENCHMARKS.write_text(current, encoding="utf-8")


HISTORY = BENCHMARKS.with_name("benchmarks-history.csv")
HISTORY_FIELDS = ("recorded_at", "commit", "benchmark", "figure", "value", "unit", "better")
# A figure this much worse than the best one recorded is called out at the top of the page.
REGRESSION = 0.20


def record(benchmark: str, figures: list[tuple[str, float, str, str]], commit: str, when: str) -> list[str]:
    """Append ``(figure, value, unit, better)`` rows (``better`` is "lower" or "higher") to the CSV
    history, then return a line for each figure of this benchmark more than 20 % worse than the best
    value recorded before, and write those lines at the top of docs/benchmarks.md."""
    import csv

    earlier: list[dict[str, str]] = []
    if HISTORY.exists():
        with HISTORY.open(encoding="utf-8", newline="") as handle:
            earlier = list(csv.DictReader(handle))
    worse = []
    for figure, value, unit, better in figures:
        seen = [float(r["value"]) for r in earlier if r["benchmark"] == benchmark and r["figure"] == figure]
        if not seen:
            continue
        best = min(seen) if better == "lower" else max(seen)
        if best == 0:  # no share of nothing: any error where there were none is worse
            if better == "lower" and value > 0:
                worse.append(f"{benchmark}: {figure} is {value:g} {unit}, where the best recorded is 0")
            continue
        off = (value - best) / best if better == "lower" else (best - value) / best
        if off > REGRESSION:
            worse.append(
                f"{benchmark}: {figure} is {value:g} {unit}, {off:.0%} worse than the best recorded ({best:g})"
            )
    new = not HISTORY.exists()
    with HISTORY.open("a", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=HISTORY_FIELDS)
        if new:
            writer.writeheader()
        for figure, value, unit, better in figures:
            writer.writerow(
                {"recorded_at": when, "commit": commit, "benchmark": benchmark, "figure": figure,
                 "value": f"{value:.4g}", "unit": unit, "better": better}
            )  # fmt: skip
    write_callout(benchmark, worse)
    return worse


def write_callout(benchmark: str, lines: list[str]) -> None:
    """The regressions of ``benchmark`` at the top of the page (under the title), or none."""
    mark = f"<!-- {benchmark} regressions -->"
    current = BENCHMARKS.read_text(encoding="utf-8") if BENCHMARKS.exists() else "# Benchmarks\n"
    if mark in current:
        head, _, rest = current.partition(mark)
        _, _, tail = rest.partition(mark)
        current = head.rstrip("\n") + "\n\n" + tail.lstrip("\n")
    if lines:
        title, _, body = current.partition("\n")
        block = "\n".join([mark, "> **Worse than before (over 20 %):**", *[f"> - {line}" for line in lines], mark])
        current = f"{title}\n\n{block}\n\n{body.lstrip()}"
    BENCHMARKS.write_text(current, encoding="utf-8")
