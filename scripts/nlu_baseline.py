"""The simple baseline the NLU pipeline is measured against (#12): character n-gram TF-IDF and logistic
regression, trained on the same ``data/nlu/`` and scored on the same sets as the pipeline.

Used by ``scripts/bench_nlu.py`` (``make bench``); runs in the bot environment (scikit-learn comes with
Rasa). ``python scripts/nlu_baseline.py`` prints its figures alone.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Scores:
    accuracy: float
    macro_f1: float
    support: int


def examples(path: str | Path) -> tuple[list[str], list[str]]:
    """(texts, intents) of a Rasa NLU file or folder, read by Rasa's own loader (entity markup removed)."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(ROOT / path))
    pairs = [(m.get("text"), m.get("intent")) for m in data.intent_examples if m.get("text") and m.get("intent")]
    return [t for t, _ in pairs], [i for _, i in pairs]


def model():  # type: ignore[no-untyped-def]
    """Character 1–4-grams (word-boundary aware), TF-IDF, multinomial logistic regression."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True, min_df=1),
        LogisticRegression(C=10.0, max_iter=2000),
    )


def score(truth: list[str], predicted: list[str]) -> Scores:
    from sklearn.metrics import accuracy_score, f1_score

    return Scores(
        accuracy=float(accuracy_score(truth, predicted)),
        macro_f1=float(f1_score(truth, predicted, average="macro", zero_division=0)),
        support=len(truth),
    )


def fit(train: str = "data/nlu"):  # type: ignore[no-untyped-def]
    """The baseline trained on ``train``."""
    texts, intents = examples(train)
    return model().fit(texts, intents)


FALLBACK = "nlu_fallback"


def predict(fitted, texts: list[str], threshold: float | None = None) -> list[str]:  # type: ignore[no-untyped-def]
    """The best intent of each text; with ``threshold``, read as the bot reads its own model: a best
    intent below it is "not understood" (``nlu_fallback``), which is never right."""
    if threshold is None:
        return [str(label) for label in fitted.predict(texts)]
    return [
        str(fitted.classes_[row.argmax()]) if row.max() >= threshold else FALLBACK
        for row in fitted.predict_proba(texts)
    ]


def rankings(fitted, texts: list[str]) -> list[list[tuple[str, float]]]:  # type: ignore[no-untyped-def]
    """For each text, every intent with the baseline's probability, the most likely first: read with the
    bot's fallback rules by ``scripts/nlu_outcomes.py``."""
    classes = [str(c) for c in fitted.classes_]
    return [
        sorted(zip(classes, map(float, row), strict=True), key=lambda p: -p[1]) for row in fitted.predict_proba(texts)
    ]


def cross_validation_rankings(
    train: str = "data/nlu", folds: int = 5, seed: int = 42
) -> tuple[list[list[tuple[str, float]]], list[str]]:
    """The baseline's rankings of each training example by the model of the fold that left it out
    (stratified, the same folds as the pipeline's), and the examples' intents."""
    from sklearn.model_selection import StratifiedKFold

    texts, intents = examples(train)
    ranked: list[list[tuple[str, float]]] = [[] for _ in texts]
    for train_idx, test_idx in StratifiedKFold(folds, shuffle=True, random_state=seed).split(texts, intents):
        fitted = model().fit([texts[i] for i in train_idx], [intents[i] for i in train_idx])
        for i, ranking in zip(test_idx, rankings(fitted, [texts[i] for i in test_idx]), strict=True):
            ranked[i] = ranking
    return ranked, intents


def evaluate(  # type: ignore[no-untyped-def]
    fitted, sets: tuple[str, ...] = ("tests/nlu/test.yml", "tests/nlu/dev.yml"), threshold: float | None = None
) -> dict:
    """The trained baseline scored on each of ``sets`` (see ``predict`` for ``threshold``)."""
    found = {}
    for name in sets:
        test_texts, truth = examples(name)
        found[name] = score(truth, predict(fitted, test_texts, threshold))
    return found


def declined(fitted, threshold: float, data: str = "tests/nlu/out_of_domain.yml") -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """Out-of-domain messages the trained baseline declines (out_of_scope, or below ``threshold``), and
    how many there are."""
    ood, _ = examples(data)
    caught = 0
    for row in fitted.predict_proba(ood):
        best = int(row.argmax())
        caught += fitted.classes_[best] == "out_of_scope" or row[best] < threshold
    return caught, len(ood)


def cross_validation(train: str = "data/nlu", folds: int = 5, seed: int = 42, threshold: float | None = None) -> Scores:
    """Stratified ``folds``-fold cross-validation on the training data, predictions pooled (see
    ``predict`` for ``threshold``)."""
    from sklearn.model_selection import StratifiedKFold

    texts, intents = examples(train)
    predicted = [""] * len(texts)
    for train_idx, test_idx in StratifiedKFold(folds, shuffle=True, random_state=seed).split(texts, intents):
        fitted = model().fit([texts[i] for i in train_idx], [intents[i] for i in train_idx])
        for i, label in zip(test_idx, predict(fitted, [texts[i] for i in test_idx], threshold), strict=True):
            predicted[i] = label
    return score(intents, predicted)


def main() -> int:
    for name, found in evaluate(fit()).items():
        print(f"{name}: accuracy {found.accuracy:.3f}, macro-F1 {found.macro_f1:.3f} ({found.support} messages)")
    cv = cross_validation()
    print(f"5-fold cross-validation: accuracy {cv.accuracy:.3f}, macro-F1 {cv.macro_f1:.3f}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
