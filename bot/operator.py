"""Facts that vary by company or year, from the operator file the backend reads too.

``OPERATOR_CONFIG`` names the file; without it, ``config/operator.yml`` if present, else the shipped
``config/operator.sample.yml`` (sample values, marked as such). Missing values are reported as missing,
never invented.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from heating_standard.deadlines import HeatingSeason
from heating_standard.operator import SAMPLE_NAME, OperatorFile, choose, parse
from heating_standard.orders import BusinessType

ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = ROOT / "config"
NOT_CONFIGURED = "（运营方尚未配置，请拨打服务热线咨询）"


class SampleInProduction(RuntimeError):
    """APP_ENV=production with the shipped sample file: the bot would tell residents sample facts."""


def config_path(environ: Mapping[str, str] = os.environ) -> Path:
    configured = environ.get("OPERATOR_CONFIG") or None
    chosen = choose(configured, (CONFIG_DIR / "operator.yml").exists())
    return Path(chosen) if configured else CONFIG_DIR / chosen


@dataclass(frozen=True)
class OperatorFacts:
    """The operator file as the bot tells it to residents (validated by the shared parser)."""

    file: OperatorFile

    @property
    def service(self) -> Mapping[str, Any]:
        return self.file.service

    @property
    def standard(self) -> str:
        return self.file.company.standard or "城镇供热服务规范"

    @property
    def insured(self) -> bool:
        """Whether the file says the company holds public liability insurance (13.1, 13.2); not saying is no."""
        return self.file.company.liability_insurance is True

    def value(self, key: str) -> str:
        """A service value as text; lists are joined; missing ones say so."""
        found = self.service.get(key)
        if found in (None, "", []):
            return NOT_CONFIGURED
        if isinstance(found, list):
            parts = []
            for item in found:
                if isinstance(item, Mapping):
                    parts.append("，".join(str(v) for v in item.values() if v))
                else:
                    parts.append(str(item))
            return "；".join(parts)
        return str(found)

    def relief_policies(self) -> str:
        """The relief policies in force (9.3); an empty list means none, a missing key unknown."""
        if self.service.get("relief_policies") == []:
            return "目前没有正在执行的减免政策"
        return self.value("relief_policies")

    def business_days(self, business_type: str) -> str:
        """The company's promised time to finish a business request other than a new connection (9.1.2)."""
        days = self.file.promises.business(BusinessType(business_type))
        return f"{days}天" if days else "公司承诺的时限"

    def decision_days(self) -> str:
        """The company's promised time to say whether an application is accepted (9.1.2)."""
        days = self.file.promises.decision_days
        return "当天" if days == 0 else f"{days}天内"

    def complaint_promise(self) -> str:
        """The company's promised time to finish a complaint (10.1.4 办结条), as residents read it."""
        hours = self.file.promises.completion_hours.get("complaint", {}).get("default")
        if not hours:
            return "以公司公布的承诺时限为准"
        whole = int(hours) if float(hours).is_integer() else hours
        return f"一般{whole}小时内（公司承诺）"

    def repeat_followup(self) -> str:
        """What the company promises for a repeat complaint's call-backs (10.1.7)."""
        days = self.file.promises.repeat_followup_days
        return f"按公司规定，二次投诉在服务后三日内上门回访，其后{days}天再回访一次" if days else ""

    def retention_sentence(self) -> str:
        """How long a finished order keeps the resident's personal data (12.1), or nothing when unset."""
        days = self.file.privacy.retention_days
        if not days:
            return ""
        return f"工单办结{days}天后，电话、地址、描述和照片会被删除，只保留统计用的工单类型、时间和满意度。"

    def document_list(self, business_type: str) -> str:
        """The documents a business request needs (9.1.1), as the company lists them."""
        documents = (self.service.get("business_documents") or {}).get(business_type)
        return str(documents) if documents else NOT_CONFIGURED

    @property
    def human_reply_minutes(self) -> int | None:
        minutes = self.service.get("human_reply_minutes")
        return int(minutes) if minutes else None

    def seasons(self) -> list[HeatingSeason]:
        return self.file.seasons()

    def season_sentence(self, today: date) -> str:
        """This or the coming season's dates, or nothing when none is configured."""
        upcoming = sorted((s for s in self.seasons() if s.end >= today), key=lambda s: s.start)
        if not upcoming:
            return ""
        season = upcoming[0]
        verb = "本采暖期" if season.start <= today else "下一采暖期"
        return (
            f"{verb}为{season.start.year}年{season.start.month}月{season.start.day}日至"
            f"{season.end.year}年{season.end.month}月{season.end.day}日。"
        )


def load_facts(path: Path) -> OperatorFacts:
    """Read and validate the operator file at ``path`` (OperatorFileError names a bad field)."""
    is_sample = path.resolve() == (CONFIG_DIR / SAMPLE_NAME).resolve()
    return OperatorFacts(parse(path.read_text(encoding="utf-8"), str(path), is_sample))


def check_operator_file(app_env: str, environ: Mapping[str, str] = os.environ) -> OperatorFacts:
    """At start-up: the file must be valid, and in production not the shipped sample."""
    facts = load_facts(config_path(environ))
    if app_env == "production" and facts.file.is_sample:
        raise SampleInProduction(
            f"APP_ENV=production with the sample operator file {facts.file.source}: confirm the company's "
            "facts in config/operator.yml (or OPERATOR_CONFIG) before residents are told them"
        )
    return facts


@lru_cache(maxsize=4)
def _cached(path: str, mtime: float) -> OperatorFacts:
    return load_facts(Path(path))


def get_facts() -> OperatorFacts:
    """The current operator facts; re-read when the file changes."""
    path = config_path()
    return _cached(str(path), path.stat().st_mtime)
