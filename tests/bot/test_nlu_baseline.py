"""The simple baseline `make bench` measures the NLU pipeline against (#12)."""

from __future__ import annotations

import pytest

from scripts.nlu_baseline import examples, model, score


def test_examples_are_read_as_the_pipeline_reads_them() -> None:
    texts, intents = examples("data/nlu")
    assert len(texts) == len(intents) > 500
    assert not any("](" in t for t in texts)  # entity markup is not part of the text
    assert {"cancel", "request_human"} <= set(intents)


def test_scores_are_accuracy_and_macro_f1() -> None:
    found = score(["a", "a", "b", "b"], ["a", "b", "b", "b"])
    assert found.accuracy == pytest.approx(0.75) and found.macro_f1 == pytest.approx((2 / 3 + 0.8) / 2)


def test_the_baseline_learns_from_examples() -> None:
    texts = ["暖气不热", "屋里太冷", "暖气片冰凉", "管子漏水", "阀门滴水", "水管漏了"]
    intents = ["cold", "cold", "cold", "leak", "leak", "leak"]
    fitted = model().fit(texts, intents)
    assert list(fitted.predict(["暖气不怎么热", "漏水了"])) == ["cold", "leak"]


def test_entity_scores_count_exact_and_overlapping_spans() -> None:
    from scripts.bench_nlu import entity_scores

    pairs = [
        ({("address", 0, 10), ("phone", 12, 23)}, {("address", 0, 10), ("phone", 12, 23)}),
        ({("address", 3, 13)}, {("address", 0, 13)}),  # found, but with words before it
        ({("time", 0, 4)}, set()),  # missed
        (set(), {("temperature", 2, 5)}),  # found where nothing was marked
    ]
    scores = entity_scores(pairs)
    assert scores["address"]["precision"] == 0.5 and scores["address"]["recall"] == 0.5
    assert scores["address"]["overlap_precision"] == 1.0 and scores["address"]["overlap_recall"] == 1.0
    assert scores["phone"]["precision"] == scores["phone"]["recall"] == 1.0
    assert scores["time"]["recall"] == 0.0 and scores["time"]["found"] == 0
    assert scores["temperature"]["precision"] == 0.0 and scores["temperature"]["marked"] == 0


def test_with_the_threshold_a_weak_best_intent_is_not_understood() -> None:
    """The baseline is read as the bot reads its own model: below the fallback threshold the best
    intent is "not understood", so both are scored the same way."""
    from scripts.nlu_baseline import FALLBACK, predict

    texts = ["暖气不热", "屋里太冷", "暖气片冰凉", "管子漏水", "阀门滴水", "水管漏了"]
    fitted = model().fit(texts, ["cold", "cold", "cold", "leak", "leak", "leak"])
    assert predict(fitted, ["暖气不热", "漏水了"]) == ["cold", "leak"]  # no threshold: the best intent
    assert predict(fitted, ["暖气不热"], threshold=0.5) == ["cold"]
    assert predict(fitted, ["暖气不热"], threshold=0.99) == [FALLBACK]
