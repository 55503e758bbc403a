"""The NLU pipeline's own entity extractor: addresses, times and problem categories.

Rasa has no offline extractor for Chinese addresses or times (Duckling needs a server, and does not
read Chinese), so this component finds them with the parsers the actions use (``bot.parsing``):

- ``address``: "阳光小区3号楼2单元501" (community, building, unit, room in ``additional_info``); the
  value is the address as written, so a form can re-parse and correct it;
- ``time``: "明天上午", "今晚八点以后" -> the window as an ISO 8601 interval ("start/end") in
  Asia/Shanghai, relative to when the message is parsed;
- ``category``: the work-order category the wording points to ("一点都不热" -> ``no_heat``,
  "乱收费" -> ``billing``, "漏水" -> ``leak``), one per message, the most specific first;
- ``order_number``: a work order's number as the backend writes it ("GD20261201000017", also typed as
  "gd 20261201000017"), never a phone number (the phone pattern does not read digits glued to letters).

Phone numbers, temperatures, business types and signs of anger stay with Rasa's
RegexEntityExtractor (``data/nlu/lookups.yml``).
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers import LABEL_RANKING_LENGTH
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.utils.tensorflow.constants import RANKING_LENGTH

from bot.classifier import E5_WEIGHT, USE_WEIGHT
from bot.parsing import (
    ORDER_NUMBER_RE,
    find_category,
    find_time,
    interval,
    parse_order_number,
    parse_resident_address,
)
from heating_standard.localtime import LOCAL_TZ


def extract(text: str, now: datetime) -> list[dict[str, Any]]:
    """The address, time, category and order-number entities in ``text``, in Rasa's entity format."""
    entities: list[dict[str, Any]] = []
    for match in ORDER_NUMBER_RE.finditer(text):
        number = parse_order_number(match.group())
        if number:
            entities.append(_entity("order_number", number, match.start(), match.end(), None))
    address = parse_resident_address(text)
    if address.building and address.span:
        start, end = address.span
        parts = {
            "community": address.community,
            "building": address.building,
            "unit": address.unit,
            "room": address.room,
        }
        entities.append(_entity("address", text[start:end], start, end, parts))
    mention = find_time(text, now)
    if mention is not None:
        entities.append(_entity("time", interval(mention.window), mention.start, mention.end, None))
    category = find_category(text)
    if category is not None:
        value, start, end = category
        entities.append(_entity("category", value, start, end, None))
    return entities


def _entity(name: str, value: str, start: int, end: int, info: dict[str, Any] | None) -> dict[str, Any]:
    entity: dict[str, Any] = {"entity": name, "value": value, "start": start, "end": end, "confidence_entity": 1.0}
    if info is not None:
        entity["additional_info"] = info
    return entity


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class HeatingEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Adds ``address``, ``time``, ``category`` and ``order_number`` entities to each parsed message."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> HeatingEntityExtractor:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        now = datetime.now(LOCAL_TZ)
        for message in messages:
            found = self.add_extractor_name(extract(message.get(TEXT) or "", now))
            message.set(ENTITIES, message.get(ENTITIES, []) + found, add_to_output=True)
        return messages


# Characters of a message the pipeline reads. The WeChat channel already answers a longer text itself
# (WECHAT_MAX_TEXT_CHARS); this bound holds for whatever else reaches the parser (Rasa's HTTP API).
DEFAULT_MAX_CHARS = 1000
# Where trainings keep the sentence encoders' rows of the texts they read (bot.classifier.EncodingStore):
# ENCODING_STORE, or var/cache/encodings.sqlite3 in the checkout; ENCODING_STORE=off encodes every text.
DEFAULT_ENCODING_STORE = Path(__file__).resolve().parent.parent / "var" / "cache" / "encodings.sqlite3"


def encoding_store() -> Path | None:
    """The file a training keeps the encoders' rows in, or None when ENCODING_STORE is "off"."""
    chosen = os.environ.get("ENCODING_STORE", "").strip()
    if chosen.lower() == "off":
        return None
    return Path(chosen) if chosen else DEFAULT_ENCODING_STORE


class TextRewrite(GraphComponent):
    """A component that rewrites each message's text, at training and at parsing alike."""

    def rewrite(self, text: str) -> str:
        raise NotImplementedError

    def _rewrite(self, message: Message) -> None:
        text = message.get(TEXT)
        if isinstance(text, str) and text:
            message.set(TEXT, self.rewrite(text))

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self._rewrite(message)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for message in training_data.training_examples:
            self._rewrite(message)
        return training_data


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class TextLengthGuard(TextRewrite):
    """First in the pipeline: every later component reads at most ``max_chars`` characters.

    Tokenising, the n-gram featurizers and DIET's attention cost time and memory that grow with the
    text (quadratically in attention): 20,000 characters took 26 s and a 45 KB text exhausted the
    machine. Cutting the text here bounds the cost of any turn; the entities found lie in the kept
    start of the text, so their spans stay right.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"max_chars": DEFAULT_MAX_CHARS}

    def __init__(self, max_chars: int) -> None:
        self.max_chars = max_chars

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> TextLengthGuard:
        return cls(int(config.get("max_chars", DEFAULT_MAX_CHARS)))

    def rewrite(self, text: str) -> str:
        return text[: self.max_chars]


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class SimplifiedCharacters(TextRewrite):
    """Traditional characters read as simplified ones ("暖氣片不熱" as "暖气片不热"), character for character.

    Residents of the city write traditional characters too (phones set to them, relatives abroad); the
    training data and the dictionary are simplified. jionlp's character table converts each character on
    its own, so the text keeps its length and every entity span found later stays right; a conversion
    that would change the length is not made. The resident's own words stay in the conversation: Rasa
    stores the message as written and gives the actions the text read here.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SimplifiedCharacters:
        return cls()

    @staticmethod
    def simplified(text: str) -> str:
        import jionlp  # loaded with the pipeline, as the time parser loads it

        converted = str(jionlp.tra2sim(text, mode="char"))
        return converted if len(converted) == len(text) else text

    def rewrite(self, text: str) -> str:
        return self.simplified(text)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class NgramIntentClassifier(GraphComponent, IntentClassifier):
    """The intent of each message by ``bot.classifier``: delexicalised character n-grams and two sentence
    encoders' meaning (``use`` and ``e5`` are their weights), logistic regression.

    It reads the text itself (no featurizer needed) and is saved with skops, which loads only the
    scikit-learn types it expects, as Rasa's own LogisticRegressionClassifier is.
    """

    FILE = "intent_model.skops"
    OUT_OF_SCOPE = "out_of_scope"
    # skops does not trust SciPy's sparse matrix by default (TF-IDF keeps its weights in one), nor our
    # own feature step (a weight and a name; the encoders' weights come from their packages, not the file).
    TRUSTED = frozenset({"scipy.sparse._csr.csr_matrix", "bot.classifier.SentenceMeaning"})

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"C": 20.0, "use": USE_WEIGHT, "e5": E5_WEIGHT, RANKING_LENGTH: LABEL_RANKING_LENGTH}

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource, fitted: Any = None):
        self.config = {**self.get_default_config(), **config}
        self._storage = model_storage
        self._resource = resource
        self.fitted = fitted

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> NgramIntentClassifier:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        import skops.io as sio

        from bot import classifier

        examples = [e for e in training_data.intent_examples if e.get(TEXT) and e.get(INTENT)]
        self.fitted = classifier.train(
            [e.get(TEXT) for e in examples],
            [e.get(INTENT) for e in examples],
            store=encoding_store(),
            c=float(self.config["C"]),
            use=float(self.config["use"]),
            e5=float(self.config["e5"]),
        )
        with self._storage.write_to(self._resource) as directory:
            sio.dump(self.fitted, directory / self.FILE)
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> NgramIntentClassifier:
        import skops.io as sio

        with model_storage.read_from(resource) as directory:
            path = directory / cls.FILE
            found = set(sio.get_untrusted_types(file=path))
            if found - cls.TRUSTED:
                raise ValueError(f"the intent model holds unexpected types: {sorted(found - cls.TRUSTED)}")
            fitted = sio.load(path, trusted=sorted(found))
        from bot import classifier

        return cls(config, model_storage, resource, classifier.ready_to_rank(fitted))

    def process(self, messages: list[Message]) -> list[Message]:
        from bot import classifier

        if self.fitted is None:
            return messages
        length = int(self.config[RANKING_LENGTH]) or None
        rankings = classifier.rank(self.fitted, [m.get(TEXT) or "" for m in messages])
        for message, ranking in zip(messages, rankings, strict=True):
            if not classifier.has_words(message.get(TEXT) or ""):
                # a sticker's name, emoji, a bare link: nothing heating-related to act on
                ranking = [(self.OUT_OF_SCOPE, 1.0)] + [(n, 0.0) for n, _ in ranking if n != self.OUT_OF_SCOPE]
            ranked = [{"name": name, "confidence": confidence} for name, confidence in ranking[:length]]
            message.set(INTENT, ranked[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranked, add_to_output=True)
        return messages
