"""The form validation shared by every form that must first know who the shopper is.

Slots: ``email`` *or* ``customer_name`` + ``zip_code`` identify the shopper; the result is the
``customer_id`` slot, which later forms reuse so a shopper is asked only once per session.
Email is asked by default; the name-and-zip path is taken as soon as the shopper offers a name
or a zip code (for example after an email that we could not find).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from rasa_sdk.types import DomainDict

from actions.base import EventDict, ShopFormValidation
from actions.identity import (
    MSG_NAME_FORMAT,
    MSG_ZIP_FORMAT,
    identify_by_email,
    identify_by_name_zip,
    identify_by_zip_and_words,
    parse_full_name,
    parse_zip,
)
from actions.locale import Messages
from actions.recommend.profile import build_profile
from actions.shop.port import Customer

BY_EMAIL = ["email"]
BY_NAME_ZIP = ["customer_name", "zip_code"]
CUSTOMER_ID = "customer_id"
CUSTOMER_PROFILE = "customer_profile"
# How far back the shopper's messages are searched for their name beside a zip code.
_NAME_SEARCH_TURNS = 3

SlotValues = dict[str, Any]


class IdentifyingFormValidation(ShopFormValidation):
    """Validates the identity slots, then the form's own slots (:meth:`task_slots`)."""

    def task_slots(self, customer: Customer | None, tracker: Tracker) -> list[str]:
        """The form's slots after identification; ``customer`` is ``None`` until identified."""
        return []

    def on_identified(
        self, customer: Customer, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> SlotValues:
        """Slot values to set in the turn the shopper is identified (none by default)."""
        return {}

    def current_customer(self, tracker: Tracker) -> Customer | None:
        """The identified customer, from the ``customer_id`` slot."""
        user_id = tracker.slots.get(CUSTOMER_ID)
        return self.shop.get_customer(str(user_id)) if user_id else None

    def domain_slots(self, domain: DomainDict) -> list[str]:
        # The identity slots belong to the form even where the domain lists only ``email``.
        own: list[str] = super().domain_slots(domain)
        return list(dict.fromkeys([*BY_EMAIL, *BY_NAME_ZIP, *own]))

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        customer = self.current_customer(tracker)
        if customer is not None:
            return self.task_slots(customer, tracker)
        # An email just given wins; otherwise a name or zip offered switches to that path,
        # and the path stays chosen while we are asking for its slots.
        on_name_path = tracker.slots.get(REQUESTED_SLOT) in BY_NAME_ZIP or any(
            tracker.slots.get(slot) is not None for slot in BY_NAME_ZIP
        )
        uses_email = tracker.slots.get("email") is not None or not on_name_path
        identity = BY_EMAIL if uses_email else BY_NAME_ZIP
        return [*identity, *self.task_slots(None, tracker)]

    def validate_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> SlotValues:
        """Looks the email up; on success sets ``customer_id`` and the normalised email."""
        result = identify_by_email(self.shop, str(value))
        if result.customer is None:
            dispatcher.utter_message(text=Messages.for_tracker(tracker).text(str(result.message)))
            return {"email": None}
        return {"email": result.customer.email.lower(), **self._identified(result.customer)}

    def validate_customer_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> SlotValues:
        """Accepts a first and last name; the look-up waits for the zip code."""
        name = parse_full_name(str(value))
        if name is None:
            dispatcher.utter_message(text=Messages.for_tracker(tracker).text(MSG_NAME_FORMAT))
        return {"customer_name": name}

    def validate_zip_code(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> SlotValues:
        """Accepts a five-digit zip code; the look-up waits for the name."""
        zip_code = parse_zip(str(value))
        if zip_code is None:
            dispatcher.utter_message(text=Messages.for_tracker(tracker).text(MSG_ZIP_FORMAT))
        return {"zip_code": zip_code}

    def _identify_by_name_zip(
        self, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> SlotValues:
        name = parse_full_name(str(tracker.slots.get("customer_name") or ""))
        zip_code = parse_zip(str(tracker.slots.get("zip_code") or ""))
        if zip_code is None:
            return {}
        written = identify_by_zip_and_words(self.shop, zip_code, recent_user_texts(tracker))
        if written is not None:
            # The one account of this zip code whose name the shopper wrote, whether a rule
            # picked the name out, picked a wrong one ("Si Dale" from "si dale") or none.
            return {**self._identified(written), "customer_name": written.full_name}
        if name is None:
            return {}
        result = identify_by_name_zip(self.shop, name, zip_code)
        if result.customer is None:
            dispatcher.utter_message(text=Messages.for_tracker(tracker).text(str(result.message)))
            # The message offers email instead, so the next question is the email one (whose
            # wording also offers name and zip again); only the path choice reads this.
            tracker.slots[REQUESTED_SLOT] = None
            return {"customer_name": None, "zip_code": None}
        return {**self._identified(result.customer), "customer_name": result.customer.full_name}

    def _identified(self, customer: Customer) -> SlotValues:
        """The customer's id, and their buying profile for agents and the answer prompt."""
        profile = build_profile(self.shop, customer.user_id)
        return {CUSTOMER_ID: customer.user_id, CUSTOMER_PROFILE: profile.to_dict()}

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventDict]:
        # Name and zip arrive in either order and often in different turns, so the look-up
        # runs here, once both are valid, rather than inside either slot's validator.
        identified = self.current_customer(tracker)
        was_identified = identified is not None
        extra: SlotValues = {}
        if identified is not None:
            extra = self._keep_identity(identified, dispatcher, tracker)
        events: list[EventDict] = await super().get_validation_events(dispatcher, tracker, domain)
        if tracker.slots.get(CUSTOMER_ID) is None:
            extra = self._identify_by_name_zip(dispatcher, tracker)
            tracker.slots.update(extra)
        customer = None if was_identified else self.current_customer(tracker)
        if customer is not None:
            follow_up = self.on_identified(customer, dispatcher, tracker)
            tracker.slots.update(follow_up)
            extra.update(follow_up)
        return events + [SlotSet(slot, value) for slot, value in extra.items()]

    def _keep_identity(
        self, customer: Customer, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> SlotValues:
        """One customer per conversation: another account's email or name is refused.

        Nothing says whether that other account exists; the identified one stays.
        """
        email = tracker.slots.get("email")
        name = tracker.slots.get("customer_name")
        other_email = email is not None and str(email).strip().lower() != customer.email.lower()
        full_name = parse_full_name(str(name)) if name is not None else None
        other_name = full_name is not None and full_name.lower() != customer.full_name.lower()
        if not (other_email or other_name):
            return {}
        dispatcher.utter_message(text=Messages.for_tracker(tracker).text("identity.one_customer"))
        kept: SlotValues = {"email": customer.email.lower(), "customer_name": customer.full_name}
        tracker.slots.update(kept)
        return kept


def recent_user_texts(tracker: Tracker) -> list[str]:
    """The shopper's last few messages, newest first (the latest one included)."""
    texts = [
        str(event.get("text") or "")
        for event in reversed(tracker.events)
        if event.get("event") == "user" and not str(event.get("text") or "").startswith("/")
    ]
    latest = str((tracker.latest_message or {}).get("text") or "")
    if latest and (not texts or texts[0] != latest):
        texts.insert(0, latest)
    return texts[:_NAME_SEARCH_TURNS]
