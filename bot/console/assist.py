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


# The words around the passage, in the shopper's language (the bot's languages; the closing is
# the one its own replies use, data/lang/<lang>/responses.yml `utter_thanks`). The passage stays
# in the language the shop wrote it in.
_GREETING = {
    "en": ("Hi {name}!", "Hi!"),
    "es": ("¡Hola, {name}!", "¡Hola!"),
    "de": ("Hallo {name}!", "Hallo!"),
    "fr": ("Bonjour {name} !", "Bonjour !"),
    "zh": ("{name}，您好！", "您好！"),
}
_CLOSING = {
    "en": "Is there anything else I can help with?",
    "es": "¿Hay algo más en lo que pueda ayudarte?",
    "de": "Kann ich sonst noch etwas für Sie tun?",
    "fr": "Puis-je vous aider pour autre chose ?",
    "zh": "还有什么可以帮您的吗？",
}


def suggestion(
    passage_text: str, name: str | None, language: str | None = None, sentences: int = 3
) -> str:
    """A short reply from a passage: a greeting, its first sentences, an offer to help, the
    greeting and the offer in ``language`` (English for one the bot does not speak)."""
    lang = language if language in _GREETING else "en"
    lines = [line.strip().removeprefix("- ") for line in passage_text.splitlines() if line.strip()]
    body = " ".join(_SENTENCE.split(" ".join(lines))[:sentences]).strip()
    named, unnamed = _GREETING[lang]
    greeting = named.format(name=name.split()[0]) if name and name.split() else unnamed
    return f"{greeting} {body} {_CLOSING[lang]}"


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
    name, language = slots.get("customer_name"), slots.get("language")
    return {
        "question": question,
        "passages": passages,
        "suggestion": suggestion(
            str(passages[0]["text"]),
            name if isinstance(name, str) else None,
            language if isinstance(language, str) else None,
        )
        if passages
        else None,
    }
