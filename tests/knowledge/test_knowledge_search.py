"""Search over the shipped knowledge base with the real MiniLM encoder."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
import pytest_asyncio

from bot.errors import ConfigError
from bot.knowledge import KnowledgeBase, RetrievalSettings, split_markdown
from bot.knowledge.followup import FollowUpContext, Topic
from bot.knowledge.vectors import DenseWeights, PassageVectors, ViewLayout, sentences
from bot.nlu.encoder import BatchingEncoder, MiniLMEncoder

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

KNOWLEDGE = Path(__file__).resolve().parents[2] / "data" / "knowledge"

CLEAR_QUESTIONS = [
    ("which payment methods do you accept?", "payments.md#accepted-payment-methods"),
    ("I forgot my password", "account.md#resetting-a-forgotten-password"),
    ("is there a fee if I cancel my order?", "cancellations.md#cancellation-fees"),
    ("how long does shipping take?", "shipping.md#how-long-delivery-takes"),
    ("how do I unsubscribe from the newsletter", "account.md#newsletter-and-marketing-emails"),
    ("can I get a copy of my invoice?", "payments.md#downloading-or-requesting-an-invoice-copy"),
    ("how do I delete my account", "account.md#deleting-your-account"),
]


@pytest.fixture(scope="module")
def minilm() -> MiniLMEncoder:
    encoder = MiniLMEncoder()
    encoder.load()
    return encoder


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def batcher(minilm: MiniLMEncoder) -> AsyncIterator[BatchingEncoder]:
    shared = BatchingEncoder(minilm)
    yield shared
    await shared.aclose()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def kb(batcher: BatchingEncoder) -> AsyncIterator[KnowledgeBase]:
    base = KnowledgeBase.from_directory(KNOWLEDGE, batcher)
    await base.load()
    yield base
    await base.aclose()


@pytest.mark.parametrize(("question", "passage_id"), CLEAR_QUESTIONS)
async def test_clear_questions_find_their_passage(
    kb: KnowledgeBase, question: str, passage_id: str
) -> None:
    hits = await kb.search(question, k=3)

    assert hits[0].passage.id == passage_id, [h.passage.id for h in hits]


async def test_hits_are_ranked_and_bounded(kb: KnowledgeBase) -> None:
    hits = await kb.search("do you ship to Alaska?", k=100)

    assert len(hits) == len(kb.passages)
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert all(-1.0 <= h.similarity <= 1.0 for h in hits)
    assert await kb.search("   ", k=3) == []
    assert await kb.search("returns", k=0) == []


async def test_each_hit_orders_its_sentences_by_nearness_to_the_question(
    kb: KnowledgeBase,
) -> None:
    hits = await kb.search("what does UPS Next Day Air overnight delivery cost?", k=100)

    for hit in hits:
        assert sorted(hit.sentence_order) == list(range(len(sentences(hit.passage.text))))
    (options,) = [h for h in hits if h.passage.id == "shipping.md#shipping-options-and-fees"]
    nearest = sentences(options.passage.text)[options.sentence_order[0]]
    assert "Overnight" in nearest or "$29.95" in nearest, nearest


async def test_sentence_order_reads_only_its_own_passage_rows() -> None:
    # Passage 0 has sentences 0-1, passage 1 (the last) sentences 2-4.
    rows = np.eye(5, dtype=np.float32)
    vectors = PassageVectors.from_vectors(
        np.vstack([rows[:2], rows[:2], rows]), ViewLayout((2, 3), (0, 0))
    )
    query = np.array([0, 1, 0, 0.5, 0.9], dtype=np.float32)

    scores = vectors.sentence_scores(query)
    assert vectors.sentence_order(scores, 0) == (1, 0)
    assert vectors.sentence_order(scores, 1) == (2, 1, 0)


async def test_question_view_takes_each_passages_nearest_question() -> None:
    # Passage 0 lists questions (rows e3, e4), passage 1 none; one sentence each.
    rows = np.eye(5, dtype=np.float32)
    layout = ViewLayout((1, 1), (2, 0))
    matrix = np.vstack([rows[[0, 1]], rows[[0, 1]], rows[[2, 2]], rows[[3, 4]]])
    vectors = PassageVectors.from_vectors(matrix, layout)
    query = np.array([0.2, 0.4, 0.0, 0.1, 0.9], dtype=np.float32)
    weights = DenseWeights(passage=1, heading=1, sentence=1, question=1)

    similarity = vectors.cosines(query).mix(weights)

    # Passage 0: (0.2 + 0.2 + 0 + max(0.1, 0.9)) / 4; passage 1 listing none is scored on
    # its three views alone, (0.4 + 0.4 + 0) / 3, not diluted by a missing fourth.
    assert similarity == pytest.approx([1.3 / 4, 0.8 / 3])
    no_questions = vectors.cosines(query).mix(DenseWeights(1, 1, 1))
    assert no_questions == pytest.approx([0.4 / 3, 0.8 / 3])


async def test_dense_weights_refuse_negative_or_question_only_mixes() -> None:
    with pytest.raises(ValueError, match="dense weights"):
        DenseWeights(1, 1, 1, question=-0.1)
    with pytest.raises(ValueError, match="dense weights"):
        DenseWeights(0, 0, 0, question=1)
    with pytest.raises(ValueError, match="dense weights"):
        RetrievalSettings(question_weight=-1)
    with pytest.raises(ValueError, match="question_match"):
        RetrievalSettings(question_match=0)


async def test_example_questions_pull_their_passage_up(batcher: BatchingEncoder) -> None:
    markdown = (
        "# Shop\n\n## Parcels\nWe ship with UPS.\n\n"
        "## Opening hours\n<!-- questions:\n- do you deliver on sundays? -->\n"
        "We are open on weekdays from 9 to 5.\n"
    )
    passages = split_markdown(markdown, "shop.md")
    question = "will my parcel come on a Sunday?"
    plain = KnowledgeBase(passages, batcher, settings=RetrievalSettings(question_weight=0))
    asked = KnowledgeBase(passages, batcher, settings=RetrievalSettings(question_weight=1))

    (without,) = await plain.search(question, k=1)
    (with_questions,) = await asked.search(question, k=1)

    assert without.passage.heading == "Parcels"
    assert with_questions.passage.heading == "Opening hours"


def weighted_mean(views: list[tuple[float, float]]) -> float:
    return sum(w * v for w, v in views) / sum(w for w, _ in views)


async def test_explain_adds_up_to_the_search_it_explains(kb: KnowledgeBase) -> None:
    question = "can I pay the driver in cash when the parcel arrives?"
    hits = await kb.search(question, k=4, intent="check_payment_methods")
    explained = await kb.explain(question, k=4, intent="check_payment_methods")

    assert [e.hit for e in explained] == hits
    weights = kb.settings
    for e in explained:
        text_views = [
            (weights.passage_weight, e.passage),
            (weights.heading_weight, e.heading),
            (weights.sentence_weight, e.sentence),
        ]
        views = [*text_views]
        if e.question is not None:
            views.append((weights.question_weight, e.question))
        assert e.dense == pytest.approx(weighted_mean(views), abs=1e-5)
        assert e.hit.similarity == pytest.approx(weighted_mean(text_views), abs=1e-5)
        assert e.hit.score == pytest.approx(e.dense + e.lexical + e.intent, abs=1e-5)
        declares = "check_payment_methods" in e.hit.passage.intents
        assert e.intent == pytest.approx(weights.intent_boost if declares else 0)
        assert e.nearest_sentence == sentences(e.hit.passage.text)[e.hit.sentence_order[0]]
        assert e.nearest_question in e.hit.passage.questions
        assert e.question == e.hit.question_similarity
        assert e.hit.question_match == (e.question is not None and e.question >= 0.6)
    assert "cash" in explained[0].nearest_sentence
    assert await kb.explain("   ", k=3) == []
    assert await kb.explain(question, k=0) == []


async def test_a_matched_example_question_clears_any_bar(batcher: BatchingEncoder) -> None:
    markdown = (
        "# Shop\n\n## Opening hours\n<!-- questions:\n- do you deliver on sundays? -->\n"
        "We are open on weekdays from 9 to 5.\n"
    )
    passages = split_markdown(markdown, "shop.md")
    strict = KnowledgeBase(passages, batcher, settings=RetrievalSettings(question_match=0.6))
    never = KnowledgeBase(passages, batcher, settings=RetrievalSettings(question_match=2.0))

    (hit,) = await strict.search("will you deliver on a sunday?", k=1)
    assert hit.question_similarity is not None
    assert hit.question_similarity >= 0.6
    assert hit.question_match
    assert hit.clears(0.99)
    assert await strict.search_relevant("will you deliver on a sunday?", 1, min_similarity=0.99)
    assert not await never.search_relevant("will you deliver on a sunday?", 1, min_similarity=0.99)

    (far,) = await strict.search("what colour is the sky?", k=1)
    assert not far.question_match
    assert far.clears(far.similarity)
    assert not far.clears(far.similarity + 0.01)


async def test_unrelated_question_scores_lower_than_a_clear_one(kb: KnowledgeBase) -> None:
    (relevant,) = await kb.search("what is your return window?", k=1)
    (unrelated,) = await kb.search("who won the football world cup in 1954?", k=1)

    assert relevant.similarity > unrelated.similarity + 0.2


async def test_intent_hint_adds_the_boost_to_declaring_passages(kb: KnowledgeBase) -> None:
    question = "I need help with my money"
    plain = {h.passage.id: h.score for h in await kb.search(question, k=100)}
    hinted = await kb.search(question, k=100, intent="track_refund")

    boost = kb.settings.intent_boost
    for hit in hinted:
        expected = plain[hit.passage.id] + (boost if "track_refund" in hit.passage.intents else 0)
        assert hit.score == pytest.approx(expected, abs=1e-5)
    assert "track_refund" in hinted[0].passage.intents


async def test_a_follow_up_is_searched_with_the_question_it_follows(kb: KnowledgeBase) -> None:
    topic = Topic(("can I pay with paypal?",))
    alone = await kb.search("what about klarna?", k=1)
    followed = await kb.search("what about klarna?", k=1, context=topic.context(follow_up=True))

    assert alone[0].passage.id != "payments.md#accepted-payment-methods"
    assert followed[0].passage.id == "payments.md#accepted-payment-methods"
    assert not followed[0].off_topic


async def test_the_context_joins_the_query_vector_with_its_weight(
    batcher: BatchingEncoder,
) -> None:
    passages = split_markdown(
        "# Shop\n\n## Payment\nWe take cards and PayPal.\n\n## Delivery\nParcels go by UPS.\n",
        "shop.md",
    )
    heavy = KnowledgeBase(passages, batcher, settings=RetrievalSettings(context_weight=1.0))
    off = KnowledgeBase(passages, batcher, settings=RetrievalSettings(context_weight=0.0))
    query = "and how long does it take?"
    context = FollowUpContext("which payment methods do you take?", elliptic=True)

    plain = {h.passage.id: h.similarity for h in await off.search(query, k=2)}
    ignored = {h.passage.id: h.similarity for h in await off.search(query, k=2, context=context)}
    joined = {h.passage.id: h.similarity for h in await heavy.search(query, k=2, context=context)}

    assert ignored == plain
    assert joined["shop.md#payment"] > plain["shop.md#payment"] + 0.1
    assert joined["shop.md#payment"] - joined["shop.md#delivery"] > (
        plain["shop.md#payment"] - plain["shop.md#delivery"]
    )
    with pytest.raises(ValueError, match="context_weight"):
        RetrievalSettings(context_weight=-0.1)
    with pytest.raises(ValueError, match="standalone_floor"):
        RetrievalSettings(standalone_floor=1.5)


async def test_a_topic_does_not_make_an_unrelated_message_relevant(kb: KnowledgeBase) -> None:
    topic = Topic(("how long does shipping take?",))
    message = "who won the game last night?"
    context = topic.context(follow_up=False)
    assert context is not None

    (hit,) = await kb.search(message, k=1, context=context)
    assert hit.passage.source == "shipping.md"  # the topic pulls the ranking ...
    assert hit.off_topic  # ... but the message is not about shipping on its own
    assert not hit.clears(-1.0)
    assert not await kb.search_relevant(message, 3, min_similarity=0.25, context=context)
    elliptic = FollowUpContext(context.text, elliptic=True)
    (leaning,) = await kb.search(message, k=1, context=elliptic)
    assert not leaning.off_topic


async def test_a_topic_never_loses_an_answer_the_message_alone_gets(kb: KnowledgeBase) -> None:
    message = "how quickly do you answer on live chat?"
    context = Topic(("whats the best way to look after a merino top?",)).context(follow_up=False)
    alone = await kb.search_relevant(message, 3, min_similarity=0.40)
    with_topic = await kb.search_relevant(message, 3, min_similarity=0.40, context=context)

    assert alone
    assert [h.passage.id for h in with_topic] == [h.passage.id for h in alone]


async def test_concurrent_searches_are_all_answered_in_shared_batches(
    kb: KnowledgeBase, batcher: BatchingEncoder
) -> None:
    questions = [q for q, _ in CLEAR_QUESTIONS] * 6
    batches_before = batcher.batches_run

    results = await asyncio.gather(*(kb.search(q, k=1) for q in questions))

    expected = dict(CLEAR_QUESTIONS)
    assert [r[0].passage.id for r in results] == [expected[q] for q in questions]
    # 42 queries waited on one another instead of running 42 forward passes.
    assert batcher.batches_run - batches_before < len(questions) // 4


async def test_concurrent_loads_embed_once(minilm: MiniLMEncoder) -> None:
    passages = split_markdown(
        "# Shop\n## Gift cards\nThey never expire.\n## Hours\nWe open at nine every day.\n",
        "shop.md",
    )
    base = KnowledgeBase(passages, minilm)  # a plain encoder: the base owns its batcher
    texts, _ = PassageVectors.texts(passages)

    await asyncio.gather(base.load(), base.load(), base.search("do gift cards expire?"))

    assert base.loaded
    assert base._batcher.texts_encoded == len(texts) + 1  # + the one query
    (hit,) = await base.search("when do you open?", k=1)
    assert hit.passage.id == "shop.md#hours"
    await base.aclose()


async def test_shared_batcher_survives_closing_the_base(
    kb: KnowledgeBase, batcher: BatchingEncoder
) -> None:
    other = KnowledgeBase(kb.passages[:3], batcher)
    await other.aclose()

    assert await batcher.encode_one("still working") is not None


async def test_get_and_bad_input(kb: KnowledgeBase, tmp_path: Path) -> None:
    assert kb.get("returns.md#return-window").heading == "Return window"
    with pytest.raises(KeyError):
        kb.get("returns.md#nope")
    with pytest.raises(ValueError, match="duplicate passage ids"):
        KnowledgeBase([kb.passages[0], kb.passages[0]], MiniLMEncoder())
    with pytest.raises(ConfigError, match=re.escape(str(tmp_path))):
        KnowledgeBase.from_directory(tmp_path, MiniLMEncoder())
    with pytest.raises(ValueError, match="lexical_weight"):
        RetrievalSettings(lexical_weight=-1)
    with pytest.raises(ValueError, match="dense weights"):
        RetrievalSettings(passage_weight=0, heading_weight=0, sentence_weight=0)
