"""Follow-up questions: "and for sale items?" means something only after the question before.

A shopper who has just been answered often goes on in shorthand: "what about klarna?", "how do
I do that?", "does the label cost anything?". Searched alone, such a message finds nothing or
the wrong section. So when the conversation's previous turn was answered from the knowledge
base, the next message is searched with the topic of that answer beside it
(``KnowledgeBase.search(..., context=...)``): the query vector is the message's plus
``RetrievalSettings.context_weight`` times the topic's.

The topic must not make the bot answer a message that has nothing to do with the shop ("who
won the game last night?" after a payment question would otherwise get the payment methods).
A message that reads as a follow-up (:func:`looks_like_follow_up`) is judged relevant on the
joined query; any other message must also be about the section found on its own
(``RetrievalSettings.standalone_floor``), so the topic only helps it choose between sections.
Many follow-ups refer to the answer with a definite noun ("the label", "the link") that no
word list can recognise; those are caught by the second rule.

The topic is the shopper messages that led to the last knowledge answer: the question that
started it and the follow-ups since, at most :data:`TOPIC_MESSAGES` of them. A message that
does not read as a follow-up starts a new topic.

The test is lexical and English, deliberately simple so that its decisions can be predicted:
a follow-up opens with a continuation ("and", "also", "what about", "how about", "what if",
"same for"), or has at most two content words of its own and either points back ("it",
"that", "those"…, "too", "as well") or is a bare fragment of at most three words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.domain import TrackerView
from bot.nlu.wording import opens_with, words

TOPIC_MESSAGES = 3
"""Shopper messages kept in a topic: the question that opened it and the latest follow-ups."""

_OPENING_WORDS = frozenset({"and", "also", "plus", "or"})
_OPENING_PHRASES = (
    ("what", "about"),
    ("how", "about"),
    ("what", "if"),
    ("same", "for"),
    ("same", "with"),
    ("what", "else"),
    ("is", "that", "the", "same"),
)
_POINTERS = frozenset(
    {"it", "it's", "its", "that", "that's", "this", "these", "those", "they", "they're",
     "them", "their", "there", "one", "ones", "same", "too", "either", "instead"}
)  # fmt: skip
# Words that carry no topic of their own: function words, question words, pronouns, and the
# verbs and fillers any shopper question uses ("can I do that", "how much is it").
_FUNCTION_TEXT = """
    a an the and or but if then so as at by for from in into of off on onto out over to up
    with without about after before between under again also just only even still very really
    please thanks thank ok okay hi hey yes no not don't doesn't didn't can't won't isn't aren't
    i i'm i've i'd me my mine we we're our us you you're your yours he she his her him
    what what's when where which who whom whose why how how's
    is are was were be been being am do does did done doing have has had having
    can could will would shall should may might must get gets got getting go goes going
    make makes made work works take takes much many more most any some all each every
    other another else here well way thing things something anything"""
_FUNCTION_WORDS = _POINTERS | frozenset(_FUNCTION_TEXT.split())


def content_words(text: str) -> list[str]:
    """The words of ``text`` that name something (lowercased), in order."""
    return [w for w in words(text) if w not in _FUNCTION_WORDS]


def looks_like_follow_up(text: str) -> bool:
    """Whether ``text`` needs the previous question to be understood (see the module doc)."""
    said = words(text)
    if not said:
        return False
    if said[0] in _OPENING_WORDS or opens_with(said, _OPENING_PHRASES):
        return True
    if len(content_words(text)) > 2:
        return False
    points_back = any(w in _POINTERS for w in said) or text.lower().rstrip(" ?!.").endswith(
        "as well"
    )
    return points_back or len(said) <= 3


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

    def context_for(self, message: str) -> FollowUpContext | None:
        """What to search with beside ``message``; None when there is no topic."""
        if not self.messages:
            return None
        return FollowUpContext(" ".join(self.messages), looks_like_follow_up(message))

    def after(self, message: str, context: FollowUpContext | None) -> Topic:
        """The topic once ``message`` has been answered: extended by a follow-up, else its own."""
        kept = self.messages if context is not None and context.elliptic else ()
        return Topic.of((*kept, message))


def answered_topic(tracker: TrackerView) -> Topic:
    """The topic of the previous turn's knowledge answer; empty when that turn gave none.

    Read from the ``topic`` the answer's bot event carries. Only the turn just before the
    current message counts, and never across a session start: a shopper who did something
    else in between, or comes back days later, starts afresh.
    """
    users = 0
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "session_started":
            break
        if kind == "user":
            users += 1
            if users == 2:
                break
        elif kind == "bot" and users == 1:
            topic = (event.get("metadata") or {}).get("topic")
            if isinstance(topic, list):
                return Topic.of(topic)
    return Topic()
