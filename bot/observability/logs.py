"""The bot's log lines: readable text or one JSON object a line, with the conversation id.

The id of the conversation a turn serves is bound to the turn's task (a context variable, so
concurrent turns never see each other's) by the metered pipeline and the REST channel, and
every record logged while it runs carries it as ``conversation_id``; a call can also pass
``extra={"conversation_id": ...}``. ``logging.format: json`` (config.yml) writes each record
as one object with ``time``, ``level``, ``logger``, ``message``, ``conversation_id`` when
there is one, ``exception`` with the traceback, and any other ``extra`` fields.

With ``logging.redact`` (on by default) :class:`RedactingFilter` replaces emails, phone and card
numbers and street addresses in the message, its arguments, text ``extra`` fields and the
traceback (:mod:`bot.privacy.redact`), whatever the format. The conversation id is kept as it
is: it is how an operator finds the conversation (a WhatsApp id is the shopper's number, so a
log collector must be treated as holding it).
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from bot.observability.settings import LoggingConfig
from bot.privacy.redact import redact

_CONVERSATION: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "concierge_conversation_id", default=None
)
# What every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "taskName",
    "conversation",  # set by TextFormatter
}


def bind_conversation(cid: str) -> contextvars.Token[str | None]:
    """Tags this task's log records with ``cid`` until :func:`unbind_conversation`."""
    return _CONVERSATION.set(cid)


def unbind_conversation(token: contextvars.Token[str | None]) -> None:
    _CONVERSATION.reset(token)


def current_conversation() -> str | None:
    """The conversation the running task serves, if any."""
    return _CONVERSATION.get()


class ConversationFilter(logging.Filter):
    """Puts the bound conversation id on each record (``extra=`` wins when it names one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "conversation_id", None) is None:
            record.conversation_id = _CONVERSATION.get()
        return True


class RedactingFilter(logging.Filter):
    """Redacts personal data in each record before any handler formats it.

    The message is rendered once (``msg % args``) and redacted, so a shopper's text passed as
    an argument is caught as well as one written into the message; a traceback is rendered and
    redacted too, since exceptions often quote the input that caused them.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        record.msg, record.args = redact(message), None
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD and key != "conversation_id" and isinstance(value, str):
                setattr(record, key, redact(value))
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line; ASCII-escaped, so no text a client sent can break the line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        cid = getattr(record, "conversation_id", None)
        if cid is not None:
            entry["conversation_id"] = cid
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in entry and key != "conversation_id":
                entry[key] = value
        if record.exc_text:  # already rendered (and redacted) by RedactingFilter
            entry["exception"] = record.exc_text
        elif record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    """The readable line, with ``[conversation <id>]`` after the logger when there is one."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(conversation)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        cid = getattr(record, "conversation_id", None)
        record.conversation = f" [conversation {cid}]" if cid is not None else ""
        return super().format(record)


def configure_logging(
    config: LoggingConfig, *, verbose: bool = False, stream: TextIO | None = None
) -> logging.Handler:
    """Makes the root logger write ``config.format`` lines to ``stream`` (standard error).

    Replaces the root logger's handlers, so calling it again (a test, a reload) does not
    write each line twice. Returns the handler it installed.
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if config.format == "json" else TextFormatter())
    handler.addFilter(ConversationFilter())
    if config.redact:
        handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else config.level.upper())
    return handler
