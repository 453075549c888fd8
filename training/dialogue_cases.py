"""Multi-turn evaluation cases (``data/eval/dialogues*.yml``), read and validated once.

The format is documented in ``data/eval/DIALOGUES.md``. Loading fails with the file, the case
and what is wrong, so a typo in a case never silently turns a check off.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.errors import ConciergeError

LANGUAGES = ("en", "zh", "es", "de", "fr")
SHOPS = ("demo", "tau")
KINDS = (
    "context",
    "choice",
    "confirmation",
    "identity",
    "asking",
    "emotion",
    "language",
    "details",
    "knowledge",
    "flow",
    "safety",
)
BEHAVIOURS = (
    "greet",
    "goodbye",
    "thanks",
    "answer",
    "ask_identity",
    "ask_order",
    "ask_items",
    "ask_new_items",
    "ask_payment",
    "ask_address",
    "ask_reason",
    "confirm",
    "order_status",
    "list_orders",
    "product_info",
    "recommend",
    "done",
    "stopped",
    "handoff",
    "offer_person",
    "empathy",
    "refuse",
    "clarify",
)
_EXPECT_KEYS = frozenset(
    {"does", "not", "says_any", "says_all", "says_none", "reply_language", "section"}
)
_END_KEYS = frozenset({"order", "status", "payment_method", "address_contains", "unchanged"})


class CaseError(ConciergeError):
    """A dialogue case file that does not follow data/eval/DIALOGUES.md."""


@dataclass(frozen=True, slots=True)
class Expect:
    """What must hold of the bot's reply to one shopper turn."""

    does: tuple[str, ...] = ()
    does_not: tuple[str, ...] = ()
    says_any: tuple[str, ...] = ()
    says_all: tuple[str, ...] = ()
    says_none: tuple[str, ...] = ()
    reply_language: str | None = None
    section: str | None = None


@dataclass(frozen=True, slots=True)
class TurnCase:
    """One shopper turn: a message, or a press on a button of the bot's latest reply."""

    user: str | None = None
    click: str | int | None = None
    expect: Expect | None = None


@dataclass(frozen=True, slots=True)
class EndState:
    """What the shop's data must look like after the conversation."""

    order: str | None = None
    status: str | None = None
    payment_method: str | None = None
    address_contains: str | None = None
    unchanged: bool = False


@dataclass(frozen=True, slots=True)
class Conversation:
    id: str
    language: str
    kind: str
    turns: tuple[TurnCase, ...]
    end: EndState | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class CaseFile:
    path: Path
    shop: str
    conversations: tuple[Conversation, ...] = field(default_factory=tuple)

    @property
    def checked_turns(self) -> int:
        return sum(1 for c in self.conversations for t in c.turns if t.expect is not None)


def load_case_file(path: Path) -> CaseFile:
    """Reads and validates one case file.

    Raises:
        CaseError: the file is missing, not YAML, or a case breaks the format.
    """
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CaseError(f"{path}: {exc}") from None
    if not isinstance(raw, Mapping) or not isinstance(raw.get("conversations"), list):
        raise CaseError(f"{path}: expected a mapping with a `conversations` list")
    shop = str(raw.get("shop", "demo"))
    if shop not in SHOPS:
        raise CaseError(f"{path}: shop must be one of {SHOPS}, got {shop!r}")
    seen: set[str] = set()
    conversations = []
    for number, item in enumerate(raw["conversations"], 1):
        where = f"{path} conversation {number}"
        conversation = _conversation(item, where)
        if conversation.id in seen:
            raise CaseError(f"{where}: duplicate id {conversation.id!r}")
        seen.add(conversation.id)
        conversations.append(conversation)
    return CaseFile(path, shop, tuple(conversations))


def _conversation(item: Any, where: str) -> Conversation:
    if not isinstance(item, Mapping):
        raise CaseError(f"{where}: must be a mapping")
    cid = str(item.get("id") or "")
    where = f"{where} ({cid})"
    if not cid:
        raise CaseError(f"{where}: missing id")
    language = str(item.get("language", ""))
    if language not in LANGUAGES:
        raise CaseError(f"{where}: language must be one of {LANGUAGES}")
    kind = str(item.get("kind", ""))
    if kind not in KINDS:
        raise CaseError(f"{where}: kind must be one of {KINDS}")
    turns_raw = item.get("turns")
    if not isinstance(turns_raw, list) or not turns_raw:
        raise CaseError(f"{where}: needs a non-empty `turns` list")
    turns = tuple(_turn(t, f"{where} turn {i}") for i, t in enumerate(turns_raw, 1))
    end = _end(item["end"], where) if item.get("end") is not None else None
    return Conversation(cid, language, kind, turns, end, str(item.get("note") or ""))


def _turn(item: Any, where: str) -> TurnCase:
    if not isinstance(item, Mapping):
        raise CaseError(f"{where}: must be a mapping")
    user, click = item.get("user"), item.get("click")
    if (user is None) == (click is None):
        raise CaseError(f"{where}: give exactly one of `user` or `click`")
    if user is not None and (not isinstance(user, str) or not user.strip()):
        raise CaseError(f"{where}: `user` must be a non-empty string")
    if click is not None and not isinstance(click, str | int):
        raise CaseError(f"{where}: `click` must be a button title or a 1-based number")
    expect = _expect(item["expect"], where) if item.get("expect") is not None else None
    return TurnCase(user=user, click=click, expect=expect)


def _expect(item: Any, where: str) -> Expect:
    if not isinstance(item, Mapping):
        raise CaseError(f"{where}: `expect` must be a mapping")
    unknown = set(item) - _EXPECT_KEYS
    if unknown:
        raise CaseError(f"{where}: unknown check(s) {sorted(unknown)}")
    does, does_not = _behaviours(item.get("does"), where), _behaviours(item.get("not"), where)
    language = item.get("reply_language")
    if language is not None and language not in LANGUAGES:
        raise CaseError(f"{where}: reply_language must be one of {LANGUAGES}")
    return Expect(
        does=does,
        does_not=does_not,
        says_any=_texts(item.get("says_any"), where),
        says_all=_texts(item.get("says_all"), where),
        says_none=_texts(item.get("says_none"), where),
        reply_language=language,
        section=str(item["section"]) if item.get("section") else None,
    )


def _behaviours(value: Any, where: str) -> tuple[str, ...]:
    items = _texts(value, where)
    unknown = [b for b in items if b not in BEHAVIOURS]
    if unknown:
        raise CaseError(f"{where}: unknown behaviour(s) {unknown}; see data/eval/DIALOGUES.md")
    return items


def _texts(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str | int | float):
        return (str(value),)
    if not isinstance(value, Sequence):
        raise CaseError(f"{where}: expected a list of texts, got {value!r}")
    return tuple(str(v) for v in value)


def _end(item: Any, where: str) -> EndState:
    if not isinstance(item, Mapping):
        raise CaseError(f"{where}: `end` must be a mapping")
    unknown = set(item) - _END_KEYS
    if unknown:
        raise CaseError(f"{where}: unknown end key(s) {sorted(unknown)}")
    order = item.get("order")
    if any(item.get(k) for k in ("status", "payment_method", "address_contains")) and not order:
        raise CaseError(f"{where}: `end` checks of an order need `order`")
    return EndState(
        order=str(order) if order else None,
        status=str(item["status"]) if item.get("status") else None,
        payment_method=str(item["payment_method"]) if item.get("payment_method") else None,
        address_contains=(str(item["address_contains"]) if item.get("address_contains") else None),
        unchanged=bool(item.get("unchanged")),
    )
