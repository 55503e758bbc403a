"""The NLU test, development, out-of-domain and entity sets stay unseen, and every intent has enough
training examples."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = re.compile(r"^\s+- (?!intent:|regex:|lookup:|synonym:)(.+)$")
INTENT = re.compile(r"^\s+- intent: (\S+)")


def examples_by_intent(paths: list[Path]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in paths:
        intent = None
        for line in path.read_text(encoding="utf-8").splitlines():
            if (
                line.strip().startswith("- regex:")
                or line.strip().startswith("- lookup:")
                or line.strip().startswith("- synonym:")
            ):
                intent = None
            if m := INTENT.match(line):
                intent = m.group(1)
                found.setdefault(intent, [])
            elif intent and (m := EXAMPLE.match(line)):
                found[intent].append(re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", m.group(1)).strip())
    return found


TRAIN = examples_by_intent(sorted((ROOT / "data" / "nlu").glob("*.yml")))
TEST = examples_by_intent([ROOT / "tests" / "nlu" / "test.yml"])
WILD = examples_by_intent([ROOT / "tests" / "nlu" / "test_wild.yml"])
DEV = examples_by_intent([ROOT / "tests" / "nlu" / "dev.yml"])
# the first four development sets of new wording are training data since 2026-12-07 (in data/nlu/ by intent,
# under the comment "residents' messages written apart from the project (set 1-4 …)")
DEV_WILD5 = examples_by_intent([ROOT / "tests" / "nlu" / "dev_wild5.yml"])
OUT_OF_DOMAIN = examples_by_intent([ROOT / "tests" / "nlu" / "out_of_domain.yml"])
ENTITIES = examples_by_intent(
    [
        ROOT / "tests" / "nlu" / name
        for name in (
            "entities_dev.yml",
            "entities_test.yml",
            "entities_wild.yml",
            "grid_workers.yml",
            "grid_workers_dev.yml",
        )
    ]
)


def sentences(by_intent: dict[str, list[str]]) -> set[str]:
    return {e for examples in by_intent.values() for e in examples}


def test_no_test_development_or_out_of_domain_sentence_is_trained_on() -> None:
    trained = sentences(TRAIN)
    for held in (TEST, WILD, DEV, DEV_WILD5, OUT_OF_DOMAIN, ENTITIES):
        assert sentences(held) & trained == set()
    assert sentences(TEST) & sentences(DEV) == set()
    assert sentences(WILD) & (sentences(TEST) | sentences(DEV) | sentences(OUT_OF_DOMAIN)) == set()
    assert sentences(DEV_WILD5) & (sentences(TEST) | sentences(WILD) | sentences(DEV)) == set()
    assert sentences(OUT_OF_DOMAIN) & (sentences(TEST) | sentences(DEV)) == set()


def test_every_intent_has_at_least_25_training_examples_and_is_tested() -> None:
    counts = Counter({intent: len(examples) for intent, examples in TRAIN.items()})
    assert counts and min(counts.values()) >= 25, counts.most_common()[-3:]
    assert set(TRAIN) == set(DEV)
    # the test set of 2026-11-29 predates the four intents of #23; the larger set covers every intent
    assert set(TEST) <= set(TRAIN)
    assert min(len(v) for v in TEST.values()) >= 10
    assert set(WILD) == set(TRAIN) and min(len(v) for v in WILD.values()) >= 20
    assert set(DEV_WILD5) == set(TRAIN) and min(len(v) for v in DEV_WILD5.values()) >= 10


def test_each_intent_lives_in_one_training_file() -> None:
    """data/nlu/ is cut by intent family: "why does the bot take X for Y?" starts in one file per intent
    (where an example came from is a comment there, not a file of its own)."""
    homes: dict[str, set[str]] = {}
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")):
        for intent in examples_by_intent([path]):
            homes.setdefault(intent, set()).add(path.name)
    scattered = {intent: sorted(files) for intent, files in homes.items() if len(files) > 1}
    assert homes and scattered == {}
