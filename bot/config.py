"""Settings: frozen dataclasses loaded once from ``config.yml``, overridden by the environment.

Every section is a dataclass with help text; unknown keys and wrong types fail at start with the
dotted key named, so a typo in ``config.yml`` never silently falls back to a default.

Environment overrides: ``CONCIERGE__SECTION__KEY=value`` for any key, and
``CONCIERGE__SECTION__SUB__KEY`` for a nested one (``CONCIERGE__CHANNELS__TELEGRAM__BOT_TOKEN``).
The value is parsed as YAML, so ``0.5``, ``true`` and ``[a, b]`` work, except for text keys,
which take it as written (a token such as ``0777`` or ``1e5`` must not become a number), plus
the conventional shortcuts ``REDIS_URL``
(``sessions.url``), ``CONCIERGE_ACTION_SERVER_URL`` (``action_server.url``) and ``PORT``
(``server.port``).
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

import yaml

from bot.channels.rest_limits import RateLimitConfig
from bot.channels.settings import ChannelsConfig
from bot.console.settings import (
    ConsoleConfig,
    HandoffRule,
    SupportHours,
    check_mode,
)
from bot.errors import ConfigError
from bot.observability.settings import LoggingConfig

ROOT = Path(__file__).resolve().parent.parent
"""The repository root: relative paths in config.yml are resolved against it."""


@dataclass(frozen=True)
class ShopProfile:
    name: str = field(
        default="Northwind Outfitters", metadata={"help": "shop name shown to shoppers"}
    )
    website_url: str = field(default="https://northwind.example", metadata={"help": "shop website"})
    support_email: str = field(default="help@northwind.example", metadata={"help": "support email"})
    support_phone: str = field(default="+1 555 0100", metadata={"help": "support phone"})
    support_hours: str = field(
        default="Monday to Friday, 8am to 6pm Eastern", metadata={"help": "when humans answer"}
    )

    def placeholders(self) -> dict[str, str]:
        """Values for ``{{Placeholder}}`` text in the knowledge base and ``{name}`` in responses."""
        return {
            "shop_name": self.name,
            "website_url": self.website_url,
            "support_email": self.support_email,
            "support_phone": self.support_phone,
            "support_hours": self.support_hours,
        }


@dataclass(frozen=True)
class ShopStoreConfig:
    """Where the action server's shop lives (the embedded SQLite adapter)."""

    data_dir: str = field(
        default="data/shop",
        metadata={"help": "shop JSON (users, orders, products; tau-bench shape) seeding the store"},
    )
    database: str = field(
        default="var/shop.sqlite",
        metadata={"help": "SQLite file with every change made; built from data_dir if missing"},
    )

    def environment(self, settings: Settings) -> dict[str, str]:
        """The variables that point an action server process at this store."""
        return {
            "CONCIERGE_SHOP_DIR": str(settings.path(self.data_dir)),
            "CONCIERGE_SHOP_DB": str(settings.path(self.database)),
        }


@dataclass(frozen=True)
class ServerConfig:
    host: str = field(default="127.0.0.1", metadata={"help": "address the bot listens on"})
    port: int = field(default=5005, metadata={"help": "port of the REST API"})
    max_body_bytes: int = field(
        default=65536, metadata={"help": "largest accepted request body; larger is 413"}
    )
    max_message_chars: int = field(
        default=4000, metadata={"help": "longest shopper message; longer is 413"}
    )
    api_token: str = field(
        default="", metadata={"help": "bearer token for /conversations admin API; empty = disabled"}
    )
    rate_limit: RateLimitConfig = field(
        default_factory=RateLimitConfig,
        metadata={"help": "per-sender and per-address limits of the REST endpoints (429)"},
    )

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ConfigError("server.port", f"{self.port} is not a TCP port")
        if self.max_body_bytes < 1024:
            raise ConfigError("server.max_body_bytes", "must be at least 1024")


@dataclass(frozen=True)
class NLUConfig:
    model_dir: str = field(default="models/nlu", metadata={"help": "trained intent model folder"})
    training_data: str = field(default="data/nlu.yml", metadata={"help": "Rasa NLU YAML"})
    catalog: str = field(
        default="data/shop/products.json", metadata={"help": "product names for entities"}
    )
    threshold: float = field(
        default=0.4, metadata={"help": "intent confidence below this is out_of_scope"}
    )
    batch_max: int = field(default=64, metadata={"help": "most texts encoded in one pass"})
    batch_wait_ms: float = field(
        default=2.0, metadata={"help": "how long a text waits for others to share its pass"}
    )
    cache_size: int = field(
        default=4096, metadata={"help": "texts whose vectors are remembered; 0 = no cache"}
    )
    reading_dir: str = field(
        default="models/reading",
        metadata={"help": "trained act, feeling, follow-up, choice and screening heads"},
    )
    languages: tuple[str, ...] = field(
        default=("en", "zh", "es", "de", "fr"),
        metadata={"help": "languages the shop speaks, its own first (data/lang/<code>/)"},
    )
    choice_min: float = field(
        default=0.5, metadata={"help": "probability a pick among offered options needs"}
    )
    follow_up_min: float = field(
        default=0.5, metadata={"help": "probability that makes a message a follow-up"}
    )
    upset_min: float = field(
        default=0.65,
        metadata={"help": "probability of frustrated or angry that makes a message upset"},
    )
    screening_min: float = field(
        default=0.85,
        metadata={"help": "probability of some attack at which the screening head refuses"},
    )

    def __post_init__(self) -> None:
        if not 0.0 <= self.threshold <= 1.0:
            raise ConfigError("nlu.threshold", "must be between 0 and 1")
        for key in ("choice_min", "follow_up_min", "upset_min", "screening_min"):
            if not 0.0 <= getattr(self, key) <= 1.0:
                raise ConfigError(f"nlu.{key}", "must be between 0 and 1")
        if not self.languages:
            raise ConfigError("nlu.languages", "name at least one language")
        if self.batch_max < 1:
            raise ConfigError("nlu.batch_max", "must be at least 1")
        if self.cache_size < 0:
            raise ConfigError("nlu.cache_size", "must be 0 (off) or more")


@dataclass(frozen=True)
class PolicyConfig:
    domain: str = field(default="data/domain.yml", metadata={"help": "Rasa domain file"})
    flows: str = field(default="data/flows.yml", metadata={"help": "intent routing file"})
    answer_min_score: float = field(
        default=0.25, metadata={"help": "passages less similar than this are not used"}
    )
    unsure_answer_min_score: float = field(
        default=0.35,
        metadata={"help": "the same bar when the NLU is unsure of the intent (out_of_scope)"},
    )
    switch_confidence: float = field(
        default=0.7, metadata={"help": "confidence needed to leave a form for another topic"}
    )
    request_min_confidence: float = field(
        default=0.9,
        metadata={"help": "a request the act head is less sure of is answered first, its "
                  "flow offered; 0 = act on every request"},
    )  # fmt: skip
    show_min_confidence: float = field(
        default=0.9,
        metadata={"help": "intent confidence at which a flow that only shows the shop "
                  "(recommendations) runs before the knowledge base is asked"},
    )  # fmt: skip
    confirmation_min_confidence: float = field(
        default=0.6,
        metadata={"help": "a yes or no to 'shall I go ahead?' needs this act probability"},
    )
    answer_questions_about_actions: bool = field(
        default=True,
        metadata={
            "help": '"can I cancel an order?" is answered from knowledge when a section is '
            "relevant (else the form starts); false = every business intent starts its form"
        },
    )
    fallbacks_before_handoff_offer: int = field(
        default=2, metadata={"help": "misunderstood turns in a row before offering a person"}
    )
    session_expiration_minutes: float = field(
        default=60.0, metadata={"help": "idle time after which a new session starts; 0 = never"}
    )

    def __post_init__(self) -> None:
        for name in ("answer_min_score", "unsure_answer_min_score"):
            if not -1.0 <= getattr(self, name) <= 1.0:
                raise ConfigError(f"policy.{name}", "must be a cosine similarity, -1 to 1")
        if self.fallbacks_before_handoff_offer < 1:
            raise ConfigError("policy.fallbacks_before_handoff_offer", "must be at least 1")


@dataclass(frozen=True)
class KnowledgeConfig:
    directory: str = field(default="data/knowledge", metadata={"help": "markdown knowledge base"})
    top_k: int = field(default=3, metadata={"help": "passages retrieved per question"})
    question_weight: float = field(
        default=1.0,
        metadata={"help": "weight of a section's example questions in ranking; 0 = none"},
    )
    question_match: float = field(
        default=0.55,
        metadata={
            "help": "an example question this near makes its section relevant whatever the "
            "answer bars; above 1 = never"
        },
    )
    follow_up_weight: float = field(
        default=0.75,
        metadata={
            "help": "weight of the previous answer's topic when the next message is searched "
            '("what about klarna?"); 0 = search every message alone'
        },
    )
    steer_min_confidence: float = field(
        default=0.8,
        metadata={
            "help": "intent confidence from which the message's intent steers retrieval "
            "(passages declaring it rank higher); below it the words alone decide"
        },
    )
    standalone_floor: float = field(
        default=0.20,
        metadata={
            "help": "a message that does not read as a follow-up must be this similar to the "
            "section on its own, whatever the topic"
        },
    )
    cache_dir: str = field(
        default="~/.cache/concierge/knowledge",
        metadata={"help": "passage vectors kept between starts; empty = embed at every start"},
    )
    multilingual_answer_min_score: float = field(
        default=0.15,
        metadata={"help": "answer bar for questions in another language (multilingual encoder)"},
    )
    multilingual_unsure_min_score: float = field(
        default=0.20,
        metadata={"help": "the same when the intent is unknown"},
    )
    multilingual_question_match: float = field(
        default=0.55,
        metadata={"help": "an example question this near (multilingual encoder) makes its "
                  "section relevant; above 1 = never"},
    )  # fmt: skip

    def __post_init__(self) -> None:
        if self.question_weight < 0:
            raise ConfigError("knowledge.question_weight", "must be >= 0")
        if not 0 <= self.steer_min_confidence <= 1.01:
            raise ConfigError("knowledge.steer_min_confidence", "must be between 0 and 1.01")
        if self.question_match <= 0:
            raise ConfigError("knowledge.question_match", "must be > 0")
        if self.follow_up_weight < 0:
            raise ConfigError("knowledge.follow_up_weight", "must be >= 0")
        if not -1 <= self.standalone_floor <= 1:
            raise ConfigError("knowledge.standalone_floor", "must be in [-1, 1]")


@dataclass(frozen=True)
class SessionsConfig:
    url: str = field(
        default="memory://", metadata={"help": "memory:// (embedded) or redis://host:port/db"}
    )
    ttl_s: float = field(
        default=604800.0, metadata={"help": "conversation lifetime after activity"}
    )
    key_prefix: str = field(default="concierge", metadata={"help": "Redis key prefix"})
    cluster: bool = field(
        default=False,
        metadata={
            "help": "url is one node of a Redis Cluster (redis:// or rediss://); the others "
            "are discovered from it"
        },
    )
    lock_ttl_s: float = field(default=30.0, metadata={"help": "longest a turn may hold its lock"})
    lock_wait_s: float = field(
        default=10.0, metadata={"help": "how long a message waits for the turn before it"}
    )

    def __post_init__(self) -> None:
        scheme = self.url.split("://", 1)[0] if "://" in self.url else ""
        if scheme not in ("memory", "redis", "rediss", "unix"):
            raise ConfigError("sessions.url", f"unsupported store {self.url!r}")
        if self.cluster and scheme not in ("redis", "rediss"):
            raise ConfigError("sessions.cluster", "needs a redis:// or rediss:// sessions.url")
        if self.ttl_s <= 0:
            raise ConfigError("sessions.ttl_s", "must be positive")


@dataclass(frozen=True)
class ActionServerConfig:
    url: str = field(default="http://127.0.0.1:5055", metadata={"help": "rasa-sdk action server"})
    embedded: bool = field(
        default=True, metadata={"help": "`bot run` starts the action server itself"}
    )
    timeout_s: float = field(default=10.0, metadata={"help": "per-call timeout"})
    attempts: int = field(default=3, metadata={"help": "tries for a failing call"})
    backoff_base_s: float = field(default=0.1, metadata={"help": "first retry delay"})
    pick_free_port: bool = field(
        default=False,
        metadata={
            "help": "embedded: when the url's port is taken, start on a free port instead of "
            "refusing to start (the process holding it is named either way)"
        },
    )

    def __post_init__(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise ConfigError("action_server.url", f"{self.url!r} is not an http(s) URL")
        if self.attempts < 1:
            raise ConfigError("action_server.attempts", "must be at least 1")


@dataclass(frozen=True)
class HandoffConfig:
    intents: tuple[str, ...] = field(
        default=("contact_human_agent",), metadata={"help": "intents that hand off at once"}
    )
    offer_on_intents: tuple[str, ...] = field(
        default=("complaint",), metadata={"help": "intents answered with a person offered"}
    )
    # Each trigger below is recorded as the handoff's reason; "offer" asks first, "off" never.
    on_misunderstood: str = field(
        default="offer",
        metadata={
            "help": "after policy.fallbacks_before_handoff_offer misunderstood turns in a row"
        },
    )
    on_frustration: str = field(
        default="handoff", metadata={"help": "the shopper is upset twice in a row"}
    )
    on_unanswerable: str = field(
        default="offer", metadata={"help": "the answer guard found no answer in the shop's pages"}
    )
    on_action_failure: str = field(
        default="offer", metadata={"help": "an action failed (the shop's systems did not answer)"}
    )
    rules: tuple[HandoffRule, ...] = field(
        default=(), metadata={"help": "shop rules that hand off at once (reason, intents, amount)"}
    )
    hours: SupportHours = field(
        default_factory=SupportHours,
        metadata={"help": "support hours: outside them the shopper is told when to expect a reply"},
    )

    def __post_init__(self) -> None:
        for key in ("on_misunderstood", "on_frustration", "on_unanswerable", "on_action_failure"):
            check_mode(f"handoff.{key}", getattr(self, key))


@dataclass(frozen=True)
class GeneratorConfig:
    """The generative answer model; when disabled, answers are the best retrieved passage."""

    enabled: bool = field(default=False, metadata={"help": "answer with the generative model"})
    backend: str = field(
        default="local", metadata={"help": "`local` (transformers here) or `openai` (a server)"}
    )
    model: str = field(
        default="smollm2",
        metadata={"help": "`smollm2`, a local HF model folder or .gguf; the model name for openai"},
    )
    adapter: str = field(
        default="models/generator", metadata={"help": "LoRA adapter folder; '' = base model"}
    )
    cache_dir: str = field(
        default="~/.cache/concierge/models",
        metadata={"help": "where a GGUF model is converted to safetensors once"},
    )
    device: str = field(default="cpu", metadata={"help": "`cpu` or `cuda` (local backend)"})
    max_batch: int = field(default=8, metadata={"help": "generations decoded together"})
    max_waiting: int = field(default=64, metadata={"help": "queued generations before busy"})
    base_url: str = field(
        default="http://127.0.0.1:8000/v1", metadata={"help": "OpenAI-compatible server (openai)"}
    )
    api_key: str = field(default="", metadata={"help": "bearer token for the openai backend"})
    min_overlap: float = field(
        default=0.7,
        metadata={
            "help": "share of an answer sentence's words one passage sentence must hold; 0 = off"
        },
    )
    prompt_passages: int = field(
        default=1, metadata={"help": "retrieved passages put in the prompt, best first"}
    )
    focus_sentences: int = field(
        default=3,
        metadata={"help": "sentences kept of each passage, most relevant first; 0 = all"},
    )
    min_coverage: float = field(
        default=0.85,
        metadata={
            "help": "share of the best passage's sentence nearest the question an answer "
            "must contain, else the passage is sent; 0 = off"
        },
    )
    trust_abstention: bool = field(
        default=False,
        metadata={
            "help": "when the model says the passages do not answer, send only an apology "
            "and the offer of a person; false sends the best passage with the offer"
        },
    )
    max_new_tokens: int = field(default=160, metadata={"help": "longest generated answer"})
    temperature: float = field(default=0.0, metadata={"help": "0 = greedy (repeatable)"})
    timeout_s: float = field(default=30.0, metadata={"help": "a whole answer, queueing included"})

    def __post_init__(self) -> None:
        if self.max_new_tokens < 1:
            raise ConfigError("generator.max_new_tokens", "must be at least 1")
        if self.backend not in ("local", "openai"):
            raise ConfigError("generator.backend", "must be `local` or `openai`")
        if self.temperature < 0:
            raise ConfigError("generator.temperature", "must be >= 0")
        if self.timeout_s <= 0:
            raise ConfigError("generator.timeout_s", "must be positive")
        if not 0 <= self.min_overlap <= 1:
            raise ConfigError("generator.min_overlap", "must be between 0 and 1")
        if self.prompt_passages < 1:
            raise ConfigError("generator.prompt_passages", "must be at least 1")
        if not 0 <= self.min_coverage <= 1:
            raise ConfigError("generator.min_coverage", "must be between 0 and 1")
        if self.focus_sentences < 0:
            raise ConfigError("generator.focus_sentences", "must be 0 (all) or more")
        if self.max_batch < 1 or self.max_waiting < 1:
            raise ConfigError("generator.max_batch", "max_batch and max_waiting must be >= 1")


@dataclass(frozen=True)
class WidgetConfig:
    """The website chat widget's WebSocket channel (bot/channels/webchat.py)."""

    allowed_origins: tuple[str, ...] = field(
        default=("self", "http://localhost:*"),
        metadata={
            "help": "pages that may open the widget's socket: `self` (the bot's own origin), "
            "exact origins, `*` for a port or a leading `*.` for subdomains; others get 403"
        },
    )
    max_frame_bytes: int = field(
        default=16384, metadata={"help": "a larger client frame closes the socket (1009)"}
    )
    connection_rate_per_min: float = field(
        default=20.0, metadata={"help": "messages a connection may send per minute (refill)"}
    )
    connection_burst: int = field(
        default=6, metadata={"help": "messages a connection may send at once (bucket size)"}
    )
    ip_rate_per_min: float = field(
        default=60.0, metadata={"help": "messages all connections of one IP may send per minute"}
    )
    ip_burst: int = field(default=20, metadata={"help": "bucket size of one IP"})
    max_connections_per_ip: int = field(
        default=20, metadata={"help": "open sockets per IP; more are refused with 429"}
    )
    max_refusals: int = field(
        default=10,
        metadata={"help": "refused frames a socket may send a minute; one more closes it (1008)"},
    )
    history_limit: int = field(
        default=200, metadata={"help": "most messages replayed to a widget that reconnects"}
    )
    csat_after_actions: tuple[str, ...] = field(
        default=("utter_goodbye",),
        metadata={"help": "after these responses the widget asks the closing CSAT question"},
    )
    heartbeat_s: float = field(
        default=25.0, metadata={"help": "WebSocket ping interval (keeps proxies from idling out)"}
    )

    def __post_init__(self) -> None:
        if self.max_frame_bytes < 1024:
            raise ConfigError("widget.max_frame_bytes", "must be at least 1024")
        if self.connection_rate_per_min <= 0 or self.ip_rate_per_min <= 0:
            raise ConfigError("widget.connection_rate_per_min", "rates must be positive")
        if self.connection_burst < 1 or self.ip_burst < 1:
            raise ConfigError("widget.connection_burst", "bursts must be at least 1")
        if self.max_connections_per_ip < 1:
            raise ConfigError("widget.max_connections_per_ip", "must be at least 1")
        if self.max_refusals < 1:
            raise ConfigError("widget.max_refusals", "must be at least 1")
        if self.history_limit < 1:
            raise ConfigError("widget.history_limit", "must be at least 1")
        if self.heartbeat_s <= 0:
            raise ConfigError("widget.heartbeat_s", "must be positive")


@dataclass(frozen=True)
class Settings:
    shop: ShopProfile = field(default_factory=ShopProfile)
    shop_store: ShopStoreConfig = field(default_factory=ShopStoreConfig)
    server: ServerConfig = field(default_factory=ServerConfig)
    nlu: NLUConfig = field(default_factory=NLUConfig)
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    knowledge: KnowledgeConfig = field(default_factory=KnowledgeConfig)
    sessions: SessionsConfig = field(default_factory=SessionsConfig)
    action_server: ActionServerConfig = field(default_factory=ActionServerConfig)
    handoff: HandoffConfig = field(default_factory=HandoffConfig)
    generator: GeneratorConfig = field(default_factory=GeneratorConfig)
    channels: ChannelsConfig = field(default_factory=ChannelsConfig)
    widget: WidgetConfig = field(default_factory=WidgetConfig)
    console: ConsoleConfig = field(default_factory=ConsoleConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)

    @property
    def language_dir(self) -> Path:
        """``data/lang`` beside the NLU data: a folder per language (examples, translations)."""
        return self.path(self.nlu.training_data).parent / "lang"

    def path(self, relative: str) -> Path:
        """Resolves a configured path against the repository root."""
        candidate = Path(relative).expanduser()
        return candidate if candidate.is_absolute() else ROOT / candidate


ENV_SHORTCUTS = {
    "REDIS_URL": ("sessions", "url"),
    "CONCIERGE_ACTION_SERVER_URL": ("action_server", "url"),
    "PORT": ("server", "port"),
}


def load_settings(path: Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Loads ``config.yml`` (or ``path``), applies environment overrides and validates.

    Raises:
        ConfigError: naming the first invalid key.
    """
    env = os.environ if env is None else env
    path = path or Path(env.get("CONCIERGE_CONFIG", ROOT / "config.yml"))
    raw: dict[str, Any] = {}
    if path.exists():
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ConfigError(str(path), f"not valid YAML: {exc}") from exc
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(str(path), "must be a mapping of sections")
        raw = loaded or {}
    elif "CONCIERGE_CONFIG" in env:
        raise ConfigError("CONCIERGE_CONFIG", f"{path} does not exist")
    for name, (section, key) in ENV_SHORTCUTS.items():
        if env.get(name):
            raw.setdefault(section, {})
            raw[section] = {**(raw[section] or {}), key: env[name]}
    for name, value in env.items():
        if name.startswith("CONCIERGE__"):
            parts = name[len("CONCIERGE__") :].lower().split("__")
            if len(parts) < 2 or not all(parts):
                raise ConfigError(name, "use CONCIERGE__SECTION__KEY")
            _override(raw, parts, EnvText(value))
    settings: Settings = _build(Settings, raw, "")
    return settings


class EnvText(str):
    """A value from a ``CONCIERGE__…`` variable, parsed once its key's type is known."""


def _override(raw: dict[str, Any], parts: list[str], value: Any) -> None:
    # Each level is copied, so a mapping read from config.yml is never changed in place.
    head, *rest = parts
    if not rest:
        raw[head] = value
        return
    inner = raw.get(head)
    inner = dict(inner) if isinstance(inner, Mapping) else {}
    raw[head] = inner
    _override(inner, rest, value)


def _build(cls: type[Any], data: Any, where: str) -> Any:
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError(where or "config", "must be a mapping")
    hints = get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    for key in data:
        if key not in known:
            raise ConfigError(
                _join(where, str(key)), f"unknown key (known: {', '.join(sorted(known))})"
            )
    values = {key: _coerce(hints[key], value, _join(where, key)) for key, value in data.items()}
    return cls(**values)


def _coerce(hint: Any, value: Any, key: str) -> Any:
    if isinstance(value, EnvText):
        value = str(value) if hint is str else yaml.safe_load(value)
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return _build(hint, value, key)
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        return None if value is None else _coerce(options[0], value, key)
    if origin is tuple:
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list | tuple):
            raise ConfigError(key, f"expected a list, got {value!r}")
        return tuple(_coerce(typing.get_args(hint)[0], v, key) for v in value)
    if hint is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
            return value.lower() in ("true", "1", "yes")
        raise ConfigError(key, f"expected true or false, got {value!r}")
    if hint in (int, float):
        if isinstance(value, bool):
            raise ConfigError(key, f"expected a number, got {value!r}")
        try:
            number = hint(value)
        except (TypeError, ValueError):
            raise ConfigError(key, f"expected a number, got {value!r}") from None
        if hint is int and isinstance(value, float) and not value.is_integer():
            raise ConfigError(key, f"expected a whole number, got {value!r}")
        return number
    if hint is str:
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise ConfigError(key, f"expected text, got {value!r}")
        return str(value)
    return value


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


SECRET_KEYS = frozenset(
    {
        "api_token",
        "api_key",
        "bot_token",
        "secret_token",
        "access_token",
        "app_secret",
        "verify_token",
    }
)
"""Settings that are credentials: `python -m bot config` says whether they are set, not what."""


def describe(settings: Settings) -> str:
    """A YAML dump of the effective settings (for `python -m bot config`), secrets hidden."""
    return yaml.safe_dump(
        _hide_secrets(dataclasses.asdict(settings)), sort_keys=False, allow_unicode=True
    )


def _hide_secrets(values: dict[str, Any]) -> dict[str, Any]:
    shown: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict):
            shown[key] = _hide_secrets(value)
        elif key in SECRET_KEYS and value:
            shown[key] = "<set>"
        else:
            shown[key] = value
    return shown
