"""The grounded prompt: shop profile, retrieved passages, known facts and recent turns.

Training (:mod:`bot.generation.training_data`) and serving build prompts with the same
function, so the fine-tuned model sees at run time exactly the layout it learned to use.
The prompt is kept short on purpose: on a 2-core CPU the time to the first token grows with
the prompt (``benchmarks/generation.py``), so passages are cut to a word budget.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.generation.backend import ChatMessage
from bot.knowledge import fill_placeholders
from bot.knowledge.passages import Passage
from bot.knowledge.vectors import sentences

ABSTAIN_APOLOGY = "I'm sorry, I can't find that in our shop's information."
"""The first sentence of :data:`ABSTAIN`, which the shopper is shown when the model abstains
(the offer of a person follows as the handoff offer, with its button)."""

ABSTAIN = f"{ABSTAIN_APOLOGY} Would you like me to connect you with someone from our support team?"
"""What the model is trained to say when the context does not answer the question."""


@dataclass(frozen=True, slots=True)
class Source:
    """A piece of grounding: a knowledge passage, a product, or a fact from an action."""

    id: str
    title: str
    text: str


def passage_source(
    passage: Passage,
    placeholders: Mapping[str, str],
    *,
    sentence_order: Sequence[int] = (),
    max_sentences: int = 0,
) -> Source:
    """A knowledge passage as prompt context, placeholders filled.

    With ``max_sentences`` > 0 and a ``sentence_order`` (from the search hit), only that many
    of the passage's sentences are kept, the most relevant first. A small model tends to copy
    the first sentence it is shown, so the sentence that answers the question goes there, and
    a fact at the end of a long passage is not lost to the prompt's word budget.
    """
    title = f"{passage.title} - {passage.heading}"
    text = passage.text
    if max_sentences > 0 and sentence_order:
        parts = sentences(text)
        if len(parts) > max_sentences and all(0 <= i < len(parts) for i in sentence_order):
            text = " ".join(_with_lead_in(parts, i, text) for i in sentence_order[:max_sentences])
    return Source(passage.id, title, fill_placeholders(text, placeholders))


def _with_lead_in(parts: Sequence[str], index: int, text: str) -> str:
    """The sentence, after the clause it continues when the two were split at a colon.

    Retrieval splits "- Overnight (UPS Next Day Air): next business day, $29.95." at the
    colon; the price alone would lose what it is the price of.
    """
    part = parts[index]
    if index > 0 and parts[index - 1].endswith(":"):
        joined = f"{parts[index - 1]} {part}"
        if joined in text:  # on one line: a colon inside a sentence, not a list's lead-in
            return joined
    return part


@dataclass(frozen=True, slots=True)
class PromptBudget:
    """How much of each kind of context goes into a prompt.

    Attributes:
        max_sources: passages and products, best first.
        words_per_source: longer passages are cut at a sentence boundary near this length.
        max_turns: earlier shopper and assistant messages kept, newest last.
        words_per_turn: each kept message is cut to this many words.
    """

    max_sources: int = 3
    words_per_source: int = 70
    max_turns: int = 4
    words_per_turn: int = 40


def source_label(number: int, source: Source) -> str:
    """How the prompt introduces a source: ``"[1] Returns - Return window: "``."""
    return f"[{number}] {source.title}: "


def system_prompt(
    shop_name: str,
    sources: Sequence[Source],
    facts: Sequence[str] = (),
    budget: PromptBudget | None = None,
) -> str:
    """The system message: who the assistant is, the rules, and the numbered context."""
    budget = budget or PromptBudget()
    lines = [
        f"You are the customer support assistant of {shop_name}. Answer the shopper's question "
        "using only the information below. Keep the answer short and friendly. If the "
        "information does not answer the question, say so and offer to connect the shopper "
        "with a person.",
        "",
        "Information:",
    ]
    for number, source in enumerate(sources[: budget.max_sources], start=1):
        lines.append(
            source_label(number, source) + clip_words(source.text, budget.words_per_source)
        )
    if facts:
        lines.append("")
        lines.append("About this shopper:")
        lines.extend(f"- {fact}" for fact in facts)
    return "\n".join(lines)


def build_messages(
    *,
    shop_name: str,
    question: str,
    sources: Sequence[Source],
    facts: Sequence[str] = (),
    history: Sequence[ChatMessage] = (),
    budget: PromptBudget | None = None,
) -> tuple[ChatMessage, ...]:
    """System message, the last few turns, then the shopper's question."""
    budget = budget or PromptBudget()
    recent = [
        ChatMessage(m.role, clip_words(m.content, budget.words_per_turn))
        for m in history[-budget.max_turns :]
        if m.role in ("user", "assistant") and m.content.strip()
    ]
    return (
        ChatMessage("system", system_prompt(shop_name, sources, facts, budget)),
        *recent,
        ChatMessage("user", question.strip()),
    )


def clip_words(text: str, limit: int) -> str:
    """The text cut to about ``limit`` words, ending at a sentence boundary when one is near."""
    words = text.split()
    if len(words) <= limit:
        return " ".join(words)
    clipped = " ".join(words[:limit])
    end = max(clipped.rfind(". "), clipped.rfind("; "))
    if end > len(clipped) // 2:
        return clipped[: end + 1]
    return clipped + " …"
