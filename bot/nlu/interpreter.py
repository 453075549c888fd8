"""The NLU interpreter: text (and the slot the bot asked for) -> intent, ranking, entities.

Three rules sit on top of the classifier. Rasa payloads (``/intent{"entity": "value"}``, sent
by buttons) bypass the model. A message that is only entities while the bot waits for a slot
is ``inform``. A low-confidence prediction becomes ``out_of_scope`` instead of a guess, so the
policy can offer help or a person rather than act on the wrong intent.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

import numpy as np
import numpy.typing as npt

from bot.errors import ConfigError
from bot.nlu.catalog import CatalogExtractor, load_catalog
from bot.nlu.choice import tokens
from bot.nlu.classifier import IntentClassifier
from bot.nlu.encoder import BatchingEncoder
from bot.nlu.entities import EntityExtractor, RasaEntity, make_entity
from bot.nlu.reading import IntentDict, IntentGuess

log = logging.getLogger(__name__)

OUT_OF_SCOPE = "out_of_scope"
INFORM = "inform"
RANKING_SIZE = 10
# Chosen by measurement on held-out data (see benchmarks/nlu.py and models/nlu/MODEL_CARD.md).
DEFAULT_THRESHOLD = 0.4
PAYLOAD_EXTRACTOR = "RegexMessageHandler"

_PAYLOAD = re.compile(
    r"^/(?P<intent>[A-Za-z_][\w\-]*)(?:@(?P<confidence>[0-9.]+))?(?P<entities>\{.*\})?\s*$",
    re.DOTALL,
)
# A bare answer is its entities and at most this many other words ("it's #4821937", "my
# email is jane@x.co", "订单号 #5422823"): a matter of length, the same in every language (Chinese,
# written without spaces, counts a word per two characters, about the length of its words).
BARE_ANSWER_WORDS = 3
_REST_WORD = re.compile(r"[^\W\d_\u4e00-\u9fff]+|[\u4e00-\u9fff]{1,2}")
# Intents that say nothing about what the shopper wants done (see Interpreter._rank).
CARRIES_NO_REQUEST = frozenset(
    {INFORM, OUT_OF_SCOPE, "greet", "goodbye", "thanks", "affirm", "deny"}
)
# Sentence and clause ends in the scripts of the shipped languages, and dashes between words.
# Latin punctuation ends a clause only before a space ("x.com" and "1,5" stay whole).
_CLAUSE_BREAK = re.compile(
    r"[.!?;:,]+(?=\s|$)|\n|[\u3002\uff01\uff1f\uff1b\uff0c\u3001]+|\s[-\u2013\u2014]+\s"
)
_WORDISH = re.compile(r"[^\W\d_]{2,}|[\u4e00-\u9fff]")


class RasaParse(TypedDict):
    """The body of Rasa's ``POST /model/parse`` answer."""

    text: str
    intent: IntentDict
    intent_ranking: list[IntentDict]
    entities: list[RasaEntity]


@dataclass(frozen=True, slots=True)
class ParseResult:
    """What the interpreter understood of one message.

    Attributes:
        text: The message as received.
        intent: The chosen intent (``out_of_scope`` when the model was unsure).
        intent_ranking: The model's top intents, best first (kept even on fallback).
        entities: Extracted entities, sorted by position.
        rule: Which rule chose the intent instead of the model's top guess, if any:
            ``"payload"``, ``"inform"`` or ``"low_confidence"``.
    """

    text: str
    intent: IntentGuess
    intent_ranking: tuple[IntentGuess, ...]
    entities: tuple[RasaEntity, ...]
    rule: str | None = None

    def to_rasa(self) -> RasaParse:
        """The result in Rasa's ``/model/parse`` JSON shape."""
        return {
            "text": self.text,
            "intent": self.intent.to_rasa(),
            "intent_ranking": [g.to_rasa() for g in self.intent_ranking[:RANKING_SIZE]],
            "entities": [RasaEntity(**e) for e in self.entities],
        }


def parse_payload(text: str) -> ParseResult | None:
    """Parses Rasa's ``/intent`` or ``/intent{"entity": "value"}`` syntax, else ``None``.

    Invalid entity JSON is logged and ignored, as Rasa does: the intent still counts.
    """
    match = _PAYLOAD.match(text.strip())
    if match is None:
        return None
    confidence = 1.0
    if match["confidence"]:
        try:
            confidence = min(max(float(match["confidence"]), 0.0), 1.0)
        except ValueError:
            return None
    entities: list[RasaEntity] = []
    if match["entities"]:
        start, end = match.start("entities"), match.end("entities")
        try:
            raw: Any = json.loads(match["entities"])
        except json.JSONDecodeError:
            log.warning("ignoring invalid entity JSON in payload %r", text)
            raw = {}
        if not isinstance(raw, dict):
            log.warning("ignoring payload entities that are not an object: %r", text)
            raw = {}
        for name, value in raw.items():
            for item in value if isinstance(value, list) else [value]:
                entities.append(
                    make_entity(str(name), _as_text(item), start, end, extractor=PAYLOAD_EXTRACTOR)
                )
    guess = IntentGuess(match["intent"], confidence)
    return ParseResult(text, guess, (guess,), tuple(entities), rule="payload")


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def only_entities(text: str, entities: list[RasaEntity]) -> bool:
    """Whether the message is its entities and a few words ("it's jane@x.com", "#4821937")."""
    if not entities:
        return False
    rest = []
    cursor = 0
    for entity in sorted(entities, key=lambda e: e["start"]):
        rest.append(text[cursor : entity["start"]])
        cursor = max(cursor, entity["end"])
    rest.append(text[cursor:])
    return len(_REST_WORD.findall(" ".join(rest))) <= BARE_ANSWER_WORDS


class Interpreter:
    """Parses messages with the shared encoder, the intent head and the entity extractors.

    The encoder is borrowed: whoever created the :class:`BatchingEncoder` closes it.
    """

    def __init__(
        self,
        encoder: BatchingEncoder,
        classifier: IntentClassifier,
        extractor: EntityExtractor,
        *,
        threshold: float = DEFAULT_THRESHOLD,
    ) -> None:
        if not 0.0 <= threshold <= 1.0:
            raise ConfigError("nlu.threshold", f"must be within [0, 1], got {threshold}")
        if encoder.dimension != classifier.dimension:
            raise ConfigError(
                "nlu.model",
                f"the encoder gives {encoder.dimension}-d vectors but the intent head expects "
                f"{classifier.dimension}: retrain with `python -m bot train`",
            )
        self._encoder = encoder
        self._classifier = classifier
        self._extractor = extractor
        self._threshold = threshold

    @property
    def threshold(self) -> float:
        """Below this confidence the intent becomes ``out_of_scope``."""
        return self._threshold

    @property
    def intents(self) -> tuple[str, ...]:
        """Intents the model knows."""
        return self._classifier.intents

    @property
    def catalog_words(self) -> frozenset[str]:
        """The words of the shop's product names and option values (empty without a catalog)."""
        catalog = self._extractor.catalog
        if not isinstance(catalog, CatalogExtractor):
            return frozenset()
        names = [p.name for p in catalog.catalog.products]
        return frozenset().union(*(tokens(t) for t in (*names, *catalog.catalog.option_values)))

    async def parse(self, text: str, *, requested_slot: str | None = None) -> ParseResult:
        """Understands one message.

        Args:
            text: The shopper's message or a button payload.
            requested_slot: The slot the bot just asked for, if any; it lets a bare answer
                ("4821937", "emma nguyen") be read as that slot's entity and as ``inform``.

        Returns:
            The intent, the model's ranking and the entities.
        """
        payload = parse_payload(text)
        if payload is not None:
            return payload
        entities = self._extractor.extract(text, requested_slot=requested_slot)
        if requested_slot is not None and only_entities(text, entities):
            # A bare answer to the bot's question ("#4821937", an email) needs no classifier:
            # skipping the encoder here saves most of the CPU a form's turns would cost.
            guess = IntentGuess(INFORM, 1.0)
            return ParseResult(text, guess, (guess,), tuple(entities), "inform")
        ranking, rule = await self._rank(text)
        top = ranking[0]
        if top.confidence < self._threshold:
            if requested_slot is not None and entities:
                # An answer with some words around it ("uh, it's 4821937 I think").
                guess = IntentGuess(INFORM, top.confidence)
                return ParseResult(text, guess, ranking, tuple(entities), "inform")
            # Like Rasa's FallbackClassifier, the fallback carries the threshold as confidence.
            guess = IntentGuess(OUT_OF_SCOPE, self._threshold)
            return ParseResult(text, guess, ranking, tuple(entities), "low_confidence")
        return ParseResult(text, top, ranking, tuple(entities), rule)

    async def _rank(self, text: str) -> tuple[tuple[IntentGuess, ...], str | None]:
        """The intent ranking of the message, or of the clause that carries its request.

        A message often wraps its request in greetings and details ("Hi, Noah Lindqvist
        here, zip 28850 — has my order shipped?"), which pull the whole message towards
        ``greet`` or ``inform``. Each clause (split at sentence and clause punctuation, a
        matter of structure, not of wording) is classified as well, and when the whole
        message reads as one of the intents that carry no request, the most confident
        clause that does carry one, above the threshold, gives the intent.
        """
        candidates = [text, *clauses(text)]
        # Submitted together, the message and its clauses share one encoder pass.
        vectors = await asyncio.gather(*(self._encoder.encode_one(c) for c in candidates))
        rankings = [self._ranking(v) for v in vectors]
        whole = rankings[0]
        if whole[0].name not in CARRIES_NO_REQUEST and whole[0].confidence >= self._threshold:
            return whole, None
        requests = [r for r in rankings[1:] if r[0].name not in CARRIES_NO_REQUEST]
        best = max(requests, key=lambda r: r[0].confidence, default=None)
        if best is not None and best[0].confidence >= self._threshold:
            return best, "clause"
        return whole, None

    def _ranking(self, vector: npt.NDArray[np.float32]) -> tuple[IntentGuess, ...]:
        probabilities = self._classifier.predict(vector.reshape(1, -1))[0]
        order = probabilities.argsort()[::-1][:RANKING_SIZE]
        return tuple(
            IntentGuess(self._classifier.intents[i], round(float(probabilities[i]), 4))
            for i in order
        )


def clauses(text: str) -> list[str]:
    """The message's clauses, when it has more than one with words in it."""
    parts = [p.strip() for p in _CLAUSE_BREAK.split(text)]
    kept = [p for p in parts if len(_WORDISH.findall(p)) >= 1]
    return kept if len(kept) > 1 else []


def load_interpreter(
    model_dir: Path,
    catalog_path: Path | None,
    encoder: BatchingEncoder,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    glossary: Mapping[str, str] | None = None,
    product_words: Mapping[str, str] | None = None,
) -> Interpreter:
    """Loads the intent head and the catalog and wires an :class:`Interpreter` (blocking I/O).

    Args:
        model_dir: A folder written by ``train_nlu`` (e.g. ``models/nlu``).
        catalog_path: The shop's ``products.json``; ``None`` disables product entities.
        encoder: The shared batching encoder (not closed by the interpreter).
        threshold: Confidence below which the intent becomes ``out_of_scope``.
        glossary: other languages' words for the catalog's option values ("noir" -> black).
        product_words: other languages' words that name one product ("Schlafsack").

    Raises:
        ModelNotTrained: If the model folder is missing or corrupt.
        ConfigError: If the catalog cannot be read, the threshold is out of range, or the
            model was trained for an encoder of another dimension.
    """
    classifier = IntentClassifier.load(model_dir)
    catalog = (
        CatalogExtractor(load_catalog(catalog_path), glossary=glossary, product_words=product_words)
        if catalog_path is not None
        else None
    )
    return Interpreter(encoder, classifier, EntityExtractor(catalog), threshold=threshold)
