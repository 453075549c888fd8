"""Intent flows (``data/flows.yml``): how each intent is served."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.errors import ConfigError
from bot.policy.rasa_domain import RasaDomain


@dataclass(frozen=True, slots=True)
class Flow:
    intent: str
    form: str | None = None
    then: str | None = None
    respond: str | None = None
    handoff: bool = False
    offer_handoff: bool = False
    shows_order: bool = False
    """A message of this intent that names an order by its number is served by showing that
    order ("my order #1069673 was supposed to be here already": a complaint about it)."""

    @property
    def answers(self) -> bool:
        return self.form is None and self.then is None and self.respond is None and not self.handoff


@dataclass(frozen=True)
class Flows:
    by_intent: Mapping[str, Flow]

    def for_intent(self, intent: str) -> Flow:
        return self.by_intent.get(intent) or Flow(intent=intent)

    def for_form(self, form: str) -> Flow | None:
        return next((f for f in self.by_intent.values() if f.form == form), None)

    @classmethod
    def load(cls, path: Path, domain: RasaDomain) -> Flows:
        """Reads the flows and checks every name against the domain.

        Raises:
            ConfigError: naming the flow that refers to something undefined.
        """
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except FileNotFoundError:
            raise ConfigError("policy.flows", f"{path} does not exist") from None
        except yaml.YAMLError as exc:
            raise ConfigError("policy.flows", f"{path} is not valid YAML: {exc}") from exc
        flows: dict[str, Flow] = {}
        for intent, spec in (raw.get("flows") or {}).items():
            key = f"policy.flows: {intent}"
            if intent not in domain.intents:
                raise ConfigError(key, "is not an intent of the domain")
            if not isinstance(spec, dict):
                raise ConfigError(key, "must be a mapping")
            known = {"form", "then", "respond", "answer", "handoff", "offer_handoff", "shows_order"}
            unknown = set(spec) - known
            if unknown:
                raise ConfigError(key, f"unknown keys {sorted(unknown)}")
            flow = Flow(
                intent=intent,
                form=spec.get("form"),
                then=spec.get("then"),
                respond=spec.get("respond"),
                handoff=bool(spec.get("handoff", False)),
                offer_handoff=bool(spec.get("offer_handoff", False)),
                shows_order=bool(spec.get("shows_order", False)),
            )
            if flow.form and flow.form not in domain.forms:
                raise ConfigError(key, f"form {flow.form} is not in the domain")
            if flow.form and not flow.then:
                raise ConfigError(key, "a form needs `then`: the action run when it is complete")
            if flow.then and flow.then not in domain.actions:
                raise ConfigError(key, f"action {flow.then} is not in the domain")
            if flow.respond and flow.respond not in domain.responses:
                raise ConfigError(key, f"response {flow.respond} is not in the domain")
            flows[intent] = flow
        return cls(flows)
