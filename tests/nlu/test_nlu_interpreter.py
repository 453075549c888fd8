"""Interpreter: payload syntax, out_of_scope on low confidence, inform rule, Rasa JSON shape."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import numpy as np
import pytest

from bot.errors import ConfigError, ModelNotTrained
from bot.nlu.classifier import IntentClassifier
from bot.nlu.encoder import BatchingEncoder
from bot.nlu.entities import EntityExtractor, make_entity
from bot.nlu.interpreter import (
    DEFAULT_THRESHOLD,
    OUT_OF_SCOPE,
    Interpreter,
    load_interpreter,
    only_entities,
    parse_payload,
)

from .conftest import HashedWordsEncoder


@pytest.fixture
def interpreter(batching: BatchingEncoder, tiny_classifier: IntentClassifier) -> Interpreter:
    return Interpreter(batching, tiny_classifier, EntityExtractor(), threshold=0.3)


async def test_payload_bypasses_the_model(
    interpreter: Interpreter, words_encoder: HashedWordsEncoder
) -> None:
    calls_before = list(words_encoder.calls)  # the fixture's training used the encoder
    result = await interpreter.parse('/track_order{"order_id": "#4821937"}')

    assert result.intent.name == "track_order"
    assert result.intent.confidence == 1.0
    assert result.rule == "payload"
    assert [(e["entity"], e["value"]) for e in result.entities] == [("order_id", "#4821937")]
    assert words_encoder.calls == calls_before  # the encoder never ran


def test_payload_variants() -> None:
    plain = parse_payload("/greet")
    assert plain is not None
    assert plain.to_rasa() == {
        "text": "/greet",
        "intent": {"name": "greet", "confidence": 1.0},
        "intent_ranking": [{"name": "greet", "confidence": 1.0}],
        "entities": [],
    }
    several = parse_payload('/inform{"email": ["a@b.io", "c@d.io"], "zip_code": 94110}')
    assert several is not None
    assert [(e["entity"], e["value"]) for e in several.entities] == [
        ("email", "a@b.io"),
        ("email", "c@d.io"),
        ("zip_code", "94110"),
    ]
    scored = parse_payload("/affirm@0.7")
    assert scored is not None
    assert scored.intent.confidence == pytest.approx(0.7)
    # Broken entity JSON is ignored (and logged), as Rasa does; the intent still counts.
    broken = parse_payload('/deny{"x": }')
    assert broken is not None
    assert (broken.intent.name, broken.entities) == ("deny", ())
    assert parse_payload("/ not a payload") is None
    assert parse_payload("where is /order") is None


async def test_confident_prediction_is_kept(interpreter: Interpreter) -> None:
    result = await interpreter.parse("where is my order #4821937")

    assert result.intent.name == "track_order"
    assert result.intent.confidence >= interpreter.threshold
    assert result.rule is None
    assert result.intent_ranking[0] == result.intent
    assert [(e["entity"], e["value"]) for e in result.entities] == [("order_id", "#4821937")]


async def test_low_confidence_becomes_out_of_scope_and_keeps_the_ranking(
    batching: BatchingEncoder, tiny_classifier: IntentClassifier
) -> None:
    strict = Interpreter(batching, tiny_classifier, EntityExtractor(), threshold=0.999)

    result = await strict.parse("where is my order")

    assert result.intent.name == OUT_OF_SCOPE
    assert result.intent.confidence == pytest.approx(0.999)
    assert result.rule == "low_confidence"
    assert result.intent_ranking[0].name == "track_order"  # the model's guess is still visible


async def test_a_head_with_no_opinion_never_guesses(batching: BatchingEncoder) -> None:
    intents = ["greet", "thanks", "track_order"]
    undecided = IntentClassifier(
        intents,
        {
            "layer0.weight": np.zeros((64, 3), dtype=np.float32),
            "layer0.bias": np.zeros(3, dtype=np.float32),
        },
    )
    interpreter = Interpreter(batching, undecided, EntityExtractor())

    result = await interpreter.parse("hello")

    assert result.intent.name == OUT_OF_SCOPE
    assert [g.confidence for g in result.intent_ranking] == pytest.approx([1 / 3] * 3, abs=1e-3)


async def test_only_entities_while_a_slot_is_requested_is_inform(
    interpreter: Interpreter, batching: BatchingEncoder
) -> None:
    encoded_before = batching.texts_encoded
    bare = await interpreter.parse("4821937", requested_slot="order_id")
    assert (bare.intent.name, bare.intent.confidence, bare.rule) == ("inform", 1.0, "inform")
    assert [(e["entity"], e["value"]) for e in bare.entities] == [("order_id", "#4821937")]
    assert batching.texts_encoded == encoded_before  # a bare answer costs no encoder pass

    framed = await interpreter.parse("sure, it's jane@example.com", requested_slot="email")
    assert framed.intent.name == "inform"

    # Without a requested slot the same text goes to the model (no rule; a less sure id).
    unasked = await interpreter.parse("4821937")
    assert unasked.rule != "inform"
    assert [(e["entity"], e["confidence"]) for e in unasked.entities] == [("order_id", 0.8)]

    # A real request that carries an entity keeps its intent.
    request = await interpreter.parse("where is my order #4821937", requested_slot="order_id")
    assert request.intent.name == "track_order"


def test_only_entities_helper() -> None:
    """A bare answer is its entities and at most three other words, in any language."""
    assert only_entities("it's #4821937", [make_entity("order_id", "#4821937", 5, 13)])
    assert only_entities("订单号 #5422823", [make_entity("order_id", "#5422823", 4, 12)])
    request = "please cancel the one I placed #4821937"
    assert not only_entities(request, [make_entity("order_id", "#4821937", 31, 39)])
    assert not only_entities("hello", [])
    # Chinese has no spaces: a question around a product name is no bare answer (a run of
    # Chinese characters once counted as one word, so a form asking for an email took it).
    question = "好吧。Trail Daypack 24L 有哪些颜色"
    assert not only_entities(question, [make_entity("product", "Trail Daypack 24L", 3, 20)])
    assert only_entities("我的邮箱是 a@b.co", [make_entity("email", "a@b.co", 6, 12)])


async def test_to_rasa_matches_the_parse_endpoint_shape(interpreter: Interpreter) -> None:
    result = await interpreter.parse("my email is jane@example.com, where is my order")
    payload = result.to_rasa()

    assert list(payload) == ["text", "intent", "intent_ranking", "entities"]
    assert payload["text"] == "my email is jane@example.com, where is my order"
    assert set(payload["intent"]) == {"name", "confidence"}
    assert 1 <= len(payload["intent_ranking"]) <= 10
    for guess in payload["intent_ranking"]:
        assert set(guess) == {"name", "confidence"}
        assert isinstance(guess["confidence"], float)
    confidences = [g["confidence"] for g in payload["intent_ranking"]]
    assert confidences == sorted(confidences, reverse=True)
    assert payload["entities"] == [
        {
            "entity": "email",
            "value": "jane@example.com",
            "start": 12,
            "end": 28,
            "extractor": "RegexEntityExtractor",
            "confidence": 1.0,
        }
    ]
    assert json.loads(json.dumps(payload)) == payload


async def test_concurrent_parses_share_encoder_batches(
    interpreter: Interpreter, batching: BatchingEncoder
) -> None:
    texts = [f"where is my order #48219{i:02d}" for i in range(32)]

    results = await asyncio.gather(*(interpreter.parse(t) for t in texts))

    assert [r.text for r in results] == texts
    assert {r.entities[0]["value"] for r in results} == {f"#48219{i:02d}" for i in range(32)}
    assert batching.batches_run < 32


async def test_load_interpreter_reads_model_and_catalog(
    tmp_path: Path, batching: BatchingEncoder, tiny_classifier: IntentClassifier
) -> None:
    tiny_classifier.save(tmp_path / "model")
    catalog = tmp_path / "products.json"
    catalog.write_text('[{"name": "Trail Runner Shoe"}]', encoding="utf-8")

    interpreter = load_interpreter(tmp_path / "model", catalog, batching)
    result = await interpreter.parse("where is my order of the trail runner shoe")

    assert interpreter.threshold == DEFAULT_THRESHOLD
    assert [(e["entity"], e["value"]) for e in result.entities] == [
        ("product", "Trail Runner Shoe")
    ]


async def test_load_interpreter_errors(
    tmp_path: Path, batching: BatchingEncoder, tiny_classifier: IntentClassifier
) -> None:
    with pytest.raises(ModelNotTrained):
        load_interpreter(tmp_path / "missing", None, batching)
    tiny_classifier.save(tmp_path / "model")
    with pytest.raises(ConfigError, match="threshold"):
        load_interpreter(tmp_path / "model", None, batching, threshold=1.5)
    other = BatchingEncoder(HashedWordsEncoder(dimension=32))
    try:
        with pytest.raises(ConfigError, match="retrain"):
            load_interpreter(tmp_path / "model", None, other)
    finally:
        await other.aclose()
