"""Two actions exercising the success and rejection paths of the webhook protocol."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.interfaces import ActionExecutionRejection


class ActionEchoSlot(Action):  # type: ignore[misc]
    """Says the ``email`` slot back and records that it did so in the ``echoed`` slot."""

    def name(self) -> str:
        return "action_echo_slot"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        email = tracker.get_slot("email")
        # Proves the domain arrived: rasa-sdk only hands it to actions when the call carried it.
        dispatcher.utter_message(
            text=f"email={email}", json_message={"intents": len(domain.get("intents", []))}
        )
        return [SlotSet("echoed", email)]


class ActionRefuse(Action):  # type: ignore[misc]
    """Always refuses, as a form validation would for input it cannot use."""

    def name(self) -> str:
        return "action_refuse"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        raise ActionExecutionRejection(self.name(), "no order number given")
