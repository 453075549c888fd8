"""Extractive support: each sentence of an answer must be mostly made of one evidence sentence.

The claim guard (:mod:`bot.generation.guard`) checks figures, periods and policy terms, but a
small model can also state a policy in plain words that no passage gives ("you can get
overnight shipping to your PO box"). The shipped adapter is trained to answer with sentences of
its context, so for it an answer sentence whose content words are not mostly found in a single
evidence sentence is a sign of invention. Larger models paraphrase more; set
``generator.min_overlap`` to 0 to turn this check off for them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_WORD = re.compile(r"[a-z0-9$%]+(?:[.'][a-z0-9]+)*")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_STOP_TEXT = """a an the and or but if of to in on at for with by from as is are was were be been
    it its
    this that these those you your yours we our us i me my can will would could should may might
    do does did have has had so yes just also any all some more most than then there here
    what when where which who how why about into out up down over under again very too
    sure happy help good question great thanks please"""
# Negations are content: an answer that adds "not" must find it in the evidence.
_STOP = frozenset(_STOP_TEXT.split())


@dataclass(frozen=True, slots=True)
class OverlapVerdict:
    ok: bool
    weakest: float
    sentence: str


def content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}


def extractive_support(
    answer: str, evidence: Sequence[str], *, min_overlap: float, min_words: int = 3
) -> OverlapVerdict:
    """Whether every answer sentence shares ``min_overlap`` of its content words with one
    evidence sentence. Sentences with fewer than ``min_words`` content words (greetings,
    "Good question.") are not judged.
    """
    pool = [content_words(s) for text in evidence for s in _SENTENCE.split(text) if s.strip()]
    weakest, worst = 1.0, ""
    for sentence in _SENTENCE.split(answer):
        words = content_words(sentence)
        if len(words) < min_words:
            continue
        best = max((len(words & other) / len(words) for other in pool), default=0.0)
        if best < weakest:
            weakest, worst = best, sentence
    return OverlapVerdict(weakest >= min_overlap, weakest, worst)


def coverage(answer: str, sentence: str) -> float:
    """The share of ``sentence``'s content words that ``answer`` contains (1 when it has none).

    The answerer asks this of the passage sentence nearest the question: an answer that
    leaves it out has most likely answered something else from the same passage.
    """
    wanted = content_words(sentence)
    if not wanted:
        return 1.0
    return len(wanted & content_words(answer)) / len(wanted)
