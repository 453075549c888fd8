"""The ``logging:`` section of ``config.yml`` (kept beside the code that reads it)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.errors import ConfigError

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


@dataclass(frozen=True)
class LoggingConfig:
    """How the bot writes its log (standard error)."""

    format: str = field(
        default="text",
        metadata={
            "help": "`text` (one readable line) or `json` (one object a line, with the "
            "conversation id, for a log collector)"
        },
    )
    level: str = field(default="INFO", metadata={"help": "DEBUG, INFO, WARNING or ERROR"})
    redact: bool = field(
        default=True,
        metadata={
            "help": "replace emails, phone and card numbers and street addresses in log lines "
            "with [email], [phone], [card], [address]"
        },
    )

    def __post_init__(self) -> None:
        if self.format not in ("text", "json"):
            raise ConfigError("logging.format", f"must be `text` or `json`, not {self.format!r}")
        if self.level.upper() not in LEVELS:
            raise ConfigError("logging.level", f"must be one of {', '.join(LEVELS)}")
