"""A reader around any NLU that speaks Rasa's parse format (a Rasa NLU server, a script).

Such a parser gives an intent and entities only; the reading's other fields are derived
from them without the trained heads: the act is the intent where it is a yes, a no or a
detail (``affirm``, ``deny``, ``inform``) and a request otherwise, the feeling is calm, the
language is the shop's own, nothing follows up or refers back. The screen runs as it does
for the bot's own reader: what it refuses never reaches the policy, whatever the NLU. Shops
that run their own Rasa NLU keep working; tests script a conversation's readings with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Protocol

from bot.dialogue_state import DialogueState
from bot.nlu.entities import RasaEntity, make_entity
from bot.nlu.reading import DialogueAct, IntentGuess, Reading, Screening
from bot.nlu.screening import screen_request

_ACTS: dict[str, DialogueAct] = {"affirm": "affirm", "deny": "deny", "inform": "inform"}


class RasaParser(Protocol):
    async def parse(self, text: str, *, requested_slot: str | None = None) -> Any: ...


def reading_from_parse(parse: Mapping[str, Any], language: str = "en") -> Reading:
    """A :class:`Reading` of a Rasa parse result (see the module docstring)."""
    intent = parse.get("intent") or {}
    name = str(intent.get("name") or "out_of_scope")
    ranking = tuple(
        IntentGuess(str(g.get("name")), float(g.get("confidence") or 0.0))
        for g in parse.get("intent_ranking") or ()
        if isinstance(g, Mapping)
    )
    entities: tuple[RasaEntity, ...] = tuple(
        make_entity(
            str(e.get("entity")),
            str(e.get("value")),
            int(e.get("start") or 0),
            int(e.get("end") or 0),
            extractor=str(e.get("extractor") or "external"),
            confidence=float(e.get("confidence") or 1.0),
        )
        for e in parse.get("entities") or ()
        if isinstance(e, Mapping)
    )
    return Reading(
        text=str(parse.get("text") or ""),
        language=language,
        intent=IntentGuess(name, float(intent.get("confidence") or 0.0)),
        ranking=ranking,
        entities=entities,
        act=_ACTS.get(name, "request"),
        rule=str(parse["rule"]) if parse.get("rule") else None,
    )


class ParseReader:
    """Reads messages with a Rasa-format parser (see the module docstring)."""

    def __init__(self, parser: RasaParser, *, languages: tuple[str, ...] = ("en",)) -> None:
        self._parser = parser
        self._languages = languages

    @property
    def languages(self) -> tuple[str, ...]:
        return self._languages

    async def read(
        self,
        text: str,
        state: DialogueState,
        *,
        requested_slot: str | None = None,
        language_hint: str | None = None,
    ) -> Reading:
        result = await self._parser.parse(text, requested_slot=requested_slot)
        parse = dict(result) if isinstance(result, Mapping) else result.to_rasa()
        parse.setdefault("text", text)
        language = state.language or language_hint or self._languages[0]
        reading = reading_from_parse(parse, language if language in self._languages else "en")
        verdict = screen_request(text) if reading.rule != "payload" else None
        if verdict is None:
            return reading
        return replace(reading, screening=Screening(verdict.category, verdict.reason))
