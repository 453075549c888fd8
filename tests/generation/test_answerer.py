"""The grounded answerer: guard-checked streaming, fallbacks to the passage, abstentions."""

from __future__ import annotations

import pytest

from bot.generation.answerer import AnswerSettings, GroundedAnswerer
from bot.generation.backend import GenerationTimeout, GeneratorBusy
from bot.generation.prompt import ABSTAIN, ABSTAIN_APOLOGY, passage_source
from bot.knowledge import KnowledgeBase, Passage, RetrievalSettings
from bot.knowledge.followup import FollowUpContext
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


def answerer(
    generator: ScriptedGenerator,
    passages: list[Passage] = PASSAGES,
    **settings: object,
) -> GroundedAnswerer:
    settings.setdefault("min_similarity", 0.1)
    return GroundedAnswerer(
        KnowledgeBase(passages, HashEncoder()),
        generator,
        shop_name="Northwind Outfitters",
        placeholders=PROFILE,
        settings=AnswerSettings(**settings),  # type: ignore[arg-type]
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


# The guard as config.yml ships it: copied sentences only, and the one nearest the question.
SHIPPED_GUARD = {"min_overlap": 0.7, "min_coverage": 0.85}


@pytest.mark.parametrize("guard", [{}, SHIPPED_GUARD], ids=["lenient guard", "shipped guard"])
async def test_an_abstaining_model_gets_the_passage_sent_and_a_person_offered(
    guard: dict[str, float],
) -> None:
    generator = ScriptedGenerator(ABSTAIN + " " + "and then some rambling " * 10)
    sink = Sink()
    result = await answerer(generator, **guard).answer(QUESTION, sink=sink)
    # Under any guard setting: the extractive guard alone would reject the apology as
    # unsupported and send the passage without the offer.
    assert result.kind == "passage"
    assert result.text.startswith("You can return items within 30 days")
    assert result.offer_handoff
    assert result.reason == "the model found no answer in the passages"
    assert sink.pieces == []  # nothing of the apology was released
    assert generator.closed_early  # stopped at the apology


@pytest.mark.parametrize("guard", [{}, SHIPPED_GUARD], ids=["lenient guard", "shipped guard"])
async def test_a_trusted_abstention_apologises_and_offers_a_person(
    guard: dict[str, float],
) -> None:
    generator = ScriptedGenerator(ABSTAIN)
    sink = Sink()
    result = await answerer(generator, trust_abstention=True, **guard).answer(QUESTION, sink=sink)
    assert result.kind == "generated"
    assert result.offer_handoff
    assert result.text == ABSTAIN_APOLOGY  # the offer itself follows as the handoff offer
    assert "".join(sink.pieces) == ABSTAIN_APOLOGY


async def test_an_answer_that_quotes_a_marker_from_its_passage_is_no_abstention() -> None:
    passages = [
        Passage(
            id="contact.md#chat",
            source="contact.md",
            title="Contact",
            heading="Live chat",
            text="Our live chat can connect you with a specialist for technical questions.",
        )
    ]
    generator = ScriptedGenerator(
        "Our live chat can connect you with a specialist for technical questions."
    )
    result = await answerer(generator, passages, **SHIPPED_GUARD).answer(
        "can the live chat connect me with a specialist"
    )
    assert result.kind == "generated"
    assert not result.offer_handoff


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


async def test_a_follow_up_retrieves_with_its_topic_and_the_model_reads_it_as_asked() -> None:
    generator = ScriptedGenerator("You have 30 days from delivery to return items.")
    # The bag-of-words test encoder needs a heavy topic where MiniLM does with 0.75.
    knowledge = KnowledgeBase(
        PASSAGES, HashEncoder(), settings=RetrievalSettings(context_weight=3.0)
    )
    grounded = GroundedAnswerer(
        knowledge,
        generator,
        shop_name="Northwind Outfitters",
        placeholders=PROFILE,
        settings=AnswerSettings(min_similarity=0.2),
    )
    topic = FollowUpContext(QUESTION, elliptic=True)

    alone = await grounded.answer("klarna?")
    followed = await grounded.answer("klarna?", context=topic)

    assert alone.kind == "fallback"
    assert followed.kind == "generated"
    assert followed.sources[0] == "returns.md#window"
    assert generator.requests[-1].messages[-1].content == "klarna?"


@pytest.mark.parametrize("limit", [1, 3])
async def test_max_new_tokens_is_passed_on(limit: int) -> None:
    generator = ScriptedGenerator("Within 30 days.")
    await answerer(generator, max_new_tokens=limit).answer(QUESTION)
    assert generator.requests[0].max_new_tokens == limit


LONG = Passage(
    id="returns.md#long",
    source="returns.md",
    title="Returns",
    heading="Return window",
    text="Items must be unworn and have their tags attached. "
    "Footwear should only have been tried on indoors. "
    "You can return items within 30 days of delivery for a full refund. "
    "Returns between 31 and 60 days get store credit at {{Shop Name}}.",
)


NEAR_QUESTION = "return items within 30 days of delivery for a full refund"


def on_long(generator: ScriptedGenerator, **settings: float) -> GroundedAnswerer:
    """An answerer over the one four-sentence passage, whatever its similarity."""
    return answerer(generator, [LONG], min_similarity=-1.0, **settings)


async def test_focus_keeps_the_nearest_sentences_first_but_checks_against_the_whole_passage() -> (
    None
):
    generator = ScriptedGenerator("Returns between 31 and 60 days get store credit.")
    result = await on_long(generator, focus_sentences=1).answer(NEAR_QUESTION)

    system = generator.requests[0].messages[0].content
    assert "within 30 days of delivery" in system  # the one sentence nearest the question
    assert "tags attached" not in system
    assert "store credit" not in system
    # The answer used a sentence the prompt left out: still backed by the whole passage.
    assert result.kind == "generated"
    assert "Northwind Outfitters" in result.evidence[0]
    assert result.evidence[0].startswith("Items must be unworn")


async def test_a_rejected_focused_answer_falls_back_to_the_whole_passage() -> None:
    generator = ScriptedGenerator("You get a 20% discount.")
    result = await on_long(generator, focus_sentences=1).answer(NEAR_QUESTION)

    assert result.kind == "passage"
    assert result.text.startswith("Items must be unworn")
    assert result.text.endswith("store credit at Northwind Outfitters.")


@pytest.mark.parametrize(
    ("order", "keep", "expected"),
    [
        (
            (2, 0, 1, 3),
            2,
            "You can return items within 30 days of delivery for a full refund. "
            "Items must be unworn and have their tags attached.",
        ),
        ((2, 0, 1, 3), 0, None),  # 0 keeps everything
        ((2, 0, 1, 3), 4, None),  # no more sentences than the passage has
        ((), 2, None),  # no order known (an action result, a product)
        ((9, 0), 1, None),  # an order from another text is ignored, not trusted
    ],
)
def test_passage_source_keeps_the_nearest_sentences(
    order: tuple[int, ...], keep: int, expected: str | None
) -> None:
    source = passage_source(LONG, PROFILE, sentence_order=order, max_sentences=keep)

    whole = LONG.text.replace("{{Shop Name}}", "Northwind Outfitters")
    assert source.text == (expected or whole)
    assert source.id == LONG.id


def test_a_clause_split_at_a_colon_keeps_its_lead_in() -> None:
    options = Passage(
        id="shipping.md#options",
        source="shipping.md",
        title="Shipping",
        heading="Shipping options and fees",
        text="You choose a shipping option at checkout:\n"
        "- Standard: 3-7 business days, $5.95.\n"
        "- Overnight (UPS Next Day Air): next business day, $29.95.\n"
        "Expedited is not available for PO boxes.",
    )
    # sentences(): 0 "You choose …:", 1 "3-7 …" ("- Standard:" is too short to keep),
    # 2 "- Overnight …:", 3 "next business day, $29.95.", 4 "Expedited …"
    source = passage_source(options, {}, sentence_order=(3, 1, 0, 2, 4), max_sentences=2)

    # The list's own lead-in ("You choose …:") ends a line, so it is not glued on.
    assert source.text == (
        "- Overnight (UPS Next Day Air): next business day, $29.95. 3-7 business days, $5.95."
    )


async def test_an_answer_that_leaves_out_the_nearest_sentence_gets_the_passage() -> None:
    # True and backed by the passage, but not what was asked.
    generator = ScriptedGenerator("Footwear should only have been tried on indoors.")
    sink = Sink()

    result = await on_long(generator, min_coverage=0.85).answer(NEAR_QUESTION, sink=sink)

    assert result.kind == "passage"
    assert "leaves out the sentence nearest the question" in result.reason
    assert sink.pieces == []  # held back, so nothing had to be taken back
    assert result.text.startswith("Items must be unworn")


async def test_text_is_held_back_until_the_nearest_sentence_arrives_then_released() -> None:
    generator = ScriptedGenerator(
        "Footwear should only have been tried on indoors. "
        "You can return items within 30 days of delivery for a full refund. "
        "Returns between 31 and 60 days get store credit."
    )
    sink = Sink()

    result = await on_long(generator, min_coverage=0.85).answer(NEAR_QUESTION, sink=sink)

    assert result.kind == "generated"
    assert sink.pieces[0] == (
        "Footwear should only have been tried on indoors. "
        "You can return items within 30 days of delivery for a full refund. "
    )
    assert "".join(sink.pieces).strip() == result.text


async def test_a_copied_passage_label_is_left_out_of_the_answer() -> None:
    generator = ScriptedGenerator(
        "Sure! Returns - Return window: You can return items within 30 days of delivery. "
        "[1] Returns - Return window: Returns between 31 and 60 days get store credit."
    )
    sink = Sink()

    result = await answerer(generator).answer(QUESTION, sink=sink)

    assert result.kind == "generated"
    assert result.text == (
        "Sure! You can return items within 30 days of delivery. "
        "Returns between 31 and 60 days get store credit."
    )
    assert "".join(sink.pieces) == result.text
