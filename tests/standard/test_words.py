"""Every code of an order has its words, for staff and for residents, in one place (heating_standard.words)."""

from __future__ import annotations

from enum import Enum

import pytest

from heating_standard import words
from heating_standard.announcements import AnnouncementKind
from heating_standard.campaigns import CampaignKind, Rating
from heating_standard.claims import Exclusion as ClaimExclusion
from heating_standard.orders import BusinessType, Category, Kind, Source, Status
from heating_standard.temperature_tests import Exclusion, Responsibility, Room, Signature

TABLES = [
    (Kind, words.KIND_WORDS),
    (Category, words.CATEGORY_WORDS),
    (Category, words.RESIDENT_CATEGORY_WORDS),
    (Status, words.STATUS_WORDS),
    (Status, words.RESIDENT_STATUS_WORDS),
    (BusinessType, words.BUSINESS_TYPE_WORDS),
    (BusinessType, words.RESIDENT_BUSINESS_TYPE_WORDS),
    (Source, words.SOURCE_WORDS),
    (Room, words.ROOM_WORDS),
    (Exclusion, words.EXCLUSION_WORDS),
    (Signature, words.SIGNATURE_WORDS),
    (Responsibility, words.RESPONSIBILITY_WORDS),
    (ClaimExclusion, words.CLAIM_EXCLUSION_WORDS),
    (AnnouncementKind, words.ANNOUNCEMENT_WORDS),
    (CampaignKind, words.CAMPAIGN_WORDS),
    (Rating, words.RATING_WORDS),
]


@pytest.mark.parametrize(("code", "table"), TABLES)
def test_every_member_of_a_code_has_its_word(code: type[Enum], table: dict[Enum, str]) -> None:
    assert set(table) == set(code), f"{code.__name__}: worded {sorted(map(str, table))}"
    assert all(said.strip() for said in table.values())
    assert len(set(table.values())) == len(table), f"two {code.__name__} codes read alike"


def test_a_plain_value_finds_its_word_and_an_unknown_one_the_default() -> None:
    assert words.word(words.RESIDENT_STATUS_WORDS, "dispatched") == "已派单"
    assert words.word(words.STATUS_WORDS, "dispatched") == "已派工"
    assert words.word(words.STATUS_WORDS, "lost", "?") == "?"
    assert words.kind_word("temperature_test") == "入户测温"
    assert words.kind_word(None) == words.kind_word("nonsense") == "咨询"
