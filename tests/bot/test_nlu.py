"""The pipeline's own entity extractor: addresses, times and categories, as Rasa receives them."""

from __future__ import annotations

from datetime import datetime

import pytest
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu import HeatingEntityExtractor, SimplifiedCharacters, extract
from bot.parsing import LOCAL_TZ, find_category, parse_appointment

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=LOCAL_TZ)


def by_name(text: str) -> dict[str, dict]:
    return {e["entity"]: e for e in extract(text, NOW)}


def test_a_message_with_an_address_a_time_and_a_problem() -> None:
    text = "阀门坏了 明天上午来修 阳光小区三号楼2单元501"
    found = by_name(text)
    address = found["address"]
    assert text[address["start"] : address["end"]] == address["value"] == "阳光小区三号楼2单元501"
    assert address["additional_info"] == {"community": "阳光小区", "building": "3", "unit": "2", "room": "501"}
    time = found["time"]
    assert text[time["start"] : time["end"]] == "明天上午"
    assert parse_appointment(time["value"], NOW) == (
        datetime(2026, 11, 29, 7, 0, tzinfo=LOCAL_TZ),
        datetime(2026, 11, 29, 11, 59, 59, tzinfo=LOCAL_TZ),
    )
    assert found["category"]["value"] == "equipment"
    assert text[found["category"]["start"] : found["category"]["end"]] == "阀门"


@pytest.mark.parametrize(
    "text",
    ["暖气一点都不热", "家里有一点冷", "我家3号楼2单元501暖气不热", "交了三千多块钱"],
)
def test_no_time_is_read_into_ordinary_words_or_addresses(text: str) -> None:
    assert "time" not in by_name(text)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("暖气片漏水了，屋里也一点都不热", "leak"),
        ("暖气一点都不热 冰凉冰凉的", "no_heat"),
        ("你们乱收费，态度还差", "billing"),
        ("维修师傅态度太差", "service"),
        ("屋里太冷了", "room_temperature"),
        ("我想问问供暖时间", None),
    ],
)
def test_the_most_specific_category_wins(text: str, category: str | None) -> None:
    found = find_category(text)
    assert (found[0] if found else None) == category


def test_the_component_adds_its_entities_to_what_is_there() -> None:
    message = Message({TEXT: "阳光小区3号楼2单元501 暖气漏水", ENTITIES: [{"entity": "phone", "value": "x"}]})
    [processed] = HeatingEntityExtractor().process([message])
    entities = processed.get(ENTITIES)
    assert [e["entity"] for e in entities] == ["phone", "address", "category"]
    assert all(e["extractor"] == "HeatingEntityExtractor" for e in entities[1:])


def test_traditional_characters_are_read_as_simplified_keeping_the_length() -> None:
    message = Message(data={TEXT: "暖氣片不熱，陽光小區3號樓2單元501，維修要收費嗎"})
    SimplifiedCharacters().process([message])
    assert message.get(TEXT) == "暖气片不热，阳光小区3号楼2单元501，维修要收费吗"
    plain = Message(data={TEXT: "暖气不热 13912345678"})
    SimplifiedCharacters().process([plain])
    assert plain.get(TEXT) == "暖气不热 13912345678"


@pytest.mark.parametrize(
    "text", ["GD20261201000017到哪一步了", "帮我查一下工单gd20261201000017", "工单 GD20261201000017 啥时候修"]
)
def test_an_order_number_is_an_entity_of_its_own(text: str) -> None:
    found = [e for e in extract(text, NOW) if e["entity"] == "order_number"]
    assert [e["value"] for e in found] == ["GD20261201000017"]
    assert text[found[0]["start"] : found[0]["end"]].upper().replace(" ", "") == "GD20261201000017"
