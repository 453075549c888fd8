"""The shop's knowledge base: markdown passages, placeholder filling and retrieval."""

from bot.knowledge.base import Explanation, KnowledgeBase, RetrievalSettings, ScoredPassage
from bot.knowledge.passages import Passage, load_passages, split_markdown
from bot.knowledge.placeholders import fill_placeholders

__all__ = [
    "Explanation",
    "KnowledgeBase",
    "Passage",
    "RetrievalSettings",
    "ScoredPassage",
    "fill_placeholders",
    "load_passages",
    "split_markdown",
]
