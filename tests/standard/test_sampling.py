"""The room-temperature sampling plan (5.4.2–5.4.4): its size, its spread, its draw."""

from __future__ import annotations

import itertools

import pytest

from heating_standard.sampling import (
    SPREAD,
    FloorLevel,
    Household,
    Orientation,
    Position,
    draw,
    quotas,
    sample_share,
    sample_size,
)


@pytest.mark.parametrize(
    ("area", "share"),
    [(800_000, 0.03), (1_000_000, 0.03), (1_000_001, 0.02), (5_000_000, 0.02), (5_000_001, 0.01)],
)
def test_the_share_follows_the_heated_area(area: float, share: float) -> None:
    """5.4.2 a)–c): 100万 m² inclusive → 3 %, to 500万 inclusive → 2 %, above → 1 %."""
    assert sample_share(area) == share


@pytest.mark.parametrize(
    ("households", "area", "size"), [(1000, 5_000_000, 20), (1001, 5_000_000, 21), (10, 1, 1), (0, 1, 0)]
)
def test_the_size_is_at_least_the_share_rounded_up(households: int, area: float, size: int) -> None:
    assert sample_size(households, area) == size  # "不少于"


def test_quotas_follow_5_4_3_and_each_sums_to_the_size() -> None:
    found = quotas(20)
    assert found["position"] == {Position.NEAR: 4, Position.MIDDLE: 6, Position.FAR: 10}
    assert found["orientation"] == {Orientation.SHADED: 12, Orientation.SUNNY: 8}
    assert found["floor"] == {FloorLevel.UPPER: 6, FloorLevel.MIDDLE: 6, FloorLevel.LOWER: 8}
    assert all(sum(quotas(n)[s].values()) == n for n in range(0, 40) for s in SPREAD)


def every_kind(copies: int) -> list[Household]:
    """``copies`` households of each combination of attributes."""
    combos = itertools.product(Position, Orientation, FloorLevel)
    return [Household(f"{p.value}-{o.value}-{f.value}-{n}", p, o, f) for (p, o, f) in combos for n in range(copies)]


def test_from_a_varied_population_the_draw_meets_every_share_exactly() -> None:
    drawn = draw(every_kind(20), 50, seed=7)
    assert len(drawn.chosen) == 50 and len({h.key for h in drawn.chosen}) == 50
    assert drawn.shortfalls == []
    assert {s: dict(c) for s, c in drawn.achieved.items()} == {s: dict(c) for s, c in quotas(50).items()}


def test_the_same_seed_draws_the_same_plan_and_another_seed_another() -> None:
    population = every_kind(20)
    first = [h.key for h in draw(population, 30, seed=1).chosen]
    assert first == [h.key for h in draw(population, 30, seed=1).chosen]
    assert first != [h.key for h in draw(population, 30, seed=2).chosen]


def test_a_population_without_far_ends_says_where_the_draw_fell_short() -> None:
    near = [Household(f"n{i}", Position.NEAR, Orientation.SUNNY, FloorLevel.LOWER) for i in range(30)]
    unknown = [Household(f"u{i}") for i in range(30)]
    drawn = draw(near + unknown, 10, seed=3)
    assert len(drawn.chosen) == 10
    assert "position far: 0/5" in drawn.shortfalls and "orientation shaded: 0/6" in drawn.shortfalls
    # known households fill quotas first: the near end's 2, the sunny side's 4, the lower floors' 4
    assert sum(1 for h in drawn.chosen if h.position is Position.NEAR) == 4


def test_never_more_than_there_are() -> None:
    drawn = draw([Household("a"), Household("b")], 5, seed=0)
    assert sorted(h.key for h in drawn.chosen) == ["a", "b"]
