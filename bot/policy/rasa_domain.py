"""The Rasa domain file (intents, slots and their mappings, forms, responses) as typed values.

The domain's responses are in the shop's own language; each other language's are in
``<domain's folder>/lang/<language>/responses.yml`` (the same shape as the domain's
``responses:``), so a shop adds a language by adding a file. A response a language lacks is
sent in the shop's language.
"""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.domain import BotMessage, Button
from bot.errors import ConfigError

log = logging.getLogger(__name__)

LANGUAGE_SLOT = "language"
"""The slot the bot sets to the conversation's language before any action runs."""
LANG_FOLDER = "lang"
RESPONSES_FILE = "responses.yml"


@dataclass(frozen=True, slots=True)
class SlotMapping:
    type: str  # from_entity | from_text | from_intent | custom
    entity: str | None = None
    intent: tuple[str, ...] = ()
    value: Any = None
    conditions: tuple[tuple[str | None, str | None], ...] = ()  # (active_loop, requested_slot)

    def applies(self, active_loop: str | None, requested_slot: str | None) -> bool:
        if not self.conditions:
            return True
        return any(
            (loop is None or loop == active_loop) and (slot is None or slot == requested_slot)
            for loop, slot in self.conditions
        )


@dataclass(frozen=True, slots=True)
class Response:
    text: str
    buttons: tuple[Button, ...] = ()


class SafeFormat(dict[str, Any]):
    """``str.format_map`` values that leave unknown ``{names}`` as they are."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@dataclass(frozen=True)
class RasaDomain:
    intents: tuple[str, ...]
    entities: tuple[str, ...]
    slots: Mapping[str, tuple[SlotMapping, ...]]
    forms: Mapping[str, tuple[str, ...]]
    responses: Mapping[str, tuple[Response, ...]]
    actions: tuple[str, ...]
    raw: Mapping[str, Any]
    translations: Mapping[str, Mapping[str, tuple[Response, ...]]] = field(default_factory=dict)
    """Responses by language, then by name (the shop's own language is ``responses``)."""
    raw_translations: Mapping[str, Mapping[str, list[dict[str, Any]]]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> RasaDomain:
        """Reads and checks a domain file.

        Raises:
            ConfigError: the file is missing, not YAML, or refers to undefined names.
        """
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError("policy.domain", f"{path} does not exist") from None
        except yaml.YAMLError as exc:
            raise ConfigError("policy.domain", f"{path} is not valid YAML: {exc}") from exc
        if not isinstance(raw, dict):
            raise ConfigError("policy.domain", f"{path} must be a mapping")
        slots = {
            name: tuple(_mapping(m, name) for m in (spec or {}).get("mappings", []))
            for name, spec in (raw.get("slots") or {}).items()
        }
        forms = {
            name: tuple((spec or {}).get("required_slots", []))
            for name, spec in (raw.get("forms") or {}).items()
        }
        for form, required in forms.items():
            for slot in required:
                if slot not in slots:
                    raise ConfigError(
                        "policy.domain", f"form {form} requires undefined slot {slot}"
                    )
        responses = {
            name: tuple(_response(v, name) for v in variants)
            for name, variants in (raw.get("responses") or {}).items()
        }
        raw_translations = load_translations(path.parent / LANG_FOLDER, responses)
        return cls(
            intents=tuple(raw.get("intents") or ()),
            entities=tuple(raw.get("entities") or ()),
            slots=slots,
            forms=forms,
            responses=responses,
            actions=tuple(raw.get("actions") or ()),
            raw=raw,
            translations={
                language: {
                    name: tuple(_response(v, name) for v in variants)
                    for name, variants in by_name.items()
                }
                for language, by_name in raw_translations.items()
            },
            raw_translations=raw_translations,
        )

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages with translated responses (the shop's own is not among them)."""
        return tuple(sorted(self.translations))

    def variants(self, name: str, language: str | None = None) -> tuple[Response, ...]:
        """The variants of response ``name`` in ``language``, else in the shop's language.

        Raises:
            ConfigError: the domain does not define ``name``.
        """
        variants = self.responses.get(name)
        if not variants:
            raise ConfigError("policy.domain", f"response {name} is not defined")
        # "es-MX" and "ES" are Spanish; the translations are per language, not per region.
        code = re.split(r"[-_]", (language or "").strip().lower(), maxsplit=1)[0]
        translated = self.translations.get(code, {}).get(name)
        return translated or variants

    def render(
        self,
        name: str,
        values: Mapping[str, Any],
        rng: random.Random | None = None,
        *,
        language: str | None = None,
    ) -> BotMessage:
        """One variant of a response with ``{placeholders}`` filled from slots and the shop.

        The variant is in ``language`` when the response has a translation into it, else in
        the shop's own language.
        """
        variants = self.variants(name, language)
        chosen = variants[0] if rng is None else rng.choice(variants)
        fill = SafeFormat({k: v for k, v in values.items() if v is not None})
        return BotMessage(
            text=chosen.text.format_map(fill),
            buttons=tuple(Button(b.title.format_map(fill), b.payload) for b in chosen.buttons),
        )

    def for_action_server(self) -> dict[str, Any]:
        """The domain as rasa-sdk expects it in every webhook call.

        Translations travel as Rasa's conditional response variations, one ``condition`` on
        the ``language`` slot each, as a real Rasa reads them; the shop's own variants keep no
        condition, so they are what a language without a translation gets.
        """
        domain = dict(self.raw)
        responses: dict[str, list[dict[str, Any]]] = {}
        for name, variants in (self.raw.get("responses") or {}).items():
            merged = [dict(variant) for variant in variants]
            for language in self.languages:
                condition = [{"type": "slot", "name": LANGUAGE_SLOT, "value": language}]
                merged += [
                    {**variant, "condition": condition}
                    for variant in self.raw_translations[language].get(name, ())
                ]
            responses[name] = merged
        domain["responses"] = responses
        return domain


def load_translations(
    folder: Path, responses: Mapping[str, tuple[Response, ...]]
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """``<folder>/<language>/responses.yml`` for every language folder that has one.

    A response the domain does not define is left out with a warning: it would never be
    sent, and a shop that drops a response need not edit every language to start.

    Raises:
        ConfigError: a file is not YAML, or not a mapping of response names to variants.
    """
    found: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for path in sorted(folder.glob(f"*/{RESPONSES_FILE}")) if folder.is_dir() else ():
        language = path.parent.name.lower()
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigError("policy.domain", f"{path} is not valid YAML: {exc}") from exc
        if not isinstance(raw, dict):
            raise ConfigError("policy.domain", f"{path} must map response names to variants")
        for name in [n for n in raw if n not in responses]:
            log.warning("%s: %s is not a domain response; left out", path, name)
            del raw[name]
        for name, variants in raw.items():
            if not isinstance(variants, list) or not variants:
                raise ConfigError("policy.domain", f"{path}: {name} needs a list of variants")
            for variant in variants:
                _response(variant, f"{name} ({language})")
        found[language] = {str(name): [dict(v) for v in variants] for name, variants in raw.items()}
    return found


def _mapping(spec: Any, slot: str) -> SlotMapping:
    if not isinstance(spec, dict) or "type" not in spec:
        raise ConfigError("policy.domain", f"slot {slot} has a mapping without a type")
    conditions = tuple(
        (c.get("active_loop"), c.get("requested_slot")) for c in spec.get("conditions", [])
    )
    intent = spec.get("intent") or ()
    if spec["type"] == "from_intent" and (not intent or "value" not in spec):
        raise ConfigError("policy.domain", f"slot {slot}: from_intent needs `intent` and `value`")
    return SlotMapping(
        type=str(spec["type"]),
        entity=spec.get("entity"),
        intent=(intent,) if isinstance(intent, str) else tuple(intent),
        value=spec.get("value"),
        conditions=conditions,
    )


def _response(spec: Any, name: str) -> Response:
    if not isinstance(spec, dict) or not isinstance(spec.get("text"), str):
        raise ConfigError("policy.domain", f"response {name} needs a text")
    buttons = tuple(Button(str(b["title"]), str(b["payload"])) for b in spec.get("buttons", []))
    return Response(text=spec["text"], buttons=buttons)
