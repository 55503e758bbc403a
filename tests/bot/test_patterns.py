"""The NLU's entity patterns (data/nlu/lookups.yml) match what they mean and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from heating_standard.orders import BusinessType

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


def synonyms() -> dict[str, str]:
    """Each written form the synonyms name, and the value it stands for."""
    found = {}
    for item in LOOKUPS:
        if "synonym" in item:
            for line in item["examples"].splitlines():
                if line.startswith("- "):
                    found[line[2:].strip()] = item["synonym"]
    return found


def test_every_business_kind_has_words_the_nlu_finds_and_names_by_its_code() -> None:
    """A kind without a lookup word and a synonym is never named by the NLU, so never explained or filed."""
    words = [p.pattern.replace("\\", "") for p in patterns("business_type")]
    named = {synonyms()[word] for word in words if word in synonyms()}
    assert named == {kind.value for kind in BusinessType}


@pytest.mark.parametrize(
    ("text", "business_type"),
    [
        ("买了新房，暖气怎么开户？", "open_account"),
        ("房子拆了 暖气要销户", "close_account"),
        ("想办报停", "stop_heating"),
    ],
)
def test_a_business_kind_is_found_in_a_question(text: str, business_type: str) -> None:
    found = [match.group() for p in patterns("business_type") if (match := p.search(text))]
    assert [synonyms().get(word) for word in found] == [business_type]
