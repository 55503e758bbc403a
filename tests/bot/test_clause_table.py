"""Every clause residents ask about has a row in docs/bot.md's table, and each row holds: its intent is in
the domain, its topic in the knowledge file, and its phrasing picks that topic."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot import knowledge

ROOT = Path(__file__).resolve().parents[2]
DIGEST = ROOT / "docs" / "standard-digest.md"
TEAM_DIGEST = ROOT.parent / "shared" / "docs" / "standard-digest.md"
CLAUSE = re.compile(r"\b\d{1,2}(?:\.\d{1,2}){0,2}\b")
ROW = re.compile(
    r"^\| (?P<clauses>[\d., ]+) \| (?P<asked>[^|]+) \| (?P<routing>[^|]+) \| [^|]+ \| (?P<phrasing>[^|]+) \|$"
)


def resident_clauses() -> list[str]:
    """The clause numbers of the digest's section "What residents ask about", each in brackets there."""
    text = DIGEST.read_text(encoding="utf-8")
    section = text.split("## What residents ask about", 1)[1]
    return sorted({c for bracket in re.findall(r"\(([^)]*)\)", section) for c in CLAUSE.findall(bracket)})


def table() -> list[dict[str, str]]:
    text = (ROOT / "docs" / "bot.md").read_text(encoding="utf-8")
    section = text.split("### Which intent answers each resident-facing clause", 1)[1].split("\n## ", 1)[0]
    return [m.groupdict() for line in section.splitlines() if (m := ROW.match(line.strip()))]


def covered(clause: str, row_clauses: list[str]) -> bool:
    """5.2 is covered by a row of 5.2.1; 13 by one of 13.3."""
    return any(c == clause or c.startswith(clause + ".") for c in row_clauses)


def test_the_copy_of_the_digest_is_the_teams() -> None:
    if not TEAM_DIGEST.exists():
        pytest.skip("the team's digest is not beside this checkout")
    ours = [line for line in DIGEST.read_text(encoding="utf-8").splitlines() if not line.startswith("<!--")]
    assert "\n".join(ours).split() == TEAM_DIGEST.read_text(encoding="utf-8").split()


def test_the_digest_lists_the_clauses_residents_ask_about() -> None:
    clauses = resident_clauses()
    assert {"6.3.1", "10.1.4", "10.1.6", "10.2.2", "12.1", "13"} <= set(clauses)


def test_every_resident_facing_clause_has_a_row() -> None:
    rows = table()
    assert len(rows) >= 20
    row_clauses = [c for row in rows for c in CLAUSE.findall(row["clauses"])]
    missing = [clause for clause in resident_clauses() if not covered(clause, row_clauses)]
    assert missing == []


@pytest.mark.parametrize("row", table(), ids=lambda row: row["phrasing"].strip())
def test_each_row_names_a_real_intent_and_topic_and_its_phrasing_picks_the_topic(row: dict[str, str]) -> None:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    intent, topics = (part.strip() for part in row["routing"].split("→"))
    assert intent in domain["intents"]
    named = re.findall(r"`([a-z_]+)`", topics)
    known = set(knowledge.knowledge()) | set(knowledge.BUSINESS_TYPES)  # a business kind answers as a topic
    assert named and all(topic in known for topic in named)
    picked = knowledge.topic_for(intent, row["phrasing"].strip())
    if picked is not None:  # intents that file (report_leak, request_temperature_test) have no topic of their own
        assert picked == named[0]
