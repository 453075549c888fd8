"""Settings of the agent console and of handoffs: the ``console:`` section and the new keys of
``handoff:`` in ``config.yml``.

Kept beside the console (``bot.config`` includes them) in the style of the other sections:
frozen dataclasses with help text, validated in ``__post_init__`` with the dotted key named.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass, field
from typing import Literal

from bot.errors import ConfigError

TriggerMode = Literal["handoff", "offer", "off"]
TRIGGER_MODES: tuple[str, ...] = ("handoff", "offer", "off")
DAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


def check_mode(key: str, value: str) -> None:
    """Raises ConfigError unless ``value`` is a trigger mode."""
    if value not in TRIGGER_MODES:
        raise ConfigError(key, f"must be one of {', '.join(TRIGGER_MODES)}, got {value!r}")


@dataclass(frozen=True)
class HandoffRule:
    """A shop rule that hands the conversation to a person at once.

    The example that ships: a refund or return request naming more than an amount
    (``intents: [get_refund, return_item]``, ``amount_above: 200``) goes to a person.
    """

    reason: str = field(default="policy_rule", metadata={"help": "recorded as the reason"})
    intents: tuple[str, ...] = field(
        default=(), metadata={"help": "the rule applies to messages read as these intents"}
    )
    amount_above: float | None = field(
        default=None,
        metadata={"help": "... naming a money amount above this (None: any such message)"},
    )

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,39}", self.reason):
            raise ConfigError("handoff.rules.reason", f"{self.reason!r}: use a_snake_name")
        if not self.intents:
            raise ConfigError("handoff.rules.intents", "name at least one intent")


@dataclass(frozen=True)
class SupportHours:
    """When the support team answers; outside them a handed-off shopper is told when."""

    timezone: str = field(default="UTC", metadata={"help": "IANA zone, e.g. America/New_York"})
    days: tuple[str, ...] = field(
        default=DAYS[:5], metadata={"help": "open days: mon tue wed thu fri sat sun"}
    )
    open: str = field(default="08:00", metadata={"help": "opening time, HH:MM local"})
    close: str = field(default="18:00", metadata={"help": "closing time, HH:MM local"})

    def __post_init__(self) -> None:
        try:
            zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ConfigError("handoff.hours.timezone", f"unknown zone {self.timezone!r}") from None
        for day in self.days:
            if day not in DAYS:
                raise ConfigError("handoff.hours.days", f"{day!r} is not one of {DAYS}")
        for key in ("open", "close"):
            if not _CLOCK.fullmatch(getattr(self, key)):
                raise ConfigError(f"handoff.hours.{key}", "use HH:MM (24-hour clock)")
        if self.open >= self.close:
            raise ConfigError("handoff.hours.close", "must be after open")

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def is_open(self, at: dt.datetime) -> bool:
        """Whether ``at`` (any aware time) falls in the support hours."""
        local = at.astimezone(self.zone)
        clock = local.strftime("%H:%M")
        return DAYS[local.weekday()] in self.days and self.open <= clock < self.close

    def next_opening(self, at: dt.datetime) -> dt.datetime:
        """The next time the team is in, local to the shop (``at`` itself when open)."""
        if self.is_open(at) or not self.days:
            return at.astimezone(self.zone)
        local = at.astimezone(self.zone)
        hour, minute = (int(p) for p in self.open.split(":"))
        for ahead in range(8):
            day = local.date() + dt.timedelta(days=ahead)
            opening = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=self.zone)
            if DAYS[day.weekday()] in self.days and opening > local:
                return opening
        return local  # unreachable with at least one open day


@dataclass(frozen=True)
class ConsoleConfig:
    """The support agent console (bot/console/): accounts, sign-in and its database."""

    enabled: bool = field(default=True, metadata={"help": "serve /console and its API"})
    database: str = field(
        default="sqlite:///var/console.sqlite",
        metadata={
            "help": "accounts, notes, CSAT copies, analytics and the handoff queue: "
            "sqlite:///relative/or/absolute/path, or postgresql://user@host:5432/db"
        },
    )
    migrate_on_start: bool = field(
        default=True,
        metadata={
            "help": "apply schema migrations at start (else `python -m bot console migrate`)"
        },
    )
    session_hours: float = field(default=12.0, metadata={"help": "a sign-in lasts this long"})
    insecure_localhost_cookie: bool = field(
        default=False,
        metadata={
            "help": "leave Secure off the session cookie for http://localhost and 127.0.0.1 "
            "only (local development and tests; every other host gets Secure)"
        },
    )
    max_failed_logins: int = field(
        default=5, metadata={"help": "wrong passwords in a row before the account is locked"}
    )
    lockout_minutes: float = field(default=15.0, metadata={"help": "how long a lock lasts"})
    presence_ttl_s: float = field(
        default=60.0, metadata={"help": "an agent counts as online this long after a heartbeat"}
    )
    analytics_days: int = field(default=30, metadata={"help": "days the analytics page shows"})
    retention_days: float = field(
        default=180.0,
        metadata={
            "help": "notes, CSAT copies, customer links and finished handoffs older than this "
            "are deleted (0 = kept until erased)"
        },
    )
    analytics_retention_days: float = field(
        default=400.0,
        metadata={
            "help": "analytics log entries older than this are deleted (0 = kept); at least "
            "analytics_days"
        },
    )
    purge_interval_hours: float = field(
        default=6.0,
        metadata={"help": "how often each worker deletes what is past retention (0 = never; "
                  "`python -m bot console purge` does it once)"},
    )  # fmt: skip

    def __post_init__(self) -> None:
        if not self.database.startswith(("sqlite://", "postgresql://", "postgres://")):
            raise ConfigError(
                "console.database", f"{self.database!r}: use sqlite:///… or postgresql://…"
            )
        if self.session_hours <= 0:
            raise ConfigError("console.session_hours", "must be positive")
        if self.max_failed_logins < 1:
            raise ConfigError("console.max_failed_logins", "must be at least 1")
        if self.lockout_minutes <= 0 or self.presence_ttl_s <= 0:
            raise ConfigError("console.lockout_minutes", "must be positive")
        if self.analytics_days < 1:
            raise ConfigError("console.analytics_days", "must be at least 1")
        if self.retention_days < 0:
            raise ConfigError("console.retention_days", "must be 0 (keep) or positive")
        if self.analytics_retention_days < 0 or (
            0 < self.analytics_retention_days < self.analytics_days
        ):
            raise ConfigError(
                "console.analytics_retention_days",
                f"must be 0 (keep) or at least analytics_days ({self.analytics_days})",
            )
        if self.purge_interval_hours < 0:
            raise ConfigError("console.purge_interval_hours", "must be 0 (off) or positive")
