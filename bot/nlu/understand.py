"""Reads a shopper's message once per turn, in the context of the conversation -> Reading.

In order: a button payload is taken as it is (structure, not wording); the screen refuses
injections, leaks, other customers' data and abuse (its rules, then its trained head); the
entities are extracted (ids, emails, names, the shop's catalog); the language is detected
and kept per conversation; the multilingual encoder embeds the message, the bot's last
message and the last answer's topic, and the trained heads read the intent, the dialogue act,
the feeling and whether it follows up; an answer that picks one of the options the bot just
offered is read as that option's payload, exactly as if it had been pressed; "it" and "that"
are resolved to the product, order or topic last discussed. The policy gets the result and
never reads the text again.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from bot.dialogue_state import DialogueState, Option
from bot.nlu.choice import tokens
from bot.nlu.encoder import BatchingEncoder
from bot.nlu.entities import CONTEXT_EXTRACTOR, make_entity
from bot.nlu.heads import FloatArray, ReadingHeads, best, pair_features
from bot.nlu.interpreter import Interpreter, ParseResult, parse_payload
from bot.nlu.language import LanguageDetector
from bot.nlu.reading import DialogueAct, Feeling, IntentGuess, Reading, Reference, Screening
from bot.nlu.screening import learned_verdict, screen_request

# Buttons that answer yes or no (or ask for a person) are read by the act head, not as options.
_YES_NO_PAYLOADS = ("/affirm", "/deny", "/contact_human_agent")
_PAYLOAD_ACTS: dict[str, DialogueAct] = {"affirm": "affirm", "deny": "deny", "inform": "inform"}
_ASKING_ACTS = ("question", "request")
# Acts with which a message answers the bot's offer or question.
_ANSWERING_ACTS = ("affirm", "inform", "correction")
# Acts with which a reply can pick an offered option without naming its words.
_PICKING_ACTS = ("inform", "correction", "request")
# Intents that are about one product, or about one of the shopper's orders: a message with
# one of them that names no product (order) means the one last discussed.
PRODUCT_INTENTS = frozenset({"product_info"})
ORDER_INTENTS = frozenset(
    {
        "track_order",
        "delivery_period",
        "delivery_options",
        "cancel_order",
        "change_order",
        "change_shipping_address",
        "change_payment_method",
        "return_item",
        "exchange_item",
        "get_invoice",
        "check_invoice",
    }
)


@dataclass(frozen=True, slots=True)
class ReadingSettings:
    """Bars of the reading, chosen on the dialogue dev set (``config.yml``: ``nlu``).

    Attributes:
        choice_min: a pick among the offered options needs this probability.
        follow_up_min: a message is a follow-up when the head gives it this probability.
        upset_min: a message is frustrated or angry when the head gives the two together
            this probability (below it, calm: a false apology is worse than none).
        screening_min: the screening head refuses a message the rules let through when it
            gives the attack labels together this probability.
    """

    choice_min: float = 0.5
    follow_up_min: float = 0.5
    upset_min: float = 0.65
    screening_min: float = 0.85


class Understander:
    """Makes the one :class:`Reading` of each message (see the module docstring).

    Args:
        interpreter: intents and entities (the intent head runs on ``encoder`` too).
        encoder: the multilingual encoder the heads were trained on (shared, not closed here).
        heads: the trained act, feeling, follow-up, choice and screening heads.
        detector: the language detector, restricted to the shop's languages.
        settings: the bars of the reading.
    """

    def __init__(
        self,
        interpreter: Interpreter,
        encoder: BatchingEncoder,
        heads: ReadingHeads,
        detector: LanguageDetector,
        settings: ReadingSettings = ReadingSettings(),
    ) -> None:
        self.interpreter = interpreter
        self._catalog_words = interpreter.catalog_words
        self._encoder = encoder
        self._heads = heads
        self._detector = detector
        self._settings = settings

    @property
    def languages(self) -> tuple[str, ...]:
        return self._detector.languages

    async def read(
        self,
        text: str,
        state: DialogueState,
        *,
        requested_slot: str | None = None,
        language_hint: str | None = None,
    ) -> Reading:
        """The reading of ``text`` in the conversation ``state`` describes.

        Args:
            text: the shopper's message or a button payload.
            state: the dialogue state before this message.
            requested_slot: the slot the bot asked for, if a form is waiting for one.
            language_hint: the language the channel reports (a widget's page language),
                used until the conversation has one of its own.
        """
        current = state.language or language_hint
        payload = parse_payload(text)
        if payload is not None:
            return self._from_parse(payload, current or self._detector.default, "payload")
        verdict = screen_request(text)
        # The message, the bot's last message and the topic are encoded in the pass the
        # intent model's encoding of the message runs in (one pass, not three in a row).
        parse, message, context, topic = await asyncio.gather(
            self.interpreter.parse(text, requested_slot=requested_slot),
            self._encoder.encode_one(text),
            self._vector(state.last_prompt),
            self._vector(" ".join(state.topic)),
        )
        names = [text[e["start"] : e["end"]] for e in parse.entities]
        language, guess = self._detector.choose(text, current, ignore=names)
        act, act_p, act_probabilities = best(self._heads.act, pair_features(message, context))
        if requested_slot is not None and act == "inform":
            # An answer to the bot's question (an address, a name, a size) says little of the
            # language the shopper speaks ("118 State St, Madison" in a French conversation).
            language = current or language
        act_ranking = sorted(
            (
                (_act(label), float(p))
                for label, p in zip(self._heads.act.intents, act_probabilities, strict=True)
            ),
            key=lambda pair: -pair[1],
        )
        feeling, feeling_p, feelings = best(self._heads.feeling, message.reshape(1, -1))
        calm = float(feelings[list(self._heads.feeling.intents).index("calm")])
        if feeling != "calm" and 1.0 - calm < self._settings.upset_min:
            feeling, feeling_p = "calm", calm
        if verdict is None:
            _, _, screened = best(self._heads.screening, message.reshape(1, -1))
            verdict = learned_verdict(
                self._heads.screening.intents, screened.tolist(), self._settings.screening_min
            )
            if verdict is not None and verdict.category == "unearned_promise" and act == "question":
                # Asking what is granted ("what discounts can I get?", "is shipping free over
                # $75?") is a policy question for the pages, not a demand.
                verdict = None
        follow_up = False
        if state.topic:
            _, _, probabilities = best(self._heads.follow_up, pair_features(message, topic))
            follow_up = float(probabilities[1]) >= self._settings.follow_up_min
        reading = Reading(
            text=text,
            language=language,
            detected_language=guess.language,
            intent=parse.intent,
            ranking=parse.intent_ranking,
            entities=parse.entities,
            act=_act(act),
            act_confidence=act_p,
            act_ranking=tuple(act_ranking),
            feeling=_feeling(feeling),
            feeling_confidence=feeling_p,
            follow_up=follow_up,
            screening=Screening(verdict.category, verdict.reason) if verdict else None,
            rule=parse.rule,
        )
        picked = await self._picked_option(message, text, state.options, reading)
        if picked is not None:
            return picked
        return with_reference(reading, _back_reference(reading, state))

    async def _picked_option(
        self,
        message: FloatArray,
        text: str,
        offered: Sequence[Option],
        reading: Reading,
    ) -> Reading | None:
        """The reading of the option ``text`` picks, if it clearly picks one."""
        options = [o for o in offered if not o.payload.startswith(_YES_NO_PAYLOADS)]
        if len(options) < 1 or reading.screening is not None or reading.rule == "inform":
            return None
        # The catalog's words it names (a glossary maps "noir" to black), as whole words.
        named = [
            re.compile(rf"(?<![\w/]){re.escape(str(e['value']))}(?![\w/])", re.IGNORECASE)
            for e in reading.entities
            if e["entity"] in ("product", "product_option") and e["end"] > e["start"]
        ]
        fitting = [o for o in options if named and all(n.search(o.title) for n in named)]
        if len(fitting) > 1:
            # The shop's words it names fit several options ("L/XL" of two colours): the
            # form reads the details itself rather than guess among them.
            return None
        if fitting:
            option, probability = fitting[0], 1.0
        elif reading.act not in _PICKING_ACTS:
            # "yes, that's fine" or a question at a list of payment methods picks none of them
            # unless it names one.
            return None
        else:
            vectors = np.stack(await asyncio.gather(*(self._vector(o.title) for o in options)))
            pick, probability = self._heads.choice.pick(
                message, text, vectors, [o.title for o in options]
            )
            if pick == 0 or probability < self._settings.choice_min:
                return None
            option = options[pick - 1]
        if self._contradicts(text, option, options):
            return None
        chosen = parse_payload(option.payload)
        if chosen is None:
            return None
        # The option's own values, and what else the message gave ("yes cancel it, #1185174,
        # my email is ...": the order and email stay).
        given = {e["entity"] for e in chosen.entities}
        kept = tuple(e for e in reading.entities if e["entity"] not in given)
        return replace(
            reading,
            intent=IntentGuess(chosen.intent.name, probability),
            ranking=(IntentGuess(chosen.intent.name, probability),),
            entities=(*chosen.entities, *kept),
            act="inform",
            refers_to=Reference("option", option.payload, probability),
            rule="choice",
        )

    def _contradicts(self, text: str, option: Option, options: Sequence[Option]) -> bool:
        """Whether the message names words of the other options, or of the shop's catalog,
        that the pick lacks ("plain" when the pick says "custom", "stainless steel" when it
        says "glass"): it then means an option not on screen, or another one, and the form,
        which knows every variant, reads it instead of taking a near miss."""
        common = self._heads.choice.common
        said = tokens(text) - common
        offered = set().union(*(tokens(o.title) for o in options)) | self._catalog_words
        return bool((said & (offered - common)) - tokens(option.title))

    async def _vector(self, text: str) -> FloatArray:
        if not text.strip():
            return np.zeros(self._encoder.dimension, dtype=np.float32)
        return await self._encoder.encode_one(text)

    def _from_parse(self, parse: ParseResult, language: str, rule: str) -> Reading:
        return Reading(
            text=parse.text,
            language=language,
            intent=parse.intent,
            ranking=parse.intent_ranking,
            entities=parse.entities,
            act=_PAYLOAD_ACTS.get(parse.intent.name, "request"),
            rule=rule,
        )


def _back_reference(reading: Reading, state: DialogueState) -> Reference | None:
    """The product or order "it" means, when the message asks about one and names none.

    A question or request about a product (its intent, or a follow-up of a product answer)
    means the product last shown; one about an order (an order's intent, or a follow-up of
    an order report) the order last shown or chosen.
    """
    offer = state.offer
    if (
        offer is not None
        and offer.kind == "action"
        and offer.intent in ORDER_INTENTS
        and state.last_order
        and reading.entity("order_id") is None
        and reading.act in _ANSWERING_ACTS
    ):
        # A yes or the details of "shall I start a return?" take up the offer for the order
        # it was made about.
        return Reference("order", state.last_order)
    # A colour or size with no product named ("and in black?", "is the rust one in stock?")
    # asks about the product last shown, whatever the intent model made of the words; so does
    # a follow-up of the product's answer. Such a message ("and how much is the black one",
    # "is it in stock tho") reads as a correction as often as a question.
    about_product = (
        reading.intent.name in PRODUCT_INTENTS
        or (reading.follow_up and state.topic_kind == "product")
        or reading.entity("product_option") is not None
    )
    asks_about_product = reading.act in (*_ASKING_ACTS, "correction") and about_product
    if state.last_product and reading.entity("product") is None and asks_about_product:
        return Reference("product", state.last_product)
    # Right after an order was reported, a follow-up the intent model cannot place ("which
    # carrier did you send it with?", "und die Sendungsnummer bitte") is about that order,
    # whatever act the words resemble (a request for it reads as a yes as often): its report
    # says carrier, tracking and dates. Only a no closes the topic.
    unplaced = reading.rule == "low_confidence"
    if (
        unplaced
        and reading.follow_up
        and state.topic_kind == "order"
        and state.last_order
        and reading.entity("order_id") is None
        and reading.act != "deny"
    ):
        return Reference("order", state.last_order)
    # The same for the order: "can you switch the payment on that one to paypal" after an
    # order report is read as a correction as often as a request.
    if reading.act not in (*_ASKING_ACTS, "correction"):
        return None
    about_order = reading.intent.name in ORDER_INTENTS or (
        (reading.follow_up or unplaced) and state.topic_kind == "order"
    )
    if state.last_order and reading.entity("order_id") is None and about_order:
        return Reference("order", state.last_order)
    if reading.follow_up and state.topic:
        return Reference("topic", " ".join(state.topic))
    return None


def with_reference(reading: Reading, reference: Reference | None) -> Reading:
    """The reading with what it refers to, and that product or order as an entity of it, so
    that slot mappings and the actions see it as if the shopper had named it."""
    if reference is None:
        return reading
    entity = {"product": "product", "order": "order_id"}.get(reference.kind)
    entities = reading.entities
    if entity is not None:
        entities = (
            *entities,
            make_entity(entity, reference.value, 0, 0, extractor=CONTEXT_EXTRACTOR,
                        confidence=reference.confidence),
        )  # fmt: skip
    return replace(reading, refers_to=reference, entities=entities)


def _act(label: str) -> DialogueAct:
    acts: dict[str, DialogueAct] = {
        "request": "request",
        "question": "question",
        "inform": "inform",
        "affirm": "affirm",
        "deny": "deny",
        "correction": "correction",
        "chitchat": "chitchat",
    }
    return acts.get(label, "inform")


def _feeling(label: str) -> Feeling:
    return "angry" if label == "angry" else "frustrated" if label == "frustrated" else "calm"
