"""What a messaging channel says on its own, without running a turn.

These lines answer what the bot cannot read (a sticker, a voice note, a file, an edited
message) and the rare turn that failed; nothing is stored for them, so the conversation's
history holds only what the shopper wrote and the bot answered.
"""

from __future__ import annotations

from typing import Literal

Unreadable = Literal["sticker", "voice", "audio", "photo", "video", "file", "location", "other"]

_WHAT = {
    "sticker": "stickers",
    "voice": "voice messages",
    "audio": "audio",
    "photo": "pictures",
    "video": "videos",
    "file": "files",
    "location": "locations",
    "other": "that kind of message",
}


def cannot_read(kind: Unreadable) -> str:
    """A polite line saying what the bot can read, for a message it cannot."""
    return (
        f"Sorry, I can't read {_WHAT[kind]} yet. Please type your question in a message, "
        "and include your order number if it's about an order."
    )


EDITED = (
    "I only see new messages, not edits. Please send what you meant as a new message and "
    "I'll answer that."
)

TURN_FAILED = (
    "Sorry, something went wrong on our side and I couldn't answer that. Please try again "
    "in a moment."
)

BUTTON_EXPIRED = "That button has expired. Please type your question instead."
