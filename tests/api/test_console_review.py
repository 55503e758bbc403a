"""The console's 待学习 page (the review queue): groups listed most frequent first with what waits in each
status, labelled by staff (the bot's reading, an intent from the list, entities, out of scope), approved by
a supervisor only, every write behind the CSRF token, the loser of two decisions told in Chinese, and
nothing but redacted text on the page. The last test marks an entity in a real browser."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.console import review as review_page
from api.models import ReviewItem, StaffAudit
from api.services import review
from api.services.principals import Principal, Role
from tests.api.conftest import PASSWORD, Browser, FixedClock, add_staff_user
from tests.api.live_server import serving


def keep(client: TestClient, clock: FixedClock, n: int | str, text: str, **extra: Any) -> int:
    """A message the bot was unsure of, reported as the action server reports it; returns its group."""
    report = review.Report(
        message_key=hashlib.sha256(str(n).encode()).hexdigest(),
        text=text,
        reason=extra.pop("reason", "fallback"),
        predicted=extra.pop("predicted", []),
        **extra,
    )
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        item_id = review.record(session, report, clock.now)
    assert item_id is not None
    return item_id


def stored(client: TestClient, item_id: int) -> ReviewItem:
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        item = session.get(ReviewItem, item_id)
        assert item is not None
        session.expunge(item)
        return item


def version_of(page: str, item_id: int) -> str:
    found = re.search(
        rf'action="/console/review/{item_id}/label"[^>]*>\s*.*?name="seen" value="([0-9a-f]+)"', page, re.S
    )
    assert found, page[:2000]
    return found.group(1)


def banner(answer: Any) -> str:
    """The words of the page's banner (tags and the close button left out)."""
    found = re.search(r'<div class="banner bad"[^>]*>(.*?)</div>', answer.text, re.S)
    assert found, answer.text[:1000]
    words = re.sub(r"<[^>]+>", "", found.group(1))
    return words.replace("关闭", "").strip()


def assert_chinese(words: str) -> None:
    """What a desk reads: no English sentence from the service or the framework."""
    assert not re.search(r"[A-Za-z]{3,}", words), words


REPAIR = [{"name": "request_repair", "confidence": 0.62}, {"name": "report_leak", "confidence": 0.21}]


# ----------------------------------------------------------------------------- the list


def test_the_queue_lists_groups_most_frequent_first_with_what_waits_in_each_status(
    browser: Callable[[str], Browser], client: TestClient, clock: FixedClock
) -> None:
    keep(client, clock, 1, "暖气费怎么交", reason="clarified", chosen="ask_payment")
    for n, text in enumerate(["我家暖气不热怎么办", "我家暖气不热怎么办啊！", "我家 暖气不热 怎么办？？"]):
        clock.advance(minutes=1)
        keep(
            client,
            clock,
            10 + n,
            text,
            predicted=[
                {"name": "complain_room_temperature", "confidence": 0.48},
                {"name": "nlu_fallback", "confidence": 0.3},
            ],
            context=[{"who": "bot", "text": "请问有什么可以帮您？"}, {"who": "resident", "text": "你好"}],
        )
    keep(client, clock, 20, "你们公司股票怎么样", reason="out_of_scope")
    b = browser("agent")
    page = b.get("/console/review")
    assert page.status_code == 200
    text = page.text
    order = [text.index(f'data-text="{t}"') for t in ("我家暖气不热怎么办", "你们公司股票怎么样", "暖气费怎么交")]
    assert order == sorted(order)
    assert "出现 3 次" in text and "出现 1 次" in text
    assert re.search(r"待标注 <b>3</b>.*待批准 <b>0</b>.*已批准 <b>0</b>", text, re.S)
    # the bot's readings in words with percentages, the resident's choice, other wordings, the turns before
    assert "反映暖气不热、室温低 <b>48%</b>" in text and "没听懂 <b>30%</b>" in text
    assert "采纳机器人的理解：反映暖气不热、室温低" in text
    assert "怎么交暖气费 × 1" in text and "让居民选择" in text and "超出范围" in text
    assert "<li>我家 暖气不热 怎么办？？</li>" in text and "<b>机器人</b> 请问有什么可以帮您？" in text
    assert "最近 12-10 10:03" in text  # Beijing time
    # each intent of the list with its two examples, in the list and in the form without scripts
    assert "供暖开始和结束时间（例：暖气几号开始烧／今年啥时候来暖气啊）" in text
    assert '<form class="row label-form" method="post" action="/console/review/' in text
    # the link of every page counts the open groups
    assert 'href="/console/review"' in b.get("/console/orders").text
    assert '<b class="count" title="待标注 3 组">3</b>' in b.get("/console/review/count").text
    assert 'class="skip-link" href="#review-list"' in text


def test_the_page_shows_only_redacted_text(
    browser: Callable[[str], Browser], client: TestClient, clock: FixedClock
) -> None:
    keep(
        client,
        clock,
        1,
        "我叫王建国，电话13912345678，暖气不热",
        context=[{"who": "resident", "text": "打0371-65551234找李阿姨"}],
    )
    page = browser("agent").get("/console/review").text
    assert "[电话]" in page and "[姓名]" in page
    for secret in ("13912345678", "王建国", "65551234", "李阿姨"):
        assert secret not in page


# ----------------------------------------------------------------------------- labelling


def test_an_agent_accepts_the_bots_reading_and_the_next_group_follows(
    browser: Callable[[str], Browser], client: TestClient, clock: FixedClock
) -> None:
    first = keep(client, clock, 1, "暖气片咕噜响", predicted=REPAIR)
    keep(client, clock, 2, "暖气费怎么交")
    b = browser("agent")
    page = b.get("/console/review").text
    saved = b.post(
        f"/console/review/{first}/label",
        {"accept": "request_repair", "intent": "", "seen": version_of(page, first), "status": "open", "entities": "[]"},
    )
    assert saved.status_code == 200, saved.text
    assert "已标注为“设备报修”：暖气片咕噜响" in saved.text
    assert 'data-text="暖气费怎么交"' in saved.text and 'data-text="暖气片咕噜响"' not in saved.text
    assert re.search(r"待标注 <b>1</b>.*待批准 <b>1</b>", saved.text, re.S)
    assert '<span id="review-count" hx-swap-oob="innerHTML"><b class="count"' in saved.text
    item = stored(client, first)
    assert (item.status, item.intent, item.labelled_by) == ("labelled", "request_repair", "staff:agent1")
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        trail = session.scalars(select(StaffAudit).where(StaffAudit.action == "review_label")).all()
    assert [(a.actor, a.target, a.detail) for a in trail] == [
        ("staff:agent1", f"review_item:{first}", "request_repair")
    ]


def test_an_intent_from_the_list_with_entities_marked_on_the_text(
    browser: Callable[[str], Browser], client: TestClient, clock: FixedClock
) -> None:
    # an emoji before the address: the page counts characters (code points) as the service does
    item_id = keep(client, clock, 1, "😡屋里才16度，阳光小区3号楼2单元501", predicted=REPAIR)
    text = stored(client, item_id).text
    assert text == "😡屋里才16度，阳光小区3号楼[门牌]"
    start, end = text.index("阳光小区"), len(text)
    marked = [
        {"entity": "temperature", "start": text.index("16度"), "end": text.index("16度") + 3},
        {"entity": "address", "start": start, "end": end},
    ]
    b = browser("agent")
    page = b.get("/console/review").text
    saved = b.post(
        f"/console/review/{item_id}/label",
        {"intent": "complain_room_temperature", "entities": json.dumps(marked), "seen": version_of(page, item_id)},
    )
    assert saved.status_code == 200, saved.text
    item = stored(client, item_id)
    assert item.intent == "complain_room_temperature"
    assert item.entities == [
        {"entity": "temperature", "start": 4, "end": 7, "value": "16度"},
        {"entity": "address", "start": 8, "end": 19, "value": "阳光小区3号楼[门牌]"},
    ]
    # the labelled group shows its entities marked on the text
    labelled = b.get("/console/review?status=labelled").text
    assert '屋里才<mark class="entity e-temperature" title="温度">16度</mark>' in labelled
    assert '<mark class="entity e-address" title="地址">阳光小区3号楼[门牌]</mark></p>' in labelled


def test_out_of_scope_drops_the_entities(
    browser: Callable[[str], Browser], client: TestClient, clock: FixedClock
) -> None:
    item_id = keep(client, clock, 1, "你们公司股票怎么样")
    b = browser("agent")
    entities = json.dumps([{"entity": "time", "start": 0, "end": 2}])
    saved = b.post(
        f"/console/review/{item_id}/label", {"out_of_scope": "1", "intent": "ask_refund", "entities": entities}
    )
    assert saved.status_code == 200 and "已标注为“与供热服务无关”" in saved.text
    item = stored(client, item_id)
    assert (item.status, item.intent, item.entities) == ("labelled", "out_of_scope", [])


def test_without_scripts_the_plain_form_labels_and_comes_back_to_the_list(
    browser: Callable[[str], Browser], client: TestClient, clock: FixedClock
) -> None:
    item_id = keep(client, clock, 1, "暖气片咕噜响")
    b = browser("agent")
    page = b.get("/console/review").text
    form = {"csrf_token": b.csrf, "intent": "request_repair", "save": "1", "status": "open"}
    saved = b.post(
        f"/console/review/{item_id}/label", form | {"seen": version_of(page, item_id)}, csrf=False, htmx=False
    )
    assert saved.status_code == 303 and saved.headers["location"] == "/console/review?status=open"
    assert stored(client, item_id).intent == "request_repair"


# ----------------------------------------------------------------------------- approving


def test_a_supervisor_approves_and_an_agents_forged_approval_is_refused(
    browser: Callable[[str], Browser], client: TestClient, clock: FixedClock
) -> None:
    ids = [
        keep(client, clock, n, text, predicted=REPAIR)
        for n, text in enumerate(["暖气片咕噜响", "阀门拧不动", "热表不亮"])
    ]
    desk, boss = browser("agent"), browser("supervisor")
    for item_id in ids:
        assert desk.post(f"/console/review/{item_id}/label", {"accept": "request_repair"}).status_code == 200
    page = desk.get("/console/review?status=labelled").text
    assert "按所选意图保存" in page and "批准所选" not in page and "data-approve" not in page
    refused = desk.post(f"/console/review/{ids[0]}/approve")
    assert refused.status_code == 403 and "只有班长或管理员可以批准" in refused.text
    assert_chinese(banner(refused))
    assert desk.post("/console/review/approve", {"item": str(ids[0])}).status_code == 403
    assert stored(client, ids[0]).status == "labelled"

    page = boss.get("/console/review?status=labelled").text
    assert "批准所选" in page and page.count("data-approve-check") == 3
    one = boss.post(f"/console/review/{ids[0]}/approve", {"seen": version_of(page, ids[0]), "status": "labelled"})
    assert one.status_code == 200 and "已批准：暖气片咕噜响" in one.text
    ticked = [re.search(rf'value="({i}:[0-9a-f]+)" form="bulk-approve"', page).group(1) for i in ids[1:]]  # type: ignore[union-attr]
    both = boss.client.post(
        "/console/review/approve",
        data={"item": ticked, "status": "labelled"},
        headers={"HX-Request": "true", "X-CSRF-Token": boss.csrf},
    )
    assert both.status_code == 200 and "已批准 2 组" in both.text
    assert [stored(client, i).approved_by for i in ids] == ["staff:supervisor2"] * 3
    assert re.search(r"待批准 <b>0</b>.*已批准 <b>3</b>", both.text, re.S)


def test_an_approved_group_is_relabelled_by_a_supervisor_only(
    browser: Callable[[str], Browser], client: TestClient, clock: FixedClock
) -> None:
    item_id = keep(client, clock, 1, "暖气片咕噜响", predicted=REPAIR)
    desk, boss = browser("agent"), browser("supervisor")
    desk.post(f"/console/review/{item_id}/label", {"accept": "request_repair"})
    boss.post(f"/console/review/{item_id}/approve")
    assert "只有班长可以重新标注" in desk.get("/console/review?status=approved").text
    forged = desk.post(f"/console/review/{item_id}/label", {"intent": "report_leak", "status": "approved"})
    assert forged.status_code == 409 and banner(forged) == "该条已被他人批准/修改，已刷新"
    assert stored(client, item_id).intent == "request_repair"
    page = boss.get("/console/review?status=approved").text
    assert "重新标注" in page
    again = boss.post(f"/console/review/{item_id}/label", {"intent": "report_leak", "seen": version_of(page, item_id)})
    assert again.status_code == 200
    item = stored(client, item_id)
    assert (item.status, item.intent, item.approved_by) == ("labelled", "report_leak", None)


# ----------------------------------------------------------------------------- guards and refusals


def test_a_write_without_the_csrf_token_changes_nothing(
    browser: Callable[[str], Browser], client: TestClient, clock: FixedClock
) -> None:
    item_id = keep(client, clock, 1, "暖气片咕噜响")
    b = browser("supervisor")
    for path in (f"/console/review/{item_id}/label", f"/console/review/{item_id}/approve", "/console/review/approve"):
        refused = b.post(path, {"intent": "request_repair", "item": str(item_id)}, csrf=False)
        assert refused.status_code == 403 and "页面已过期" in refused.text, path
    assert stored(client, item_id).status == "open"


def test_of_two_people_on_one_group_the_later_is_told_and_sees_the_fresh_state(
    browser: Callable[[str], Browser], client: TestClient, clock: FixedClock
) -> None:
    item_id = keep(client, clock, 1, "暖气片咕噜响", predicted=REPAIR)
    first, second = browser("agent"), browser("agent")
    seen = version_of(first.get("/console/review").text, item_id)
    assert version_of(second.get("/console/review").text, item_id) == seen
    assert first.post(f"/console/review/{item_id}/label", {"accept": "request_repair", "seen": seen}).status_code == 200
    late = second.post(f"/console/review/{item_id}/label", {"intent": "report_leak", "seen": seen, "status": "open"})
    assert late.status_code == 409 and banner(late) == "该条已被他人批准/修改，已刷新"
    # the fresh state comes with it: the list (the group has left 待标注) and the counts
    assert '<section id="review-list" hx-swap-oob="innerHTML">' in late.text
    assert re.search(r"待标注 <b>0</b>.*待批准 <b>1</b>", late.text, re.S) and "没有待标注的组" in late.text
    assert stored(client, item_id).intent == "request_repair"

    # two supervisors approving at once: the service's conditional update decides, the later is told
    bosses = browser("supervisor"), browser("supervisor")
    assert bosses[0].post(f"/console/review/{item_id}/approve", {"status": "labelled"}).status_code == 200
    again = bosses[1].post(f"/console/review/{item_id}/approve", {"status": "labelled"})
    assert again.status_code == 409 and banner(again) == "该条已被他人批准/修改，已刷新"
    assert "已批准 <b>1</b>" in again.text
    # without scripts the page itself comes back with the banner
    plain = bosses[1].post(f"/console/review/{item_id}/approve", {"status": "labelled"}, htmx=False)
    assert plain.status_code == 409 and "<title" in plain.text and "该条已被他人批准/修改，已刷新" in plain.text


@pytest.mark.parametrize(
    ("form", "words"),
    [
        ({"intent": "no_such_intent"}, "请从列表中选择一个意图"),
        ({"intent": "choose_reading"}, "请从列表中选择一个意图"),
        ({"intent": "bad name!"}, "请从列表中选择一个意图"),
        ({"intent": ""}, "请先选择意图"),
        (
            {"intent": "request_repair", "entities": '[{"entity": "phone", "start": 3, "end": 99}]'},
            "标记的文字须在原文之内",
        ),
        (
            {"intent": "request_repair", "entities": '[{"entity": "name", "start": 0, "end": 2}]'},
            "标记的文字须在原文之内",
        ),
        (
            {
                "intent": "request_repair",
                "entities": '[{"entity": "time", "start": 0, "end": 3}, {"entity": "address", "start": 2, "end": 4}]',
            },
            "互不重叠",
        ),
        ({"intent": "request_repair", "entities": "not json"}, "请重新标记"),
        ({"intent": "request_repair", "entities": '{"entity": "time"}'}, "请重新标记"),
    ],
)
def test_a_refused_label_is_explained_in_chinese(
    browser: Callable[[str], Browser], client: TestClient, clock: FixedClock, form: dict[str, str], words: str
) -> None:
    item_id = keep(client, clock, 1, "暖气片咕噜响")
    refused = browser("agent").post(f"/console/review/{item_id}/label", form)
    assert refused.status_code == 422 and words in banner(refused)
    assert_chinese(banner(refused))
    assert stored(client, item_id).status == "open"


def test_what_does_not_exist_is_explained_in_chinese(browser: Callable[[str], Browser]) -> None:
    agent, boss = browser("agent"), browser("supervisor")
    for answer in (
        agent.post("/console/review/999/label", {"intent": "request_repair"}),
        boss.post("/console/review/999/approve"),
    ):
        assert answer.status_code == 404 and "没有这一组" in banner(answer)
        assert_chinese(banner(answer))
    nothing = boss.post("/console/review/approve", {})
    assert nothing.status_code == 422 and "请先勾选" in banner(nothing)
    missing = boss.client.post(
        "/console/review/approve",
        data={"item": ["999:0", "x"]},
        headers={"HX-Request": "true", "X-CSRF-Token": boss.csrf},
    )
    assert missing.status_code == 422 and "无法读取" in banner(missing)


def test_the_page_names_every_reason_and_kind_in_words() -> None:
    assert set(review_page.REASONS) == set(review.REASONS)
    assert set(review_page.STATUSES) == set(review.STATUSES)
    assert set(review_page.ENTITY_KINDS) == set(review.ENTITY_KINDS)


# ----------------------------------------------------------------------------- in a browser

SHOTS = Path(__file__).resolve().parents[2] / "var" / "test-reports"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's chromium driven by Playwright, as the end-to-end tests drive it (tests/e2e/conftest.py)."""
    from tests.e2e.conftest import stack

    if not Path(stack.CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI (.ci/run installs Debian's package)")
        pytest.skip("no chromium here: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=stack.CHROMIUM, args=list(stack.CHROMIUM_ARGS))
        yield browser
        browser.close()


def focused(page: Any, item_id: int) -> None:
    """Wait until the keyboard is on a group (after a save, once the new list has settled)."""
    page.wait_for_function("id => document.activeElement.id === id", arg=f"review-{item_id}", timeout=5000)


def marked(page: Any, item_id: int) -> list[dict[str, Any]]:
    """The entities the page holds for a group, unsaved (its form's hidden field)."""
    return list(json.loads(page.input_value(f"#review-{item_id} [data-entities]")))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_entities_marked_with_the_keys_and_the_mouse_are_saved_at_the_right_characters(
    make_client: Callable[..., TestClient], client: TestClient, clock: FixedClock, chromium: Any
) -> None:
    """An emoji is one character to the service and two to the page's strings: each mark must land on
    the characters selected all the same."""
    from tests.e2e.test_console_page import WATCH_POLICY, blocked

    address = keep(client, clock, 1, "😀暖气不热，地址阳光小区3号楼2单元501", predicted=REPAIR)
    keep(client, clock, 2, "😀暖气不热，地址阳光小区3号楼2单元501。")  # the same group: it comes first
    taken = keep(client, clock, 3, "热费能开发票吗")
    clock.advance(minutes=1)  # seen later: listed before it
    other = keep(
        client, clock, 4, "🔥🔥屋里才16度", predicted=[{"name": "complain_room_temperature", "confidence": 0.7}]
    )
    add_staff_user(client, "biaozhu", "agent")
    app = make_client().app
    with serving(app) as url:  # type: ignore[arg-type]
        page = chromium.new_page(viewport={"width": 1366, "height": 900})
        page.add_init_script(WATCH_POLICY)
        failures: list[str] = []
        page.on("pageerror", lambda error: failures.append(str(error)))
        page.goto(url + "/console/login")
        page.fill("input[name=username]", "biaozhu")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r".*/console/chats$"))
        page.goto(url + "/console/review")

        # the skip link is the first stop of the keyboard and leads to the first group
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "跳到第一组"
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == f"review-{address}"

        # the keys: the caret past 😀暖气不热，地址 (8 characters), then 11 selected, marked as 地址
        for _ in range(8):
            page.keyboard.press("ArrowRight")
        for _ in range(11):
            page.keyboard.press("Shift+ArrowRight")
        assert page.evaluate("getSelection().toString()") == "阳光小区3号楼[门牌]"
        page.keyboard.press("a")
        assert marked(page, address) == [{"entity": "address", "start": 8, "end": 19}]
        assert page.text_content(f"#review-{address} mark.e-address") == "阳光小区3号楼[门牌]"

        # the intent list, searched by typing (the letters typed there mark nothing), picked with Enter
        page.keyboard.press("/")
        page.keyboard.type("室温低 a")
        page.keyboard.press("Backspace")
        page.keyboard.press("Backspace")
        assert page.locator("#intent-options li:visible").count() == 1
        page.keyboard.press("Enter")
        assert page.input_value(f"#review-{address} [data-intent-select]") == "complain_room_temperature"
        assert marked(page, address) == [{"entity": "address", "start": 8, "end": 19}]
        page.keyboard.press("Enter")  # saved; the next group is the one to work on
        focused(page, other)
        saved = stored(client, address)
        assert (saved.intent, saved.entities) == (
            "complain_room_temperature",
            [{"entity": "address", "start": 8, "end": 19, "value": "阳光小区3号楼[门牌]"}],
        )

        # the mouse: dragged over 16度 after two emoji, marked with the 温度 button
        box = page.evaluate(
            """([id, from, to]) => {
                const text = document.querySelector(`#review-${id} [data-review-text]`).firstChild;
                const unit = (n) => Array.from(text.data).slice(0, n).join("").length;
                const range = document.createRange();
                range.setStart(text, unit(from)); range.setEnd(text, unit(from) + 1);
                const first = range.getBoundingClientRect();
                range.setStart(text, unit(to) - 1); range.setEnd(text, unit(to));
                const last = range.getBoundingClientRect();
                return [first.left + 1, first.top + first.height / 2, last.right - 1, last.top + last.height / 2];
            }""",
            [other, 5, 8],
        )
        page.mouse.move(box[0], box[1])
        page.mouse.down()
        page.mouse.move(box[2], box[3], steps=5)
        page.mouse.up()
        page.click(f"#review-{other} [data-mark=temperature]")
        assert marked(page, other) == [{"entity": "temperature", "start": 5, "end": 8}]
        page.screenshot(path=str(SHOTS / "console-review.png"), full_page=True)

        # someone else decides on a group first: the page says so in Chinese and shows the fresh state
        with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
            someone = Principal(name="staff:other", role=Role.AGENT)
            review.label(session, taken, someone, clock.now, review_page.ROOT, "ask_payment")
        page.keyboard.press("j")
        focused(page, taken)
        page.keyboard.press("o")
        page.wait_for_selector("#flash .banner.bad")
        assert "该条已被他人批准/修改，已刷新" in page.text_content("#flash")
        focused(page, other)
        # the 温度 not yet saved on the other group is still there
        assert marked(page, other) == [{"entity": "temperature", "start": 5, "end": 8}]
        page.keyboard.press("k")
        page.keyboard.press("Enter")  # the bot's reading, with the mark
        page.wait_for_selector(f"#review-{other}", state="detached")
        assert stored(client, other).entities == [{"entity": "temperature", "start": 5, "end": 8, "value": "16度"}]
        assert blocked(page) == [] and failures == []
        page.close()
