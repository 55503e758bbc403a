"""The development sets' errors, message by message, to write training data for the kind of error.

Only the development sets (``tests/nlu/dev.yml`` and ``tests/nlu/dev_wild*.yml``): the untouched test sets' errors
stay unread, so this script refuses them. Each line: what the bot did (wrong answer or clarified),
the truth, the model's best two readings with their confidences, and the message.

    .venv/bot/bin/python scripts/dev_errors.py --model models/<model>.tar.gz [--set tests/nlu/dev_wild5.yml]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.nlu_baseline import examples  # noqa: E402
from scripts.nlu_outcomes import FALLBACK, classifier_ranking, parsed_through  # noqa: E402

# The development sets are the files named so: a new round's set is one more, never an untouched test set.
DEVELOPMENT_SETS = tuple(sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests" / "nlu").glob("dev*.yml")))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, type=Path)
    parser.add_argument("--set", default="tests/nlu/dev.yml", choices=DEVELOPMENT_SETS)
    args = parser.parse_args()
    texts, truth = examples(args.set)
    (parsed,) = parsed_through(args.model, [texts])
    rows = []
    for text, intent, parse in zip(texts, truth, parsed, strict=True):
        said = parse["intent"]["name"]
        if said == intent:
            continue
        ranking = classifier_ranking(parse)
        best = "  ".join(f"{name} {confidence:.2f}" for name, confidence in ranking[:2])
        rows.append(("clarified" if said == FALLBACK else "wrong", intent, best, text))
    for kind, intent, best, text in sorted(rows):
        print(f"{kind:9} {intent:24} | {best:50} | {text}")
    print(f"{len(rows)} of {len(texts)} not answered right", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
