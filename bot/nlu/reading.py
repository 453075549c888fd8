"""One reading of one shopper message: everything the policy may know about its wording.

The message is read once per turn, by :class:`bot.nlu.understand.Understander`, into this
frozen object; the policy decides from it and the dialogue state and never goes back to the
raw text. Rasa's parse format (``to_rasa``) is kept for ``/model/parse``, the tracker's user
events and the action server: the extra fields travel under keys Rasa ignores.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, TypedDict, get_args

from bot.nlu.entities import RasaEntity

DialogueAct = Literal["request", "question", "inform", "affirm", "deny", "correction", "chitchat"]
ACTS: tuple[DialogueAct, ...] = get_args(DialogueAct)

Feeling = Literal["calm", "frustrated", "angry"]
FEELINGS: tuple[Feeling, ...] = get_args(Feeling)

ReferenceKind = Literal["option", "product", "order", "topic"]


class IntentDict(TypedDict):
    """``{"name", "confidence"}`` as in Rasa's parse output."""

    name: str
    confidence: float


@dataclass(frozen=True, slots=True)
class IntentGuess:
    """One intent and its confidence."""

    name: str
    confidence: float

    def to_rasa(self) -> IntentDict:
        """``{"name", "confidence"}``."""
        return {"name": self.name, "confidence": self.confidence}


@dataclass(frozen=True, slots=True)
class Reference:
    """What a message points back to in the conversation.

    Attributes:
        kind: an option the bot offered, the product or order last discussed, or the topic of
            the last knowledge answer.
        value: the option's payload, the product's name, the order id, or the topic's text.
        confidence: how sure the reading is (1.0 for a resolved pronoun with one candidate).
    """

    kind: ReferenceKind
    value: str
    confidence: float = 1.0


@dataclass(frozen=True, slots=True)
class Screening:
    """A message refused before anything acts on it (injection, other customers, abuse …)."""

    category: str
    reason: str


@dataclass(frozen=True, slots=True)
class Reading:
    """What was understood of one message (see the module docstring).

    Attributes:
        text: the message as received.
        language: the conversation's language after this message (ISO 639-1).
        detected_language: what this message alone looked like (None: too little to tell).
        intent: the chosen intent (``out_of_scope`` when unsure).
        ranking: the intent model's best guesses, best first.
        entities: extracted entities in Rasa's shape, by position.
        act: the dialogue act, read with the bot's previous message as context.
        act_confidence: the act head's probability for ``act``.
        act_ranking: every act with its probability, most likely first (empty when the act
            came from a button or a rule rather than the head).
        feeling: calm, frustrated or angry.
        feeling_confidence: the frustration head's probability for ``feeling``.
        follow_up: whether the message leans on the topic of the last answer.
        refers_to: an option, product, order or topic the message points back to.
        screening: set when the message must be refused before the policy sees it.
        rule: which structural rule chose the intent instead of the model, if any
            (``payload``, ``inform``, ``choice``, ``low_confidence``).
    """

    text: str
    language: str
    intent: IntentGuess
    ranking: tuple[IntentGuess, ...] = ()
    entities: tuple[RasaEntity, ...] = ()
    act: DialogueAct = "inform"
    act_confidence: float = 1.0
    act_ranking: tuple[tuple[DialogueAct, float], ...] = ()
    feeling: Feeling = "calm"
    feeling_confidence: float = 1.0
    follow_up: bool = False
    refers_to: Reference | None = None
    screening: Screening | None = None
    detected_language: str | None = None
    rule: str | None = None

    def act_probability(self, act: DialogueAct) -> float:
        """The head's probability of ``act`` (1 or 0 when no head read the message)."""
        if not self.act_ranking:
            return 1.0 if act == self.act else 0.0
        return dict(self.act_ranking).get(act, 0.0)

    @property
    def upset(self) -> bool:
        """Frustrated or angry."""
        return self.feeling != "calm"

    def entity(self, name: str) -> str | None:
        """The first value of entity ``name``, if any."""
        return next((str(e["value"]) for e in self.entities if e["entity"] == name), None)

    def to_rasa(self) -> dict[str, Any]:
        """Rasa's ``/model/parse`` shape, with the rest of the reading under ``reading``."""
        reading: dict[str, Any] = {
            "language": self.language,
            "act": self.act,
            "act_confidence": round(self.act_confidence, 4),
            "feeling": self.feeling,
            "feeling_confidence": round(self.feeling_confidence, 4),
            "follow_up": self.follow_up,
        }
        if self.refers_to is not None:
            reading["refers_to"] = {
                "kind": self.refers_to.kind,
                "value": self.refers_to.value,
                "confidence": round(self.refers_to.confidence, 4),
            }
        if self.screening is not None:
            reading["screening"] = {
                "category": self.screening.category,
                "reason": self.screening.reason,
            }
        if self.rule:
            reading["rule"] = self.rule
        return {
            "text": self.text,
            "intent": self.intent.to_rasa(),
            "intent_ranking": [g.to_rasa() for g in self.ranking[:10]],
            "entities": [dict(e) for e in self.entities],
            "reading": reading,
        }
