"""A room-temperature test as the standard has it recorded (5.1, 5.4.5, 5.4.6, 10.3 第1条 a).

- 5.4.6 d: the doors and windows closed for 30 minutes, then three readings 3 minutes apart; their mean is
  the measured temperature. 5.4.5: the instrument reads to 0.1 °C or finer.
- 5.4.6 b: the state of the surroundings is recorded (here: the outdoor temperature and a note).
- 5.1: 18 °C is guaranteed in bedrooms and living rooms only under its conditions (outdoor temperature not
  below the system's design minimum, the building envelope to standard, the indoor system running
  normally; a contract may agree otherwise). A test made outside them, or against 5.4.6's method, is
  recorded with the reason and left out of C (14.4.3, 3.8: "满足本规范 5.1 条件下").
- 10.3 第1条 a: the readings and result are confirmed by the resident's signature: on paper (the
  technician notes it), in WeChat (the resident confirms the result sent to them), or refused (noted).
- 10.3 第1条 c–e: a room found below standard has its cause and the party responsible found; the company's
  own facilities mean the fee is reduced "按规定" (the sum is the company's to state), the resident's own
  mean no reduction. A reduction is refunded by 10.3 第4条.s date or, with the resident's consent, set against
  the next season (``heating_standard.claims.refund_due``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from heating_standard.orders import Code

ROOM_TEMPERATURE_STANDARD = 18.0  # 5.1: a room passes at 18.0 °C or more
READINGS = 3  # 5.4.6 d
COARSEST_RESOLUTION = Decimal("0.1")  # 5.4.5: 最小分度值应不大于 0.1 ℃
LOWEST, HIGHEST = -10.0, 40.0  # what a room reading can be; anything else is a typing error


class Room(Code):
    """The rooms 5.1 guarantees."""

    BEDROOM = "bedroom"
    LIVING_ROOM = "living_room"


class Exclusion(Code):
    """Why a test does not count in C: outside 5.1's conditions, or not made by 5.4.6's method."""

    OUTDOOR_BELOW_DESIGN = "outdoor_below_design"
    ENVELOPE_SUBSTANDARD = "envelope_substandard"
    INDOOR_SYSTEM_ABNORMAL = "indoor_system_abnormal"
    CONTRACT_AGREED = "contract_agreed"
    SYSTEM_NOT_RUNNING = "system_not_running"
    WINDOWS_OPEN = "windows_open"
    RADIATOR_COVERED = "radiator_covered"
    SENSOR_DISTURBED = "sensor_disturbed"


# The clause that makes a test with each reason not count (the reasons' words: heating_standard.words).
EXCLUSION_CLAUSES: dict[Exclusion, str] = {
    Exclusion.OUTDOOR_BELOW_DESIGN: "5.1、10.3 第2条",
    Exclusion.ENVELOPE_SUBSTANDARD: "5.1",
    Exclusion.INDOOR_SYSTEM_ABNORMAL: "5.1",
    Exclusion.CONTRACT_AGREED: "5.1",
    Exclusion.SYSTEM_NOT_RUNNING: "5.4.6 a",
    Exclusion.WINDOWS_OPEN: "5.4.6 c、d",
    Exclusion.RADIATOR_COVERED: "5.4.6 e",
    Exclusion.SENSOR_DISTURBED: "5.4.6 f",
}


class Signature(Code):
    """How the resident confirmed the readings and result (10.3 第1条 a)."""

    PAPER = "paper"  # signed the paper record; the technician notes it
    WECHAT = "wechat"  # the result is sent to the resident, who confirms it in WeChat
    REFUSED = "refused"  # the resident would not sign; the note says why


class Responsibility(Code):
    """10.3 第1条 c: whose facilities kept the room below standard, once the cause is found."""

    COMPANY = "company"  # d) the company repairs until the room is warm, pays the test, reduces the fee
    RESIDENT = "resident"  # e) a paid service may be offered; no fee reduction while below standard


class RecordRefused(ValueError):
    """The record breaks a rule; ``field`` names what to correct, ``reason`` says why in staff's words."""

    def __init__(self, field: str, reason: str):
        super().__init__(reason)
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class TemperatureRecord:
    """What a technician records of one test."""

    readings: Sequence[float]
    instrument: str
    resolution: Decimal
    room: Room
    outdoor_temperature: float | None = None
    excluded: Exclusion | None = None
    signature: Signature = Signature.PAPER
    note: str | None = None


def check_finding(responsibility: Responsibility, fee_reduction: Decimal | None) -> None:
    """10.3 第1条 d, e: a fee reduction only where the company's facilities were the cause."""
    if responsibility == Responsibility.RESIDENT and fee_reduction:
        raise RecordRefused("fee_reduction", "属于用户自有设施原因的，室温不达标期间热费不予减收（10.3 第1条 e）")


def measured(readings: Sequence[float]) -> float:
    """5.4.6 d: the mean of the three readings, to 0.1 °C (half up: 17.95 → 18.0)."""
    mean = sum((Decimal(str(r)) for r in readings), Decimal(0)) / len(readings)
    return float(mean.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def check(record: TemperatureRecord, wechat_resident: bool) -> float:
    """The measured temperature of a record that keeps the rules; else ``RecordRefused``.

    ``wechat_resident``: the order's resident can be asked in WeChat (only then may the signature be
    the resident's confirmation there)."""
    if len(record.readings) != READINGS:
        raise RecordRefused("readings", "须记录三次读数（5.4.6 d：每3分钟读取一次，共3次）")
    if any(not LOWEST <= r <= HIGHEST for r in record.readings):
        raise RecordRefused("readings", f"读数须在{LOWEST:g}到{HIGHEST:g}℃之间")
    if not record.instrument.strip():
        raise RecordRefused("instrument", "须记录所用温度计（5.4.5）")
    if record.resolution > COARSEST_RESOLUTION or record.resolution <= 0:
        raise RecordRefused("resolution", "温度计最小分度值应不大于0.1℃（5.4.5）")
    if record.signature == Signature.WECHAT and not wechat_resident:
        raise RecordRefused("signature", "该居民不在微信服务中，请居民在纸质记录上签字（10.3 第1条 a）")
    if record.signature != Signature.WECHAT and not (record.note or "").strip():
        words = "请注明居民已在纸质记录上签字" if record.signature == Signature.PAPER else "请注明居民拒绝签字的情况"
        raise RecordRefused("note", f"{words}（10.3 第1条 a）")
    return measured(record.readings)
