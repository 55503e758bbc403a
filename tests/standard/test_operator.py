"""The operator file, parsed the same way by both environments."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from heating_standard.operator import OperatorFileError, choose, parse

SAMPLE = Path(__file__).resolve().parents[2] / "config" / "operator.sample.yml"


def test_the_shipped_sample_parses_and_says_it_is_a_sample() -> None:
    sample = parse(SAMPLE.read_text(encoding="utf-8"), str(SAMPLE), is_sample=True)
    assert sample.is_sample and sample.company.heated_area_m2 and sample.seasons()
    assert all(s.start < s.end for s in sample.seasons())
    assert sample.service.get("hotline") and 0 < sample.escalation.reminder_share < 1
    assert sample.privacy.retention_days and sample.promises.missing() == []


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("heating_seasons:\n  - start: 2026-11-15\n    end: 2026-03-15\n", "heating_seasons[0] ends"),
        ("heating_seasons:\n  - start: soon\n", "heating_seasons[0] needs start and end"),
        ("company:\n  heated_area_m2: -5\n", "company.heated_area_m2"),
        ("company:\n  liability_insurance: maybe\n", "company.liability_insurance"),
        ("company:\n  users: 0\n", "company.users"),
        ("callbacks:\n  city_hotline_share: 1.5\n", "callbacks.city_hotline_share"),
        ("company:\n  users: 6万\n", "company.users"),
        ("escalation:\n  reminder_share: 1.5\n", "escalation.reminder_share"),
        ("promises:\n  business_decision_days: 90\n", "promises.business_decision_days"),
        ("privacy:\n  retention_days: 7\n", "privacy.retention_days"),
        ("promises:\n  completion_hours:\n    repair: {leak: 0}\n", "promises.completion_hours.repair.leak"),
        ("promises:\n  completion_hours:\n    consultation: {default: 4}\n", "promises.completion_hours.consultation"),
        ("promises:\n  completion_hours:\n    repair: {pipes: 4}\n", "not a category"),
        ("promises:\n  business_completion_days: {apply_connection: 5}\n", "set by 9.1.4"),
        ("calendar_overrides:\n  2027:\n    holidays: [2026-10-01]\n", "another year"),
        ("- just\n- a list\n", "must be a mapping"),
        ("company: [unclosed\n", "not valid YAML"),
    ],
)
def test_a_wrong_file_is_refused_naming_the_field(text: str, named: str) -> None:
    with pytest.raises(OperatorFileError, match=named.replace("[", r"\[").replace("]", r"\]")):
        parse(text, "operator.yml", is_sample=False)


def test_an_empty_file_has_the_defaults_and_no_invented_facts() -> None:
    empty = parse("", "operator.yml", is_sample=False)
    assert empty.seasons() == [] and empty.service == {} and empty.company.heated_area_m2 is None
    assert empty.company.liability_insurance is None  # 13.1: insurance is the company's to say, never assumed
    assert empty.company.users is None  # 5.4.2's base: the company's number, never the households known
    assert parse("company:\n  users: 60000\n", "operator.yml", is_sample=False).company.users == 60000
    assert empty.calendar().day(date(2026, 12, 10)).working  # a Thursday


@pytest.mark.parametrize(("written", "read"), [("true", True), ("false", False)])
def test_the_company_says_whether_it_holds_public_liability_insurance(written: str, read: bool) -> None:
    parsed = parse(f"company:\n  liability_insurance: {written}\n", "operator.yml", is_sample=False)
    assert parsed.company.liability_insurance is read


def test_which_file_applies() -> None:
    assert choose("/etc/heating/operator.yml", local_exists=True) == "/etc/heating/operator.yml"
    assert choose(None, local_exists=True) == "operator.yml"
    assert choose(None, local_exists=False) == "operator.sample.yml"


def test_missing_promises_are_named_by_the_files_own_keys() -> None:
    """What production asks for must be what an operator can write in the file."""
    missing = parse("", "operator.yml", is_sample=False).promises.missing()
    assert missing == [
        "promises.completion_hours.complaint.default",
        "promises.completion_hours.repair.default",
        "promises.completion_hours.temperature_test.default",
        "promises.business_completion_days.default",
    ]
    keys = {"complaint": {"default": 72}, "repair": {"default": 24}, "temperature_test": {"default": 48}}
    written = (
        "promises:\n  completion_hours: " + str(keys).replace("'", "") + "\n  business_completion_days: {default: 5}\n"
    )
    assert parse(written, "operator.yml", is_sample=False).promises.missing() == []
