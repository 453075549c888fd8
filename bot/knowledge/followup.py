"""Follow-up questions: "and for sale items?" means something only after the question before.

A shopper who has just been answered often goes on in shorthand: "what about klarna?", "how do
I do that?", "does the label cost anything?". Searched alone, such a message finds nothing or
the wrong section. So when the conversation's previous turn was answered from the knowledge
base, the next message is searched with the topic of that answer beside it
(``KnowledgeBase.search(..., context=...)``): the query vector is the message's plus
``RetrievalSettings.context_weight`` times the topic's.

The topic must not make the bot answer a message that has nothing to do with the shop ("who
won the game last night?" after a payment question would otherwise get the payment methods).
A message the reading takes for a follow-up (the trained follow-up head,
:mod:`bot.nlu.heads`) is judged relevant on the joined query; any other message must also be
about the section found on its own (``RetrievalSettings.standalone_floor``), so the topic
only helps it choose between sections.

The topic is the shopper messages that led to the last knowledge answer: the question that
started it and the follow-ups since, at most :data:`TOPIC_MESSAGES` of them, kept in the
dialogue state (:mod:`bot.dialogue_state`). A message that is not a follow-up starts a new one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

TOPIC_MESSAGES = 3
"""Shopper messages kept in a topic: the question that opened it and the latest follow-ups."""


@dataclass(frozen=True, slots=True)
class FollowUpContext:
    """What a message is searched with beside itself.

    Attributes:
        text: the topic's messages, joined.
        elliptic: the message reads as a follow-up, so it may lean on the topic entirely.
    """

    text: str
    elliptic: bool


@dataclass(frozen=True, slots=True)
class Topic:
    """The shopper messages behind the conversation's latest knowledge answer, oldest first."""

    messages: tuple[str, ...] = ()

    @classmethod
    def of(cls, messages: Sequence[str]) -> Topic:
        """A topic from stored messages (the newest :data:`TOPIC_MESSAGES` are kept)."""
        kept = tuple(m for m in messages if isinstance(m, str) and m.strip())
        return cls(kept[-TOPIC_MESSAGES:])

    def context(self, *, follow_up: bool) -> FollowUpContext | None:
        """What to search the next message with beside itself; None when there is no topic.

        Args:
            follow_up: the message reads as a follow-up (it may lean on the topic entirely).
        """
        if not self.messages:
            return None
        return FollowUpContext(" ".join(self.messages), follow_up)

    def after(self, message: str, context: FollowUpContext | None) -> Topic:
        """The topic once ``message`` has been answered: extended by a follow-up, else its own."""
        kept = self.messages if context is not None and context.elliptic else ()
        return Topic.of((*kept, message))
