"""Knowledge answers with operator values; a missing value is reported, never invented."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
import yaml

from bot import knowledge
from bot.operator import NOT_CONFIGURED, config_path, load_facts

SAMPLE = load_facts(Path(__file__).resolve().parents[2] / "config" / "operator.sample.yml")
EMPTY = load_facts(Path(__file__).resolve().parent / "fixtures" / "operator.empty.yml")
TOPICS = [t for t in knowledge.knowledge() if t not in ("business", "intents", "other_intents")]
EXTRA = {"community": "阳光小区", "cause": "爆管", "repair_location": "文化路", "restoration": "12月11日12:00"}


@pytest.mark.parametrize("topic", TOPICS)
def test_every_topic_renders_and_cites_the_standard(topic: str) -> None:
    text = knowledge.answer(topic, SAMPLE, date(2026, 12, 10), **EXTRA)
    assert "{" not in text and "}" not in text
    assert "《威海市城镇供热服务规范》" in text
    assert knowledge.knowledge()[topic]["clause"] in text


@pytest.mark.parametrize("business_type", [*knowledge.BUSINESS_TYPES, None, "unknown"])
def test_every_business_answer_renders(business_type: str | None) -> None:
    text = knowledge.business_answer(business_type, SAMPLE, date(2026, 12, 10))
    assert "9.1" in text and "{" not in text


def test_missing_operator_values_are_reported_not_invented() -> None:
    text = knowledge.answer("service_contact", EMPTY, date(2026, 12, 10))
    assert NOT_CONFIGURED in text
    assert "0631" not in text
    assert knowledge.answer("heating_period", EMPTY, date(2026, 12, 10)).startswith("供热起止时间")


def test_season_sentence_names_this_or_the_next_season() -> None:
    assert SAMPLE.season_sentence(date(2026, 12, 10)).startswith("本采暖期为2026年11月15日至2027年3月15日")
    assert SAMPLE.season_sentence(date(2026, 6, 1)).startswith("下一采暖期为2026年11月15日")
    assert SAMPLE.season_sentence(date(2028, 1, 1)) == ""


def test_operator_config_path_prefers_the_environment(tmp_path: Path) -> None:
    assert config_path({"OPERATOR_CONFIG": str(tmp_path / "x.yml")}) == tmp_path / "x.yml"
    assert config_path({}).name in {"operator.yml", "operator.sample.yml"}


def test_answers_say_what_their_clauses_say_and_no_more() -> None:
    """The deviations a reading of the whole standard found (#11)."""
    today = date(2026, 12, 10)
    test = knowledge.answer("temperature_test_intro", SAMPLE, today)
    assert "可不提供入室测温" in test and "合同约定不保证温度" in test  # 10.3 item 2: "may", two cases
    assert "热费不予减收" in test  # 10.3 item 1 e: the resident's own installation
    compensation = knowledge.answer("compensation", SAMPLE, today)
    assert "30个工作日内" in compensation and "间接损失" in compensation  # 13.5, 13.6, insured or not
    period = knowledge.answer("heating_period", SAMPLE, today)
    assert "前七至十天完成系统注水、调试并提前公告" in period  # 6.1.1: a deadline, not a start
    transfer = knowledge.business_answer("transfer", SAMPLE, today)
    assert "9.1.8" not in transfer  # 9.1.8 covers 增、减、停、复热, not 过户
    meter = knowledge.answer("heat_meter", SAMPLE, today)
    assert "10.3 第3条" in meter  # 10.3's items are printed as 10.1-10.4: cite the item
    refund = knowledge.answer("refund", SAMPLE, today)
    assert "10.3 第4条" in refund and "6月30日前" in refund  # the item printed "10.4"


def test_the_items_of_10_3_are_cited_by_their_place_in_it_never_by_their_printed_numbers() -> None:
    """The standard prints 10.3's four items as 10.1-10.4, numbers of clauses they are not: every bot text
    cites them "10.3 第N条" (the refund item, printed 10.4, is "10.3 第4条")."""
    today = date(2026, 12, 10)
    domain = yaml.safe_load((Path(__file__).resolve().parents[2] / "domain.yml").read_text(encoding="utf-8"))
    texts = [knowledge.answer(topic, SAMPLE, today, **EXTRA) for topic in TOPICS]
    texts += [knowledge.business_answer(kind, SAMPLE, today) for kind in (*knowledge.BUSINESS_TYPES, None)]
    texts += [variant["text"] for variants in domain["responses"].values() for variant in variants]
    printed = re.compile(r"(?<![\d.])10\.[124](?![\d.])")  # 10.1 or 10.2 or 10.4 standing alone
    assert [text for text in texts if printed.search(text)] == []


def test_an_insurer_is_named_only_when_the_operator_file_says_the_company_holds_the_policy(tmp_path: Path) -> None:
    """13.1 recommends (宜) public liability insurance and 13.2 leaves it to the company: with the policy the
    insurer comes to assess the loss with the resident (13.3); without it, or unsaid, no insurer is named and
    the answer says what 13.5 and 13.6 oblige in any case."""
    today = date(2026, 12, 10)
    sample = (Path(__file__).resolve().parents[2] / "config" / "operator.sample.yml").read_text(encoding="utf-8")
    assert "liability_insurance: false" in sample  # the shipped sample presumes no policy
    insured = tmp_path / "operator.yml"
    insured.write_text(sample.replace("liability_insurance: false", "liability_insurance: true"), encoding="utf-8")
    told = knowledge.answer("compensation", load_facts(insured), today)
    assert "通知保险公司到达现场，与您共同清点损失物品" in told and "13.3" in told and "以保单为准" in told
    assert "理算金额" in told and "30个工作日内" in told and "13.6" in told
    for facts in (SAMPLE, EMPTY):
        untold = knowledge.answer("compensation", facts, today)
        assert "保险" not in untold and "保单" not in untold and "理算" not in untold
        assert "双方就赔偿数额达成一致后，企业在30个工作日内将赔偿款交付给您（13.5）" in untold
        assert "间接损失" in untold and "13.6" in untold


@pytest.mark.parametrize(
    ("business_type", "days"), [("stop_heating", "3天"), ("resume_heating", "2天"), ("transfer", "5天")]
)
def test_business_other_than_a_new_connection_tells_the_companys_promise(business_type: str, days: str) -> None:
    """9.1.2 and 9.1.1 (办理时限): the days come from the operator file's promises; 9.1.4 is for 报装 only."""
    text = knowledge.business_answer(business_type, SAMPLE, date(2026, 12, 10))
    assert f"申请后{days}内办结" in text and "9.1.2" in text and "9.1.4" not in text
    unset = knowledge.business_answer(business_type, EMPTY, date(2026, 12, 10))
    assert "公司承诺的时限内办结" in unset and "天内办结" not in unset  # never invented


def test_resident_facing_clauses_of_9_and_12_are_answered_from_the_operator_file() -> None:
    """9.2.1 metering, 9.1.7 contracts, 9.3 relief, 12.2 i) the repair line: the company's facts, cited."""
    today = date(2026, 12, 10)
    meter = knowledge.answer("heat_meter", SAMPLE, today)
    assert "两部制热价" in meter and "9.2.1" in meter and "10.3 第3条" in meter
    contract = knowledge.answer("contract", SAMPLE, today)
    assert "9.1.7" in contract and "违约金" in contract and "12.2" in contract and "各营业厅" in contract
    relief = knowledge.answer("relief_policy", SAMPLE, today)
    assert "9.3" in relief and "低保" in relief and "0631-0000000" in relief
    contact = knowledge.answer("service_contact", SAMPLE, today)
    assert "抢修电话：0631-0000001" in contact


def test_without_the_companys_facts_nothing_about_metering_contracts_or_relief_is_invented() -> None:
    today = date(2026, 12, 10)
    for topic in ("heat_meter", "contract", "relief_policy"):
        assert NOT_CONFIGURED in knowledge.answer(topic, EMPTY, today)
    assert "两部制" not in knowledge.answer("heat_meter", EMPTY, today)


def test_an_empty_list_of_relief_policies_says_none_is_in_force(tmp_path: Path) -> None:
    sample = (Path(__file__).resolve().parents[2] / "config" / "operator.sample.yml").read_text(encoding="utf-8")
    start = sample.index("  relief_policies:")
    end = sample.index("\n", sample.index("\n", start) + 1)
    path = tmp_path / "operator.yml"
    path.write_text(sample[:start] + "  relief_policies: []" + sample[end:], encoding="utf-8")
    text = knowledge.answer("relief_policy", load_facts(path), date(2026, 12, 10))
    assert "目前没有正在执行的减免政策" in text and "低保" not in text


@pytest.mark.parametrize(
    ("intent", "text", "topic"),
    [
        ("ask_payment", "暖气费怎么交", "payment"),
        ("ask_payment", "暖气费交晚了会怎么样", "unpaid_fees"),
        ("ask_payment", "暖气费拖了俩月还没交上 会咋样", "unpaid_fees"),
        ("ask_payment", "过了交费时间再交会给停暖吗", "unpaid_fees"),
        ("ask_payment", "去年欠着的热费能跟今年一起交吗", "unpaid_fees"),
        ("ask_payment", "没有按时交费有啥后果", "unpaid_fees"),
        ("ask_heating_period", "还没开始供暖，暖气管里怎么有流水声", "pipe_filling"),
        ("ask_outage", "停暖会提前通知吗", "outage_notice"),
        ("ask_complaint_process", "投诉以后多久能给处理完", "complaint_process"),
        ("ask_complaint_process", "我打了12345热线，多久给我答复", "hotline_windows"),
        ("ask_complaint_process", "上次投诉没解决，我又投诉了一次怎么办", "repeat_complaint"),
        ("ask_complaint_process", "处理完了你们会回访吗", "callback"),
        ("ask_repair_process", "维修师傅报修后多久能上门", "repair_arrival"),
        ("ask_repair_process", "自己家暖气片坏了，维修要钱吗", "repair_charges"),
        ("ask_repair_process", "报修后多少分钟能到", "repair_arrival"),
        ("ask_privacy", "你们会不会泄露我的电话和住址", "privacy"),
        ("ask_privacy", "我想删除我在你们这儿留的个人信息", "privacy_erasure"),
        ("ask_business_process", "买了新房，暖气怎么开户", "open_account"),
        ("ask_business_process", "暖气怎么销户", "close_account"),
        ("ask_fee_reduction", "室温不达标能少交暖气费吗", "fee_reduction"),
        ("greet", "你好", None),
    ],
)
def test_the_words_of_a_question_pick_its_topic_within_the_intent(intent: str, text: str, topic: str | None) -> None:
    assert knowledge.topic_for(intent, text) == topic


def test_every_topic_an_intent_names_exists_and_every_intent_is_labelled() -> None:
    topics = set(TOPICS) | {"business"} | set(knowledge.BUSINESS_TYPES)  # a business question's narrower topics
    for name, entry in knowledge.knowledge()["intents"].items():
        assert entry["label"], name
        named = [entry.get("topic")] + [more["topic"] for more in entry.get("more") or ()]
        assert {t for t in named if t} <= topics, name


def test_the_promises_answers_say_the_standards_windows_and_the_companys_promise() -> None:
    today = date(2026, 12, 10)
    complaint = knowledge.answer("complaint_process", SAMPLE, today)
    assert "30分钟" in complaint and "一般72小时内（公司承诺）" in complaint and "三日内回访" in complaint
    hotline = knowledge.answer("hotline_windows", SAMPLE, today)
    assert all(w in hotline for w in ("市级热线一般5个工作日", "省级热线3个工作日", "接诉即办工单2个工作日", "24小时"))
    repeat = knowledge.answer("repeat_complaint", SAMPLE, today)
    assert "面对面" in repeat and "7天" in repeat
    arrival = knowledge.answer("repair_arrival", SAMPLE, today)
    assert "30分钟内到达" in arrival and "前5分钟内" in arrival
    charges = knowledge.answer("repair_charges", SAMPLE, today)
    assert "事先" in charges and "确认后才开始维修" in charges
    reduction = knowledge.answer("fee_reduction", SAMPLE, today)
    assert "按规定减收热费（d）" in reduction and "热费不予减收（e）" in reduction
    unpaid = knowledge.answer("unpaid_fees", SAMPLE, today)
    assert "保留催费证明" in unpaid and "停止供热或按合同约定处理" in unpaid
    payment = knowledge.answer("payment", SAMPLE, today)  # 9.2.2 whole: the reminders, then what follows
    assert "催费" in payment and "经催收后仍不交纳的，供热企业可以停止供热或按合同约定处理" in payment
    privacy = knowledge.answer("privacy", SAMPLE, today)
    assert "1095天后" in privacy and "删除我的信息" in privacy
    filling = knowledge.answer("pipe_filling", SAMPLE, today)
    assert "七至十天完成供热系统注水、调试等工作，并提前进行公告" in filling and "2026年11月15日" in filling
    assert not any(said in filling for said in ("正常", "水声", "水流动", "流水"))  # 6.1.1 says nothing of noise


def test_without_the_companys_promises_nothing_is_invented() -> None:
    today = date(2026, 12, 10)
    assert "以公司公布的承诺时限为准" in knowledge.answer("complaint_process", EMPTY, today)
    assert "删除" in knowledge.answer("privacy", EMPTY, today) and "天后" not in knowledge.answer(
        "privacy", EMPTY, today
    )
    assert NOT_CONFIGURED in knowledge.business_answer("open_account", EMPTY, today)


@pytest.mark.parametrize(
    ("business_type", "named", "documents", "days"),
    [("open_account", "【开户", "购房合同", "3天"), ("close_account", "【销户", "热费结清凭证", "5天")],
)
def test_opening_and_closing_an_account_are_business_kinds_told_from_the_operator_file(
    business_type: str, named: str, documents: str, days: str
) -> None:
    """7.5 names 开户 and 销户 among a service hall's business; their documents (9.1.1) and time (the company's
    promise, 9.1.2) come from the operator file like every kind but 报装."""
    today = date(2026, 12, 10)
    text = knowledge.business_answer(business_type, SAMPLE, today)
    assert text.startswith(named) and "7.5" in text and documents in text
    assert f"申请后{days}内办结（公司承诺，9.1.2）" in text and "示例营业厅" in text
    unset = knowledge.business_answer(business_type, EMPTY, today)
    assert NOT_CONFIGURED in unset and "公司承诺的时限内办结" in unset and "天内办结" not in unset


@pytest.mark.parametrize(
    ("text", "named", "remembered", "business_type"),
    [
        ("买了新房，暖气怎么开户", "open_account", None, "open_account"),
        ("暖气户头能注销吗", None, "stop_heating", "close_account"),
        ("报停要带什么", "stop_heating", "open_account", "stop_heating"),
        ("多久能办完", None, "transfer", "transfer"),
        ("怎么办业务", None, None, None),
        ("怎么办业务", "unknown", "nonsense", None),
    ],
)
def test_the_business_a_question_is_about(
    text: str, named: str | None, remembered: str | None, business_type: str | None
) -> None:
    assert knowledge.business_type_for(text, named, remembered) == business_type
