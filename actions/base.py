"""Typed bases for our rasa-sdk actions and their access to the shop backend.

rasa-sdk ships without type information, so its classes are ``Any`` to mypy; subclassing them
happens here, once, and every concrete action derives from these typed, abstract bases. The
bases are abstract so rasa-sdk's registry (which instantiates every concrete ``Action``
subclass it finds) skips them.
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT, FormValidationAction
from rasa_sdk.types import DomainDict

from actions.shop.port import ShopBackend
from actions.shop.sqlite import default_shop_dir
from actions.shop_database import default_shop_database, open_shop_database

EventDict = dict[str, Any]


def entity_values(entities: Iterable[Mapping[str, Any]], name: str) -> list[str]:
    """The values of entity ``name`` among a message's NLU ``entities``, in order."""
    return [str(e["value"]) for e in entities if e.get("entity") == name and e.get("value")]


CONTEXT_EXTRACTOR = "context"
"""The extractor the bot names on an entity it filled in from the conversation ("and in black?"
after a product was shown gets that product), not one the shopper wrote."""


def written_entity_values(entities: Iterable[Mapping[str, Any]], name: str) -> list[str]:
    """The values of entity ``name`` that the shopper wrote in the message itself."""
    return entity_values((e for e in entities if e.get("extractor") != CONTEXT_EXTRACTOR), name)


@functools.cache
def shared_backend(directory: Path, database: Path) -> ShopBackend:
    """One backend per shop database for the whole action server, opened on first use.

    rasa-sdk builds each action with no arguments, so the actions cannot be handed a backend;
    sharing one avoids opening the shop once per action class. The database is a file so that
    order changes persist across restarts; ``directory`` seeds it when it does not exist yet.
    """
    return open_shop_database(database, directory)


_installed_backend: ShopBackend | None = None


def install_shop_backend(backend: ShopBackend | None) -> None:
    """Makes every action without a backend of its own use ``backend``.

    For a host that runs this package in its own process (the bot's in-process executor in a
    benchmark, say) and chooses the shop; ``None`` goes back to :func:`shared_backend`.
    """
    global _installed_backend
    _installed_backend = backend


class ShopAccess:
    """Gives an action its shop backend: the one passed in, an installed one, else the default."""

    def __init__(self, backend: ShopBackend | None = None) -> None:
        self._backend = backend

    @property
    def shop(self) -> ShopBackend:
        if self._backend is not None:
            return self._backend
        if _installed_backend is not None:
            return _installed_backend
        return shared_backend(default_shop_dir().resolve(), default_shop_database().resolve())


class ShopAction(ShopAccess, Action, ABC):  # type: ignore[misc]  # rasa-sdk is untyped
    """A rasa-sdk action that reads the shop."""

    @abstractmethod
    def name(self) -> str:
        """The action's name as the domain lists it."""

    @abstractmethod
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventDict]:
        """Runs the action: messages go to ``dispatcher``, events are returned."""


class ShopFormValidation(ShopAccess, FormValidationAction):  # type: ignore[misc]
    """A form's validation action that always names the next slot to ask for.

    rasa-sdk leaves ``requested_slot`` to Rasa when ``required_slots`` equals the domain's
    list; our own policy only follows what the validation action says, so we always say it.
    """

    @abstractmethod
    def name(self) -> str:
        """``validate_<form name>``."""

    async def next_requested_slot(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> EventDict:
        required = await self.required_slots(self.domain_slots(domain), dispatcher, tracker, domain)
        missing = [slot for slot in required if tracker.slots.get(slot) is None]
        event: EventDict = SlotSet(REQUESTED_SLOT, missing[0] if missing else None)
        return event
