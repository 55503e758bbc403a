"""A grid worker's message about several households, split into one household each (11.4)."""

from __future__ import annotations

import re

import pytest

from bot.households import split_households, with_community
from bot.parsing import parse_resident_address


def test_numbered_lines_give_one_household_each_with_its_own_phone_and_problem() -> None:
    text = (
        "帮居民报修：\n"
        "1. 海滨花园6号楼1单元602 王大爷 暖气不热 13700000006\n"
        "2. 海滨花园7号楼2单元301 李阿姨 暖气片漏水 13700000007"
    )
    first, second = split_households(text)
    assert (first.address, first.phone, first.category) == ("海滨花园6号楼1单元602", "13700000006", "room_temperature")
    assert (second.address, second.phone, second.category) == ("海滨花园7号楼2单元301", "13700000007", "leak")
    # each order's description is its own line, with what was said of all of them
    assert first.note == "1. 海滨花园6号楼1单元602 王大爷 暖气不热 13700000006（帮居民报修）"
    assert "李阿姨" in second.note and "王大爷" not in second.note


def test_a_community_named_once_is_shared_and_numbers_listed_apart_go_in_order() -> None:
    text = "海滨花园6号楼602、7号楼301和9号楼1单元101这三户暖气都不热，电话分别是13700000006、13700000007、0631-5200008"
    households = split_households(text)
    assert [h.address for h in households] == ["海滨花园6号楼602", "海滨花园7号楼301", "海滨花园9号楼1单元101"]
    assert [h.phone for h in households] == ["13700000006", "13700000007", "0631-5200008"]
    # the first two parts do not say what is wrong: they keep the whole message
    assert "这三户暖气都不热" in households[0].note


def test_one_number_for_all_goes_to_each_household() -> None:
    households = split_households("东苑小区1号楼101、2号楼202都跑水了，有事打楼长电话13900000001")
    assert [h.phone for h in households] == ["13900000001", "13900000001"]
    assert [h.category for h in households] == [None, "leak"]


def test_a_number_said_of_one_household_stays_with_it() -> None:
    households = split_households("东苑小区1号楼101 王大爷 13900000001；东苑小区2号楼202 李阿姨")
    assert [h.phone for h in households] == ["13900000001", None]


def test_addresses_without_a_community_take_the_grid_workers_own() -> None:
    households = split_households("6号楼1单元602、8号楼301都漏水", community="阳光小区")
    assert [h.address for h in households] == ["阳光小区6号楼1单元602", "阳光小区8号楼301"]
    # without a community of their own or the grid worker's, they are not complete
    assert split_households("6号楼1单元602、8号楼301都漏水") == []


def test_numbering_and_joining_words_are_not_taken_for_a_community() -> None:
    text = "第一户：和平小区3号楼201暖气不热；第二户：和平小区5号楼502阀门坏了；还有和平小区8号楼101"
    households = split_households(text)
    assert [h.address for h in households] == ["和平小区3号楼201", "和平小区5号楼502", "和平小区8号楼101"]
    assert households[1].category == "equipment"


def test_a_household_the_message_does_not_complete_is_left_out() -> None:
    households = split_households("海滨花园6号楼602暖气不热；7号楼那边也有一户不热")
    assert [h.address for h in households] == ["海滨花园6号楼602"]


def test_one_household_and_no_household() -> None:
    assert [h.address for h in split_households("帮新城小区12号楼401的孙大爷报一下，暖气不热")] == ["新城小区12号楼401"]
    assert split_households("暖气不热，麻烦看看") == []


def test_with_community_fills_only_what_is_missing() -> None:
    assert with_community(parse_resident_address("6号楼1单元602"), "阳光小区").canonical == "阳光小区6号楼1单元602"
    named = parse_resident_address("和平小区6号楼602")
    assert with_community(named, "阳光小区") is named
    assert with_community(parse_resident_address("暖气不热"), "阳光小区").community is None


def test_a_long_list_converts_its_numerals_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The text is at most 1,000 characters, but parsing the rest of it again after each address made
    "一号" × 500 cost 500 conversions of the whole text; it is converted once."""
    from heating_standard import addresses

    calls: list[str] = []
    convert = addresses.to_digits_aligned
    monkeypatch.setattr(addresses, "to_digits_aligned", lambda text: calls.append(text) or convert(text))
    assert len(addresses.find_addresses("一号" * 500)) == 500
    assert len(calls) == 1


class CountedSearches:
    """A compiled pattern whose ``search`` calls are counted."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern, self.calls = pattern, 0

    def search(self, text: str, pos: int = 0) -> re.Match[str] | None:
        self.calls += 1
        return self.pattern.search(text, pos)


def test_a_long_list_is_searched_once_for_a_form_it_does_not_use(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each address searched the rest of the text again for the dashed form ("3-2-501") none of them had:
    quadratic in the list's length. A form is searched again only once the list has passed its next match."""
    from heating_standard import addresses

    dashed, written = CountedSearches(addresses._DASHED), CountedSearches(addresses._FULL)
    monkeypatch.setattr(addresses, "_DASHED", dashed)
    monkeypatch.setattr(addresses, "_FULL", written)
    found = addresses.find_addresses("阳光小区3号楼2单元501，" * 300 + "和平里5-1-302")
    assert len(found) == 301 and found[-1].community == "和平里" and found[-1].room == "302"
    assert dashed.calls == 2  # its one match, at the end, kept until passed; then that there is no other
    assert written.calls <= 302


def test_addresses_are_found_in_the_order_written_whatever_their_form() -> None:
    from heating_standard.addresses import find_addresses

    found = find_addresses("海滨花园6号楼602、阳光小区3-2-501")
    assert [(a.community, a.building, a.room) for a in found] == [("海滨花园", "6", "602"), ("阳光小区", "3", "501")]


# ---------------------------------------------------------------- residents named in one line (#23)
NAMED = "海滨花园8号楼1单元101的李大爷家和9号楼2单元202的赵阿姨家都不热，李大爷电话13912345678，赵阿姨电话13887654321"


def test_named_households_keep_their_community_and_their_own_phone() -> None:
    """#23: the second household's address was "的李大爷家和9号楼2单元202", with no community."""
    first, second = split_households(NAMED)
    assert (first.address, first.phone) == ("海滨花园8号楼1单元101", "13912345678")
    assert (second.address, second.phone) == ("海滨花园9号楼2单元202", "13887654321")
    assert first.note.startswith("海滨花园8号楼1单元101的李大爷家（")  # not "…李大爷家和"


def test_phones_go_to_the_resident_they_are_said_of_whatever_the_order() -> None:
    text = (
        "海滨花园8号楼1单元101的李大爷家和9号楼2单元202的赵阿姨家都不热，"
        "赵阿姨电话13887654321，李大爷的电话是13912345678"
    )
    assert [h.phone for h in split_households(text)] == ["13912345678", "13887654321"]


@pytest.mark.parametrize(
    "text",
    [
        "海滨花园6号楼602的王大爷家、7号楼301的李阿姨家都不热",
        "海滨花园6号楼602的王大爷家还有7号楼301的李阿姨家都不热",
        "海滨花园6号楼602的王大爷家以及7号楼301的李阿姨家都不热",
        "海滨花园6号楼602王大爷和7号楼301李阿姨家都不热",
        "海滨花园6号楼602的张三家和7号楼301的小王家都不热",
    ],
)
def test_names_and_joining_words_are_not_a_community(text: str) -> None:
    assert [h.address for h in split_households(text)] == ["海滨花园6号楼602", "海滨花园7号楼301"]


@pytest.mark.parametrize("community", ["祥和小区", "金色家园"])
def test_a_community_named_for_each_household_is_kept(community: str) -> None:
    text = f"海滨花园6号楼602的王大爷家和{community}7号楼301的李阿姨家都不热"
    assert [h.address for h in split_households(text)] == ["海滨花园6号楼602", f"{community}7号楼301"]


def test_phones_said_of_nobody_in_particular_still_go_in_order() -> None:
    text = "海滨花园6号楼602的王大爷家和7号楼301的李阿姨家都不热，电话13700000006、13700000007"
    assert [h.phone for h in split_households(text)] == ["13700000006", "13700000007"]


def test_a_name_said_with_two_numbers_does_not_decide_them() -> None:
    # both numbers in one clause naming both residents: by position, as before
    text = "海滨花园6号楼602的王大爷家和7号楼301的李阿姨家都不热，王大爷和李阿姨电话13700000006、13700000007"
    assert [h.phone for h in split_households(text)] == ["13700000006", "13700000007"]
