"""The NLU's entity patterns (data/nlu/lookups.yml) match what they mean and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

LOOKUPS = yaml.safe_load(Path("data/nlu/lookups.yml").read_text(encoding="utf-8"))["nlu"]


def patterns(entity: str) -> list[re.Pattern[str]]:
    found = []
    for item in LOOKUPS:
        lines = [line[2:].strip() for line in item.get("examples", "").splitlines() if line.startswith("- ")]
        if item.get("regex") == entity:
            found += [re.compile(line) for line in lines]
        elif item.get("lookup") == entity:
            found += [re.compile(re.escape(line)) for line in lines]
    return found


def matches(entity: str, text: str) -> bool:
    return any(p.search(text) for p in patterns(entity))


@pytest.mark.parametrize("text", ["再不来我就打12345", "我要打12345投诉你们", "找记者曝光你们"])
def test_anger_is_recognised(text: str) -> None:
    assert matches("anger", text)


@pytest.mark.parametrize("text", ["电话13912345678", "户号123456", "我家暖气不热 电话 0631-5123456"])
def test_a_phone_or_account_number_is_not_anger(text: str) -> None:
    assert not matches("anger", text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("电话13912345678", True),
        ("0631-0001234", True),
        ("户号20231234", False),
        ("GD20261201000017到哪一步了", False),  # an order number's digits hold "026120100001"
        ("gd20261213800138", False),
        ("工单GD20261201000017 电话13912345678", True),
    ],
)
def test_phone_numbers(text: str, expected: bool) -> None:
    assert matches("phone", text) is expected
