"""Extractive support: answer sentences must come from one evidence sentence."""

from __future__ import annotations

from bot.generation.answerer import AnswerSettings
from bot.generation.overlap import content_words, coverage, extractive_support
from tests.generation.scripted import ScriptedGenerator
from tests.generation.test_answerer import QUESTION, answerer

EVIDENCE = [
    "Standard shipping takes 3 to 5 business days and costs $5.95. "
    "Overnight shipping is not available to PO boxes; use USPS."
]


def test_copied_and_lightly_cut_sentences_pass() -> None:
    for answer in (
        "Sure! Standard shipping takes 3 to 5 business days.",
        "Overnight shipping is not available to PO boxes.",
        "Good question. Standard shipping costs $5.95.",
    ):
        assert extractive_support(answer, EVIDENCE, min_overlap=0.7).ok, answer


def test_an_invented_policy_in_plain_words_fails() -> None:
    verdict = extractive_support(
        "You can get overnight delivery to your PO box today.", EVIDENCE, min_overlap=0.7
    )
    assert not verdict.ok
    assert "overnight delivery" in verdict.sentence


def test_words_must_come_from_one_sentence_not_the_whole_passage() -> None:
    # Every word is somewhere in the evidence, but no single sentence says this.
    verdict = extractive_support(
        "Overnight shipping costs $5.95 and takes 3 to 5 business days.", EVIDENCE, min_overlap=0.9
    )
    assert not verdict.ok


def test_negation_counts_as_content() -> None:
    assert "not" in content_words("is not available")
    assert not extractive_support(
        "Standard shipping is not 3 to 5 business days.", EVIDENCE, min_overlap=1.0
    ).ok


def test_courtesy_sentences_are_not_judged() -> None:
    assert extractive_support("Happy to help!", EVIDENCE, min_overlap=1.0).ok


async def test_the_answerer_sends_the_passage_for_an_unextractive_answer() -> None:
    generator = ScriptedGenerator("Returns are accepted whenever you feel like sending them.")
    strict = answerer(generator, min_overlap=0.7)
    result = await strict.answer(QUESTION)
    assert result.kind == "passage"
    assert "not found in the passages" in result.reason
    lenient = await answerer(ScriptedGenerator(generator.answer)).answer(QUESTION)
    assert lenient.kind == "generated"
    assert AnswerSettings().min_overlap == 0.0  # off unless configured (config.yml turns it on)


def test_coverage_is_the_share_of_the_sentence_the_answer_holds() -> None:
    sentence = "Returns between 31 and 60 days get store credit."  # 8 content words

    assert (
        coverage("Returns between 31 and 60 days after delivery get store credit.", sentence) == 1
    )
    assert coverage("You get store credit.", sentence) == 3 / 8  # get, store, credit
    assert coverage("anything", "Yes, it is.") == 1.0  # no content words: nothing to miss
