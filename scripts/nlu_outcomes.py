"""What the bot does with each message, counted: answered, clarified or answered wrongly.

The bot's ``FallbackClassifier`` (``config.yml``) replaces the intent by ``nlu_fallback`` — the bot asks a
short clarifying question — when the best intent's confidence is below ``threshold`` or the best two are
closer than ``ambiguity_threshold`` (Rasa 3.6, ``FallbackClassifier._should_fallback``: both comparisons
strict). Every other message is answered, rightly or wrongly. These functions apply the same two rules
to any ranking (the trained Rasa model's, with the fallback's own entry taken out, or the baseline's),
so thresholds can be compared on one parse, and count only: no message or error leaves them.

Used by ``scripts/bench_nlu.py`` (``make bench``), ``scripts/choose_threshold.py`` and the ``nlu-test`` suite of
``make test`` (``python scripts/nlu_outcomes.py --model … --set …``, bot environment).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

FALLBACK = "nlu_fallback"
OUT_OF_SCOPE = "out_of_scope"
# Rasa's FallbackClassifier's own default, used when config.yml does not set it.
RASA_AMBIGUITY_DEFAULT = 0.1

Ranking = Sequence[tuple[str, float]]


@dataclass(frozen=True)
class Rules:
    """When the bot clarifies instead of answering: the FallbackClassifier's two settings."""

    threshold: float
    margin: float

    def clarifies(self, ranking: Ranking) -> bool:
        """Whether the bot asks instead of answering, for a ranking (best first) of the intent model."""
        if not ranking:
            return True
        best = ranking[0][1]
        second = ranking[1][1] if len(ranking) > 1 else None
        return best < self.threshold or (second is not None and best - second < self.margin)


@dataclass(frozen=True)
class Outcome:
    """How a set of messages was handled: every message is answered or clarified; ``wrong`` counts the
    answered ones whose intent is not the one marked; ``top1`` counts best intents that are right,
    whether answered or not."""

    total: int
    answered: int
    clarified: int
    wrong: int
    top1: int

    @property
    def answered_share(self) -> float:
        return self.answered / self.total if self.total else 0.0

    @property
    def clarified_share(self) -> float:
        return self.clarified / self.total if self.total else 0.0

    @property
    def wrong_share(self) -> float:
        """Wrong answers among all messages."""
        return self.wrong / self.total if self.total else 0.0

    @property
    def wrong_among_answered(self) -> float:
        return self.wrong / self.answered if self.answered else 0.0

    @property
    def right_among_answered(self) -> float:
        return 1.0 - self.wrong_among_answered if self.answered else 0.0

    @property
    def top1_accuracy(self) -> float:
        return self.top1 / self.total if self.total else 0.0

    def cells(self) -> str:
        """A table row's cells: answered, clarified, wrong (count and share), right among answered, top-1."""
        return (
            f"{self.answered} ({self.answered_share:.1%}) | {self.clarified} ({self.clarified_share:.1%}) "
            f"| {self.wrong} ({self.wrong_share:.1%}) | {self.right_among_answered:.1%} | {self.top1_accuracy:.3f}"
        )


CELLS_HEADER = "answered | clarified | wrong | right among answered | top-1"


def outcome(rankings: Sequence[Ranking], truth: Sequence[str], rules: Rules) -> Outcome:
    """Count what the bot does with each message under ``rules``; ``truth`` holds the marked intents."""
    answered = wrong = top1 = 0
    for ranking, intent in zip(rankings, truth, strict=True):
        right = bool(ranking) and ranking[0][0] == intent
        top1 += right
        if not rules.clarifies(ranking):
            answered += 1
            wrong += not right
    return Outcome(len(truth), answered, len(truth) - answered, wrong, top1)


def declined(rankings: Sequence[Ranking], rules: Rules) -> int:
    """Messages the bot does not answer as a heating matter: out of scope, or clarified."""
    return sum(rules.clarifies(r) or r[0][0] == OUT_OF_SCOPE for r in rankings)


def classifier_ranking(parsed: dict[str, Any]) -> list[tuple[str, float]]:
    """The intent model's own ranking in a parse of the trained Rasa model: the fallback's entry, which
    the FallbackClassifier puts first when it clarifies, taken out."""
    return [(r["name"], float(r["confidence"])) for r in parsed.get("intent_ranking", []) if r["name"] != FALLBACK]


def fallback_rules(config: Path = ROOT / "config.yml") -> Rules:
    """The FallbackClassifier's threshold and ambiguity margin in ``config``."""
    import yaml

    pipeline = yaml.safe_load(config.read_text(encoding="utf-8"))["pipeline"]
    fallback = next(c for c in pipeline if c["name"] == "FallbackClassifier")
    return Rules(float(fallback["threshold"]), float(fallback.get("ambiguity_threshold", RASA_AMBIGUITY_DEFAULT)))


async def parse_all(agent: Any, texts: Sequence[str]) -> list[dict[str, Any]]:
    """Each text parsed by the trained Rasa model (its pipeline, fallback included)."""
    return [await agent.parse_message(text) for text in texts]


def parsed_through(model: Path, text_sets: Sequence[Sequence[str]]) -> list[list[dict[str, Any]]]:
    """Each list of texts parsed through the trained model, loaded once, with Rasa quiet (``quiet_rasa``)."""
    import asyncio

    from rasa.core.agent import load_agent

    quiet_rasa()

    async def run() -> list[list[dict[str, Any]]]:
        agent = await load_agent(str(model))
        return [await parse_all(agent, texts) for texts in text_sets]

    return asyncio.run(run())


def as_decided(parsed: Sequence[dict[str, Any]], truth: Sequence[str]) -> Outcome:
    """The outcome as the trained model itself decided it: ``nlu_fallback`` is a clarifying question."""
    rankings = [classifier_ranking(p) for p in parsed]
    clarified = sum(p["intent"]["name"] == FALLBACK for p in parsed)
    wrong = sum(p["intent"]["name"] not in (FALLBACK, t) for p, t in zip(parsed, truth, strict=True))
    top1 = sum(bool(r) and r[0][0] == t for r, t in zip(rankings, truth, strict=True))
    return Outcome(len(truth), len(truth) - clarified, clarified, wrong, top1)


def quiet_rasa() -> None:
    """Rasa logs each parse at debug level, predictions included: the untouched sets' errors stay unread."""
    import logging

    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    logging.getLogger().setLevel(logging.WARNING)


def agent_outcomes(model: Path, sets: Sequence[str]) -> dict[str, Outcome]:
    """Each set parsed through the trained model: the outcome as the bot itself decided (its
    ``nlu_fallback``), which ``fallback_rules`` applied to the model's ranking reproduces."""
    from scripts.nlu_baseline import examples

    examples_of = [examples(name) for name in sets]
    parsed = parsed_through(model, [texts for texts, _ in examples_of])
    return {name: as_decided(p, truth) for name, p, (_, truth) in zip(sets, parsed, examples_of, strict=True)}


def main() -> int:
    parser = argparse.ArgumentParser(description="Answered, clarified and wrong through the trained model.")
    parser.add_argument("--model", required=True, type=Path)
    parser.add_argument("--set", action="append", required=True, dest="sets")
    parser.add_argument("--min-top1", type=float, default=0.0, help="fail below this top-1 accuracy")
    parser.add_argument("--min-right", type=float, default=0.0, help="fail below this share right among answered")
    parser.add_argument("--max-clarified", type=float, default=1.0, help="fail above this share clarified")
    args = parser.parse_args()
    ok = True
    for name, found in agent_outcomes(args.model, args.sets).items():
        fine = (
            found.top1_accuracy >= args.min_top1
            and found.right_among_answered >= args.min_right
            and found.clarified_share <= args.max_clarified
        )
        ok &= fine
        print(
            f"{name}: {found.total} messages, answered {found.answered} ({found.answered_share:.1%}), "
            f"clarified {found.clarified} ({found.clarified_share:.1%}), wrong {found.wrong} "
            f"({found.wrong_share:.1%}); right among answered {found.right_among_answered:.1%}, "
            f"top-1 {found.top1_accuracy:.3f}: {'above the floor' if fine else 'BELOW THE FLOOR'}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
