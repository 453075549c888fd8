"""Helpers for the action tests: a client for the action server's webhook and tracker builders.

Kept out of ``conftest.py`` under a distinct name because this folder is not a package (a
package named ``actions`` here would shadow the real one), and every ``conftest`` module of a
non-package folder is imported under the same name.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from actions.shop.port import Customer, ShopBackend
from bot.domain import ConversationId, Event, TrackerView, action_event, slot_event, user_event

ROOT = Path(__file__).resolve().parents[2]
SHOP_DIR = ROOT / "data" / "shop"
START_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict[str, Any]

    @property
    def texts(self) -> list[str]:
        return [r["text"] for r in self.body.get("responses", []) if r.get("text")]

    @property
    def text(self) -> str:
        return "\n".join(self.texts)

    @property
    def buttons(self) -> list[dict[str, Any]]:
        return [b for r in self.body.get("responses", []) for b in r.get("buttons") or []]

    @property
    def slots(self) -> dict[str, Any]:
        """The final value of every slot the action set, in event order."""
        return {e["name"]: e["value"] for e in self.body.get("events", []) if e["event"] == "slot"}


class ActionServer:
    """A running ``python -m rasa_sdk --actions actions`` and a way to call its webhook."""

    def __init__(self, url: str, domain: dict[str, Any]) -> None:
        self.url = url
        self.domain = domain
        self.slot_names = list(domain["slots"])

    def registered_actions(self) -> list[str]:
        """The names the server lists at ``GET /actions``."""
        with urllib.request.urlopen(f"{self.url}/actions", timeout=10) as response:
            return [entry["name"] for entry in json.loads(response.read())]

    def call(self, action: str, events: list[Event], sender: str = "shopper") -> Reply:
        """POSTs a rasa-sdk action call with a tracker replayed from ``events``."""
        tracker = TrackerView.replay(ConversationId(sender), events, self.slot_names)
        body = {
            "next_action": action,
            "sender_id": sender,
            "tracker": tracker.to_rasa_state(),
            "domain": self.domain,
            "version": "3.21.1",
        }
        request = urllib.request.Request(
            f"{self.url}/webhook",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return Reply(response.status, json.loads(response.read()))
        except urllib.error.HTTPError as error:
            return Reply(error.code, json.loads(error.read() or b"{}"))


def customer_with_orders(shop: ShopBackend, count: int | None = None) -> Customer:
    """The first demo customer with exactly ``count`` orders (``None``: the most orders)."""
    users = json.loads((SHOP_DIR / "users.json").read_text())
    customers = [shop.get_customer(user_id) for user_id in users]
    known = [c for c in customers if c is not None]
    if count is None:
        return max(known, key=lambda c: len(shop.list_orders(c.user_id)))
    return next(c for c in known if len(shop.list_orders(c.user_id)) == count)


def form_turn(
    form: str, text: str, slots: dict[str, Any], known: dict[str, Any] | None = None
) -> list[Event]:
    """Events of a turn inside ``form``: earlier slots, the message, then its slot candidates."""
    events: list[Event] = [slot_event(name, value) for name, value in (known or {}).items()]
    events += [
        action_event(form),
        {"event": "active_loop", "timestamp": 0.0, "name": form},
        action_event("action_listen"),
        user_event(text, {"intent": {"name": "inform", "confidence": 1.0}, "entities": []}, "rest"),
    ]
    events += [slot_event(name, value) for name, value in slots.items()]
    return events
