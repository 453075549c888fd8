"""A grounded, guarded, streamed answer to one shopper question.

retrieve passages -> prompt (shop profile, passages, facts, recent turns) -> model (streamed)
-> guard -> text. The model's answer is released sentence by sentence, each sentence only
after the guard has found every figure, period, price and policy term in it backed by the
passages or facts, so a shopper never sees a claim the guard would reject. When the guard
rejects a sentence, or the model fails, times out or is busy, the best passage is sent instead:
an answer is never invented, and a rejected draft is replaced, not appended to.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from bot.generation.backend import (
    ChatMessage,
    ConsumerGone,
    GenerationError,
    GenerationRequest,
    TextGenerator,
)
from bot.generation.guard import GuardVerdict, check_answer
from bot.generation.overlap import coverage, extractive_support
from bot.generation.prompt import (
    ABSTAIN,
    ABSTAIN_APOLOGY,
    PromptBudget,
    build_messages,
    passage_source,
    source_label,
)
from bot.knowledge import KnowledgeBase, ScoredPassage, fill_placeholders
from bot.knowledge.followup import FollowUpContext
from bot.knowledge.vectors import sentences

log = logging.getLogger(__name__)

DeltaSink = Callable[[str], Awaitable[None]]
"""Receives released answer text as it is produced (a streaming channel's writer)."""

AnswerKind = Literal["generated", "passage", "fallback"]

_SENTENCE_END = re.compile(r"[.!?](?:[\"')\]]*)\s")
_ABSTAIN_MARKERS = ("can't find that", "cannot find that", "connect you with", "don't have that")
_ABSTAINED = "the model found no answer in the passages"


@dataclass(frozen=True, slots=True)
class GroundedAnswer:
    """What the answerer decided for one question.

    Attributes:
        text: the text to send (empty for ``fallback``).
        kind: ``generated`` (the model's answer passed the guard), ``passage`` (the best
            passage, because the guard rejected the answer or the model failed) or
            ``fallback`` (nothing relevant was found; the caller says it did not understand).
        sources: ids of the passages in the prompt, best first.
        evidence: the texts the answer was checked against.
        verdict: the guard's verdict on the model's answer, when there was one.
        offer_handoff: the model said the information does not answer the question.
        streamed: text that was released to the sink before the final text was known.
        reason: why the model's answer was not used, for the logs and the event metadata.
    """

    text: str
    kind: AnswerKind
    sources: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()
    verdict: GuardVerdict | None = None
    offer_handoff: bool = False
    streamed: str = ""
    reason: str = ""
    timings: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AnswerSettings:
    """Retrieval, generation and guard limits of :class:`GroundedAnswerer` (``generator.*``).

    ``trust_abstention``: when the model says the passages do not answer (:data:`ABSTAIN`),
    send only the apology and offer a person; otherwise the best passage is sent and a person
    offered beside it, because a small model also abstains when the passage does answer.
    """

    top_k: int = 3
    min_similarity: float = 0.30
    max_new_tokens: int = 160
    temperature: float = 0.0
    timeout_s: float = 30.0
    min_overlap: float = 0.0
    focus_sentences: int = 0
    min_coverage: float = 0.0
    trust_abstention: bool = False
    budget: PromptBudget = field(default_factory=PromptBudget)


class GroundedAnswerer:
    """Answers from the shop's knowledge with a generative model, checked by the guard.

    Args:
        knowledge: the shop's knowledge base (retrieval with the MiniLM encoder).
        generator: any :class:`TextGenerator` (in-process model or an OpenAI-compatible server).
        shop_name: the shop's name for the prompt.
        placeholders: shop profile values; they fill ``{{Placeholders}}`` and are evidence.
        settings: retrieval and generation limits.
    """

    def __init__(
        self,
        knowledge: KnowledgeBase,
        generator: TextGenerator,
        *,
        shop_name: str,
        placeholders: dict[str, str],
        settings: AnswerSettings | None = None,
    ) -> None:
        self._knowledge = knowledge
        self._generator = generator
        self._shop = shop_name
        self._placeholders = dict(placeholders)
        self.settings = settings or AnswerSettings()
        # The shop profile is always true: an answer may give the phone number or hours.
        self._profile_evidence = tuple(
            f"{key.replace('_', ' ')}: {value}" for key, value in placeholders.items()
        )

    async def answer(
        self,
        question: str,
        *,
        intent: str | None = None,
        history: Sequence[ChatMessage] = (),
        facts: Sequence[str] = (),
        sink: DeltaSink | None = None,
        gone: Callable[[], bool] | None = None,
        min_similarity: float | None = None,
        context: FollowUpContext | None = None,
    ) -> GroundedAnswer:
        """The answer to ``question``; released text goes to ``sink`` as it is checked.

        ``gone`` tells whether the shopper has left; the model is stopped at its next token
        and the best passage is kept as the turn's answer, so the history stays whole.
        ``context`` is the conversation's topic (``KnowledgeBase.search``): it steers
        retrieval only; the model reads the question as asked, after the recent turns.
        """
        started = time.perf_counter()
        bar = self.settings.min_similarity if min_similarity is None else min_similarity
        hits = await self._knowledge.search_relevant(
            question, self.settings.top_k, min_similarity=bar, intent=intent, context=context
        )
        if not hits:
            return GroundedAnswer("", "fallback", reason="no passage above the similarity bar")
        used = hits[: self.settings.budget.max_sources]
        # Whole passages are the evidence and the fallback; the prompt may show only the
        # sentences that matter (``focus_sentences``).
        whole = [passage_source(h.passage, self._placeholders) for h in used]
        sources = [
            passage_source(
                h.passage,
                self._placeholders,
                sentence_order=h.sentence_order,
                max_sentences=self.settings.focus_sentences,
            )
            for h in used
        ]
        ids = tuple(s.id for s in sources)
        evidence = (*(s.text for s in whole), *facts, *self._profile_evidence)
        best = whole[0].text
        messages = build_messages(
            shop_name=self._shop,
            question=question,
            sources=sources,
            facts=facts,
            history=history,
            budget=self.settings.budget,
        )
        request = GenerationRequest(
            messages,
            max_new_tokens=self.settings.max_new_tokens,
            temperature=self.settings.temperature,
            timeout_s=self.settings.timeout_s,
        )
        retrieved = time.perf_counter()
        # ``cut`` counts the raw draft characters already released; ``released`` is that text
        # with placeholders filled, exactly what the shopper has seen.
        released, draft, cut, checked = "", "", 0, 0
        rejected: str | None = None
        abstained = False
        # Nothing is released until the answer holds the sentence nearest the question, so a
        # draft that answers something else is never shown before the passage replaces it.
        nearest = self._nearest_sentence(hits[0])
        covered = nearest is None
        titles = tuple(
            label
            for number, source in enumerate(sources, start=1)
            for label in (source_label(number, source), f"{source.title}: ")
        )
        first_token: float | None = None
        try:
            stream = self._generator.stream(request)
            try:
                async for piece in stream:
                    if gone is not None and gone():
                        raise ConsumerGone("the shopper left while the answer streamed")
                    if first_token is None:
                        first_token = time.perf_counter()
                    draft = draft[:cut] + _without_titles(draft[cut:] + piece, titles)
                    end = _last_sentence_end(draft, cut)
                    if end > checked:  # a sentence was completed since the last check
                        checked = end
                        ready = fill_placeholders(draft[cut:end], self._placeholders)
                        # Checked before the guard, which would reject the trained "I can't
                        # find that" as unsupported and send the passage it just declined.
                        abstained = _abstains(ready, evidence)
                        if abstained:
                            break
                        rejected = self._check(released + ready, evidence)
                        if rejected is not None:
                            break
                        covered = covered or self._covers(released + ready, nearest)
                        if not covered:
                            continue  # held back, and checked again with the next sentence
                        released, cut = released + ready, end
                        if sink is not None:
                            await sink(ready)
            finally:
                await stream.aclose()  # stops the model when the guard cut the answer short
        except GenerationError as exc:
            log.warning("generation failed, sending the passage: %s", exc)
            return self._passage(best, ids, evidence, released, f"generator: {exc}")
        timings = {
            "retrieve_s": retrieved - started,
            "first_token_s": (first_token or time.perf_counter()) - retrieved,
            "total_s": time.perf_counter() - started,
        }
        tail = fill_placeholders(draft[cut:], self._placeholders)
        if abstained or _abstains(tail, evidence):
            if not self.settings.trust_abstention:
                # A small model also says so when the passage does answer; the shopper gets
                # the passage and a person is offered beside it.
                return self._passage(best, ids, evidence, released, _ABSTAINED, offer_handoff=True)
            return await self._apology(released, ids, evidence, sink, timings)
        text = (released + tail).strip()
        verdict = check_answer(text, evidence)
        if rejected is None and verdict.ok:
            rejected = self._unextractive(text, evidence)
        if rejected is None and verdict.ok and not self._covers(text, nearest):
            rejected = f"leaves out the sentence nearest the question: {nearest!r}"
        if rejected is not None or not verdict.ok or not text:
            reason = "; ".join(verdict.reasons) or rejected or "empty answer"
            log.info("guard rejected a generated answer (%s): %r", reason, text[:200])
            return self._passage(best, ids, evidence, released, f"guard: {reason}", verdict)
        if sink is not None and tail.strip():
            await sink(tail.rstrip())
        return GroundedAnswer(
            text, "generated", ids, evidence, verdict, False, released, timings=timings
        )

    async def _apology(
        self,
        released: str,
        ids: tuple[str, ...],
        evidence: tuple[str, ...],
        sink: DeltaSink | None,
        timings: dict[str, float],
    ) -> GroundedAnswer:
        """A trusted abstention: an apology, and a person is offered (no passage).

        Text already released stays; the apology follows it.
        """
        apology = f" {ABSTAIN_APOLOGY}" if released else ABSTAIN_APOLOGY
        if sink is not None:
            await sink(apology)
        return GroundedAnswer(
            (released + apology).strip(),
            "generated",
            ids,
            evidence,
            None,
            True,
            released,
            _ABSTAINED,
            timings,
        )

    def _check(self, text: str, evidence: Sequence[str]) -> str | None:
        """Why ``text`` (placeholders already filled) may not be sent, or None."""
        verdict = check_answer(text, evidence)
        if not verdict.ok:
            return "; ".join(verdict.reasons)
        return self._unextractive(text, evidence)

    def _nearest_sentence(self, hit: ScoredPassage) -> str | None:
        """The best passage's sentence nearest the question, when coverage is checked."""
        if self.settings.min_coverage <= 0 or not hit.sentence_order:
            return None
        parts = sentences(hit.passage.text)
        if len(parts) < 2 or hit.sentence_order[0] >= len(parts):
            return None  # one sentence: the extractive check already covers it
        return fill_placeholders(parts[hit.sentence_order[0]], self._placeholders)

    def _covers(self, text: str, nearest: str | None) -> bool:
        return nearest is None or coverage(text, nearest) >= self.settings.min_coverage

    def _unextractive(self, text: str, evidence: Sequence[str]) -> str | None:
        if self.settings.min_overlap <= 0:
            return None
        support = extractive_support(text, evidence, min_overlap=self.settings.min_overlap)
        if support.ok:
            return None
        return f"sentence not found in the passages ({support.weakest:.0%}): {support.sentence!r}"

    def _passage(
        self,
        best: str,
        ids: tuple[str, ...],
        evidence: tuple[str, ...],
        released: str,
        reason: str,
        verdict: GuardVerdict | None = None,
        *,
        offer_handoff: bool = False,
    ) -> GroundedAnswer:
        return GroundedAnswer(
            best, "passage", ids, evidence, verdict, offer_handoff, released, reason
        )


def _abstains(text: str, evidence: Sequence[str]) -> bool:
    """Whether ``text`` is the model saying it has no answer (:data:`ABSTAIN` or its gist).

    A marker that the evidence itself contains ("we connect you with a specialist") is part
    of an answer, not an abstention.
    """
    lowered = text.lower()
    if ABSTAIN.lower() in lowered:
        return True
    said = [m for m in _ABSTAIN_MARKERS if m in lowered]
    return bool(said) and not any(m in e.lower() for m in said for e in evidence)


def _without_titles(text: str, titles: Sequence[str]) -> str:
    """``text`` without the "[n] Title: " labels of the prompt, which a small model may copy.

    A label has no sentence end in it, so it is whole before its sentence can be released.
    """
    for title in titles:
        if title in text:
            text = text.replace(title, "")
    return text


def _last_sentence_end(draft: str, start: int) -> int:
    """Where the last complete sentence after ``start`` ends (``start`` when there is none)."""
    ends = [m.end() for m in _SENTENCE_END.finditer(draft, start)]
    return ends[-1] if ends else start
