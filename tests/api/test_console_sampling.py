"""The sampling page: a supervisor pastes the household list and draws the season's plan."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.console.sampling import household_rows
from api.errors import Unprocessable
from tests.api.conftest import Browser, operator_file


@pytest.fixture
def client_settings(tmp_path: Path) -> dict[str, object]:
    """The sample operator file, for a company of 60 heat users (5.4.2's base)."""
    return {"operator_config": operator_file(tmp_path, users=60)}


LIST = "\n".join(
    ["地址,管网位置,朝向,楼层"]
    + [
        f"阳光小区{n // 10 + 1}号楼1单元{n % 10 + 101},{('近端', '中端', '末端')[n % 3]},{('阴面', '阳面')[n % 2]},"
        f"{('上层', '中层', '低层')[n % 3]}"
        for n in range(60)
    ]
)


def test_a_supervisor_imports_the_list_and_draws_the_plan(
    browser: Callable[[str], Browser], client: TestClient
) -> None:
    agent, boss = browser("agent"), browser("supervisor")
    assert "导入户表" not in agent.get("/console/sampling").text
    assert agent.post("/console/sampling/households", {"households": LIST}).status_code == 403
    imported = boss.post("/console/sampling/households", {"households": LIST})
    assert imported.status_code == 200 and "户表共 60 户" in imported.text and "新增 60 户" in imported.text
    drawn = boss.post(
        "/console/sampling/plans", {"first_day": "2026-12-14", "last_day": "2026-12-15", "collector": "李工"}
    )
    assert drawn.status_code == 200, drawn.text
    # 2 % of the company's 60 heat users, rounded up: 2 (5.4.2 b, sample heated area 5,000,000 m2)
    assert "<td>2026-2027</td><td>60</td><td>2%</td><td>2</td>" in drawn.text and "0 / 2" in drawn.text


def test_a_wrong_cell_names_its_line_and_the_words_it_takes() -> None:
    assert household_rows("阳光小区3号楼2单元501,末端,,上层") == [
        {"address": "阳光小区3号楼2单元501", "position": "far", "floor_level": "upper"}
    ]
    with pytest.raises(Unprocessable, match="第1行.*近端、中端、末端"):
        household_rows("阳光小区3号楼2单元501,远端")
