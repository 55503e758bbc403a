"""The season's room-temperature sampling plan (5.4.2–5.4.4).

5.4.2 sets how many households are sampled, by the company's heated area; 5.4.3 how they spread over
the secondary network (near, middle and far end 20/30/50 %), the sides of the building (shaded and
sunny 60/40 %) and the floors (upper, middle and lower 30/30/40 %). ``draw`` picks that many households
from a population so each spread comes as close to its shares as the population allows, and says
where it fell short. Pure: the caller gives the households and a seed, the same seed draws the same plan.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from heating_standard.orders import Code


class Position(Code):
    """Where the household sits on the secondary network (二次管网)."""

    NEAR = "near"  # 近端
    MIDDLE = "middle"  # 中端
    FAR = "far"  # 末端


class Orientation(Code):
    SHADED = "shaded"  # 阴面
    SUNNY = "sunny"  # 阳面


class FloorLevel(Code):
    UPPER = "upper"  # 上层
    MIDDLE = "middle"  # 中层
    LOWER = "lower"  # 低层


# 5.4.3 a)–c): each spread and its shares.
SPREAD: dict[str, dict[Code, float]] = {
    "position": {Position.NEAR: 0.2, Position.MIDDLE: 0.3, Position.FAR: 0.5},
    "orientation": {Orientation.SHADED: 0.6, Orientation.SUNNY: 0.4},
    "floor": {FloorLevel.UPPER: 0.3, FloorLevel.MIDDLE: 0.3, FloorLevel.LOWER: 0.4},
}


def sample_share(heated_area_m2: float) -> float:
    """5.4.2: 3 % of households up to 1 million m² heated (inclusive), 2 % up to 5 million, 1 % above."""
    if heated_area_m2 <= 1_000_000:
        return 0.03
    if heated_area_m2 <= 5_000_000:
        return 0.02
    return 0.01


def sample_size(households: int, heated_area_m2: float) -> int:
    """At least the share of 5.4.2 ("不少于"), rounded up; no more than there are households."""
    if households <= 0:
        return 0
    return min(households, math.ceil(households * sample_share(heated_area_m2) - 1e-9))


@dataclass(frozen=True)
class Household:
    """A household that may be sampled; an attribute not known is None."""

    key: str
    position: Position | None = None
    orientation: Orientation | None = None
    floor: FloorLevel | None = None

    def value(self, spread: str) -> Code | None:
        found: Code | None = getattr(self, spread)
        return found


def quotas(size: int) -> dict[str, dict[Code, int]]:
    """Each spread's counts for ``size`` households (largest remainders, so each spread sums to size)."""
    result: dict[str, dict[Code, int]] = {}
    for spread, shares in SPREAD.items():
        exact = {value: size * share for value, share in shares.items()}
        counts = {value: math.floor(x) for value, x in exact.items()}
        left = size - sum(counts.values())
        for value in sorted(exact, key=lambda v: exact[v] - counts[v], reverse=True)[:left]:
            counts[value] += 1
        result[spread] = counts
    return result


@dataclass(frozen=True)
class Draw:
    """The households drawn, each spread as drawn against its quota, and where the draw fell short."""

    chosen: tuple[Household, ...]
    wanted: Mapping[str, Mapping[Code, int]]
    achieved: Mapping[str, Mapping[Code, int]]

    @property
    def shortfalls(self) -> list[str]:
        """ "spread value: drawn/wanted" for each value drawn less often than its quota."""
        return [
            f"{spread} {value.value}: {self.achieved[spread].get(value, 0)}/{wanted}"
            for spread, counts in self.wanted.items()
            for value, wanted in counts.items()
            if self.achieved[spread].get(value, 0) < wanted
        ]


def _fills(group: tuple[Code | None, ...], open_quota: Mapping[str, Mapping[Code, int]]) -> list[tuple[str, Code]]:
    """The still-open quotas a household of ``group`` (its value in each spread) would fill."""
    return [
        (spread, value)
        for spread, value in zip(SPREAD, group, strict=True)
        if value is not None and open_quota[spread].get(value, 0) > 0
    ]


def _score(group: tuple[Code | None, ...], open_quota: Mapping[str, Mapping[Code, int]]) -> int:
    """Quotas a household would fill, less those it would overfill (a known value already drawn enough)."""
    known = sum(1 for value in group if value is not None)
    fills = len(_fills(group, open_quota))
    return fills - (known - fills)


def draw(households: Iterable[Household], size: int, seed: int) -> Draw:
    """``size`` households spread as 5.4.3 asks, as far as the population allows.

    Households are grouped by their three attributes; each pick takes, from the group that fills the
    most still-open quotas, the next household in a seeded shuffle. Unknown attributes fill no quota,
    and overfill none: a known household is preferred while it fills a quota, an unknown one once the
    known would only overfill them."""
    # A seeded shuffle without a random generator's state: order by a hash of the seed and the key.
    population = sorted(households, key=lambda h: hashlib.sha256(f"{seed}:{h.key}".encode()).digest())
    groups: dict[tuple[Code | None, ...], list[Household]] = {}
    for household in population:
        groups.setdefault(tuple(household.value(s) for s in SPREAD), []).append(household)
    wanted = quotas(min(size, len(population)))
    open_quota = {spread: dict(counts) for spread, counts in wanted.items()}
    chosen: list[Household] = []
    order: Sequence[tuple[Code | None, ...]] = list(groups)
    while len(chosen) < size and any(groups.values()):
        best = max((g for g in order if groups[g]), key=lambda g: _score(g, open_quota))
        chosen.append(groups[best].pop())
        for spread, value in _fills(best, open_quota):
            open_quota[spread][value] -= 1
    achieved: dict[str, dict[Code, int]] = {spread: {} for spread in SPREAD}
    for household in chosen:
        for spread in SPREAD:
            found = household.value(spread)
            if found is not None:
                achieved[spread][found] = achieved[spread].get(found, 0) + 1
    return Draw(tuple(chosen), wanted, achieved)
