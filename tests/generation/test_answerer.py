"""The grounded answerer: guard-checked streaming, fallbacks to the passage, abstentions."""

from __future__ import annotations

import pytest

from bot.generation.answerer import AnswerSettings, GroundedAnswerer
from bot.generation.backend import GenerationTimeout, GeneratorBusy
from bot.generation.prompt import ABSTAIN
from bot.knowledge import KnowledgeBase, Passage
from tests.core.test_pipeline import HashEncoder
from tests.generation.scripted import ScriptedGenerator

PASSAGES = [
    Passage(
        id="returns.md#window",
        source="returns.md",
        title="Returns",
        heading="Return window",
        text="You can return items within 30 days of delivery for a full refund at {{Shop Name}}. "
        "Returns between 31 and 60 days get store credit.",
    ),
    Passage(
        id="shipping.md#time",
        source="shipping.md",
        title="Shipping",
        heading="Delivery time",
        text="Standard shipping takes 3 to 5 business days and costs $5.95.",
    ),
]
PROFILE = {"shop_name": "Northwind Outfitters", "support_phone": "+1 555 0100"}
QUESTION = "how many days do I have to return items"


def answerer(generator: ScriptedGenerator, **settings: object) -> GroundedAnswerer:
    return GroundedAnswerer(
        KnowledgeBase(PASSAGES, HashEncoder()),
        generator,
        shop_name="Northwind Outfitters",
        placeholders=PROFILE,
        settings=AnswerSettings(min_similarity=0.1, **settings),  # type: ignore[arg-type]
    )


class Sink:
    def __init__(self) -> None:
        self.pieces: list[str] = []

    async def __call__(self, text: str) -> None:
        self.pieces.append(text)


async def test_a_supported_answer_streams_sentence_by_sentence() -> None:
    generator = ScriptedGenerator(
        "You have 30 days from delivery to return items for a full refund. "
        "Returns between 31 and 60 days get store credit."
    )
    sink = Sink()
    result = await answerer(generator).answer(QUESTION, sink=sink)
    assert result.kind == "generated"
    assert result.sources[0] == "returns.md#window"
    assert len(sink.pieces) == 2  # each sentence once it was checked
    assert "".join(sink.pieces).strip() == result.text
    assert result.verdict is not None
    assert "30 day" in {c.normalized for c in result.verdict.claims}
    prompt = generator.requests[0].messages
    assert prompt[0].role == "system"
    assert "30 days of delivery" in prompt[0].content
    assert "Northwind Outfitters" in prompt[0].content
    assert "{{" not in prompt[0].content
    assert prompt[-1].content == QUESTION


async def test_an_unsupported_figure_stops_the_model_and_sends_the_passage() -> None:
    generator = ScriptedGenerator(
        "You can return items within 30 days. We also give a 20% discount on your next order. "
        "Have a great day and enjoy all the many extra words that follow this sentence."
    )
    sink = Sink()
    result = await answerer(generator).answer(QUESTION, sink=sink)
    assert result.kind == "passage"
    assert result.text.startswith("You can return items within 30 days of delivery")
    assert "Northwind Outfitters" in result.text  # placeholders filled in the fallback too
    assert "20%" in result.reason
    assert sink.pieces == ["You can return items within 30 days. "]  # nothing past the bad one
    assert result.streamed == sink.pieces[0]
    assert generator.closed_early  # the guard cut the generation short


async def test_a_failing_or_busy_model_falls_back_to_the_passage() -> None:
    for error in (GenerationTimeout("slow"), GeneratorBusy("full")):
        result = await answerer(ScriptedGenerator(error=error)).answer(QUESTION)
        assert result.kind == "passage"
        assert "30 days" in result.text
        assert result.reason.startswith("generator:")


async def test_nothing_relevant_means_fallback_without_calling_the_model() -> None:
    generator = ScriptedGenerator("anything")
    result = await answerer(generator).answer("zebra quantum violin", min_similarity=0.9)
    assert result.kind == "fallback"
    assert result.text == ""
    assert generator.requests == []


async def test_placeholders_are_filled_and_unknown_ones_rejected() -> None:
    good = await answerer(ScriptedGenerator("Call us on {{Support Phone}}.")).answer(QUESTION)
    assert good.kind == "generated"
    assert good.text == "Call us on +1 555 0100."
    # One the profile lacks becomes a neutral phrase: the shopper never sees template syntax.
    odd = await answerer(ScriptedGenerator("Log in to {{Website Name}} now.")).answer(QUESTION)
    assert "{{" not in odd.text
    assert "}}" not in odd.text


async def test_an_abstaining_model_offers_a_person() -> None:
    result = await answerer(ScriptedGenerator(ABSTAIN)).answer(QUESTION)
    assert result.kind == "generated"
    assert result.offer_handoff


async def test_history_and_facts_reach_the_prompt() -> None:
    from bot.generation.backend import ChatMessage

    generator = ScriptedGenerator("Your order #W1 is on its way.")
    result = await answerer(generator).answer(
        "and how many days does standard shipping take?",
        history=[ChatMessage("user", "where is #W1"), ChatMessage("assistant", "It shipped.")],
        facts=["The order being discussed is #W1."],
    )
    messages = generator.requests[0].messages
    assert [m.role for m in messages] == ["system", "user", "assistant", "user"]
    assert "#W1" in messages[0].content
    assert result.kind == "generated"  # the order id is backed by the facts


@pytest.mark.parametrize("limit", [1, 3])
async def test_max_new_tokens_is_passed_on(limit: int) -> None:
    generator = ScriptedGenerator("Within 30 days.")
    await answerer(generator, max_new_tokens=limit).answer(QUESTION)
    assert generator.requests[0].max_new_tokens == limit
