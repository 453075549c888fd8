"""One exception tree for the bot; :mod:`bot.channels.http_errors` maps it to HTTP statuses."""

from __future__ import annotations

import math


class ConciergeError(Exception):
    """Base of every error the bot raises on purpose."""


class ConfigError(ConciergeError):
    """Invalid or missing configuration, raised at start with the offending key."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"config: {key}: {problem}")
        self.key = key
        self.problem = problem


class BadRequest(ConciergeError):
    """A request a client must fix (maps to 400/413/415)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class RateLimited(ConciergeError):
    """A client sent faster than ``server.rate_limit`` allows (429 with ``Retry-After``)."""

    def __init__(self, scope: str, retry_after_s: float) -> None:
        self.retry_after_s = max(1, math.ceil(retry_after_s))
        super().__init__(f"too many requests from this {scope}: retry in {self.retry_after_s} s")
        self.scope = scope


class ConversationBusy(ConciergeError):
    """Another turn holds the conversation's lock for longer than we are willing to wait."""

    def __init__(self, conversation_id: str) -> None:
        super().__init__(f"conversation {conversation_id!r} is busy with another message")
        self.conversation_id = conversation_id


class SessionStoreError(ConciergeError):
    """The session store cannot be reached or refused an operation."""


class LockLost(SessionStoreError):
    """A lock expired or was taken by another holder before it was released."""

    def __init__(self, conversation_id: str) -> None:
        super().__init__(f"lock on conversation {conversation_id!r} was lost before release")
        self.conversation_id = conversation_id


class ActionServerError(ConciergeError):
    """Base for failures talking to the rasa-sdk action server."""

    def __init__(self, action_name: str, message: str) -> None:
        super().__init__(f"action {action_name!r}: {message}")
        self.action_name = action_name


class ActionRejected(ActionServerError):
    """The action server answered 400: the action refused to run (e.g. a form rejection)."""


class ActionNotFound(ActionServerError):
    """The action server answered 404: the action is not registered there (configuration)."""


class ActionServerUnavailable(ActionServerError):
    """The action server could not be reached, timed out, or failed after all retries."""


class ModelNotTrained(ConciergeError):
    """No trained NLU model was found where the configuration points."""
