"""Agent assist: the shop's policy passages for the shopper's last question, and a suggested
reply the agent can edit before sending.

Retrieval is the pipeline's own :class:`~bot.knowledge.KnowledgeBase`, with the same bar as
the bot's answers. The suggestion is built from the best passage, not generated: it can only
say what the shop's pages say, and the agent reads it before it goes out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from bot.console.transcript import last_shopper_text
from bot.domain import Event
from bot.knowledge import KnowledgeBase, fill_placeholders

_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def suggestion(passage_text: str, name: str | None, sentences: int = 3) -> str:
    """A short reply from a passage: a greeting, its first sentences, an offer to help."""
    lines = [line.strip().removeprefix("- ") for line in passage_text.splitlines() if line.strip()]
    body = " ".join(_SENTENCE.split(" ".join(lines))[:sentences]).strip()
    greeting = f"Hi {name.split()[0]}!" if name else "Hi!"
    return f"{greeting} {body} Is there anything else I can help with?"


async def assist(
    knowledge: KnowledgeBase,
    events: Sequence[Event],
    slots: Mapping[str, Any],
    *,
    placeholders: Mapping[str, str],
    min_similarity: float,
    top_k: int = 3,
) -> dict[str, Any]:
    """``{"question", "passages": [{id, title, heading, text, score}], "suggestion"}``."""
    question = last_shopper_text(events)
    if not question:
        return {"question": None, "passages": [], "suggestion": None}
    hits = await knowledge.search_relevant(question, top_k, min_similarity=min_similarity)
    passages = [
        {
            "id": hit.passage.id,
            "title": hit.passage.title,
            "heading": hit.passage.heading,
            "text": fill_placeholders(hit.passage.text, dict(placeholders)),
            "score": round(hit.similarity, 3),
        }
        for hit in hits
    ]
    name = slots.get("customer_name")
    return {
        "question": question,
        "passages": passages,
        "suggestion": suggestion(str(passages[0]["text"]), name if isinstance(name, str) else None)
        if passages
        else None,
    }
