"""The model shipped in models/nlu loads with the multilingual encoder and gets clear
utterances right, in English and in the other shipped languages."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import yaml

from bot.nlu.classifier import IntentClassifier
from bot.nlu.encoder import BatchingEncoder
from bot.nlu.interpreter import Interpreter, load_interpreter
from bot.nlu.multilingual import UseEncoder

from .conftest import REPO

MODEL = REPO / "models/nlu"
CATALOG = REPO / "data/shop/products.json"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def use() -> UseEncoder:
    encoder = UseEncoder()
    encoder.load()
    return encoder


@pytest.fixture
async def bundled(use: UseEncoder) -> AsyncIterator[Interpreter]:
    batching = BatchingEncoder(use)
    yield load_interpreter(MODEL, CATALOG if CATALOG.exists() else None, batching)
    await batching.aclose()


def test_bundled_model_is_small_and_knows_the_domain_intents() -> None:
    assert (MODEL / "weights.safetensors").stat().st_size < 1_000_000
    domain = yaml.safe_load((REPO / "data/domain.yml").read_text(encoding="utf-8"))
    assert set(IntentClassifier.load(MODEL).intents) == set(domain["intents"])


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("where is my order #4821937?", "track_order"),
        ("I want to cancel my order", "cancel_order"),
        ("hello there", "greet"),
        ("thank you so much", "thanks"),
        ("let me talk to a real person", "contact_human_agent"),
        ("I forgot my password", "recover_password"),
        ("how do I return the trail runner shoes", "return_item"),
        ("what payment methods do you accept", "check_payment_methods"),
        ("can you recommend a warm jacket for winter hiking", "recommend_product"),
        ("what's the weather going to be like tomorrow", "out_of_scope"),
        ("¿dónde está mi pedido?", "track_order"),
        ("ich möchte meine Bestellung stornieren", "cancel_order"),
        ("je voudrais retourner ces chaussures", "return_item"),
        ("我想和人工客服说话", "contact_human_agent"),
    ],
)
async def test_clear_utterances(bundled: Interpreter, text: str, intent: str) -> None:
    result = await bundled.parse(text)
    assert result.intent.name == intent, result.intent_ranking[:3]


async def test_bare_answer_while_asked(bundled: Interpreter) -> None:
    result = await bundled.parse("4821937", requested_slot="order_id")
    assert result.intent.name == "inform"
    assert [(e["entity"], e["value"]) for e in result.entities] == [("order_id", "#4821937")]
