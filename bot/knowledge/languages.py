"""Which knowledge base answers a shopper, by the language they write in.

- The shop's own language: the shop's pages, ranked with MiniLM, whose similarity scale the
  answer bars (``policy.answer_min_score`` …) were chosen on.
- Another language the shop has translated its pages into (``data/lang/<code>/knowledge/``):
  those pages, ranked with the multilingual encoder; the answer is in the shopper's language.
- Another language without translated pages: the shop's own pages, ranked with the
  multilingual encoder across languages; the passage is quoted in the shop's language with a
  one-line note in the shopper's (the pipeline says it, ``utter_passage_in_shop_language``).

The multilingual encoder's similarities live on another scale than MiniLM's, so its bars are
their own (``knowledge.multilingual_*``), chosen on ``data/eval/answers-multilingual-dev.yml``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.knowledge.base import KnowledgeBase


@dataclass(frozen=True, slots=True)
class Bars:
    """The similarity a best passage needs: when the intent is known, and when it is not."""

    answer: float
    unsure: float


@dataclass(frozen=True, slots=True)
class Source:
    """Where a question in one language is answered from.

    Attributes:
        base: the knowledge base searched.
        bars: its answer bars.
        quoted: the passages are in the shop's language, not the shopper's.
    """

    base: KnowledgeBase
    bars: Bars
    quoted: bool = False


@dataclass(frozen=True)
class KnowledgeByLanguage:
    """The sources of every language the shop speaks (see the module docstring).

    Attributes:
        shop_language: the language of the shop's own pages.
        own: the shop's pages, ranked as the answer bars expect.
        own_bars: the bars of ``own``.
        translated: per language, the shop's pages in that language (multilingual encoder).
        across: the shop's own pages ranked with the multilingual encoder, for the languages
            without translated pages; None when the shop speaks one language only.
        across_bars: the bars of the multilingual encoder's similarities.
    """

    shop_language: str
    own: KnowledgeBase
    own_bars: Bars
    translated: Mapping[str, KnowledgeBase]
    across: KnowledgeBase | None
    across_bars: Bars

    def for_language(self, language: str | None) -> Source:
        """The source that answers a shopper writing in ``language``."""
        if language is None or language == self.shop_language:
            return Source(self.own, self.own_bars)
        if language in self.translated:
            return Source(self.translated[language], self.across_bars)
        if self.across is None:
            return Source(self.own, self.own_bars)
        return Source(self.across, self.across_bars, quoted=True)

    def bases(self) -> list[KnowledgeBase]:
        """Every knowledge base, each once (to load and close them)."""
        found = [self.own, *self.translated.values()]
        if self.across is not None:
            found.append(self.across)
        return found

    async def load(self) -> None:
        for base in self.bases():
            await base.load()
