"""The bot's Prometheus metrics (``GET /metrics``), through the official client library.

Each application has a registry of its own, so that two apps in one process (tests, the
benchmarks) never share counts and nothing lives in a module global. What the bot counts as
it happens (turns, intents, handoffs, generations, action calls, HTTP answers) is a
histogram or counter here; what other parts already count (queued background turns,
replies to messaging platforms, refused requests, open widget sockets) is read from them
when Prometheus scrapes.

Label values that come from outside the code (intent names, handoff reasons, action names)
are kept to :data:`MAX_LABEL_VALUES` distinct values per metric; later newcomers are counted
as ``other``, so a client that invents intent payloads cannot grow the registry without end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.domain import Event

MAX_LABEL_VALUES = 200
OTHER = "other"

# Turns take from a few milliseconds (a button) to tens of seconds (a generated answer on CPU).
TURN_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
GENERATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60)
ACTION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

Reading = Callable[[], Mapping[str, float]]


class BoundedLabels:
    """Passes the first ``limit`` distinct values through and maps later ones to ``other``."""

    def __init__(self, limit: int = MAX_LABEL_VALUES) -> None:
        self._limit = limit
        self._seen: set[str] = set()

    def __call__(self, value: str) -> str:
        if value in self._seen:
            return value
        if len(self._seen) >= self._limit:
            return OTHER
        self._seen.add(value)
        return value


class _Readings(Collector):
    """Metrics read from other parts at scrape time (``read`` returns label -> value)."""

    def __init__(
        self, name: str, documentation: str, label: str, read: Reading, *, counter: bool
    ) -> None:
        self._name, self._doc, self._label, self._read = name, documentation, label, read
        self._counter = counter

    def collect(self) -> Iterable[Metric]:
        family: CounterMetricFamily | GaugeMetricFamily
        if self._counter:
            family = CounterMetricFamily(self._name, self._doc, labels=[self._label])
        else:
            family = GaugeMetricFamily(self._name, self._doc, labels=[self._label])
        for value, number in self._read().items():
            family.add_metric([value], float(number))
        yield family


class Metrics:
    """Every metric of one bot application."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.turn_seconds = Histogram(
            "concierge_turn_seconds",
            "Time a turn took, from the message to the replies, by channel and outcome",
            ["channel", "outcome"],
            buckets=TURN_BUCKETS,
            registry=registry,
        )
        self.intents = Counter(
            "concierge_intents", "Shopper messages by the intent the bot read", ["intent"],
            registry=registry,
        )  # fmt: skip
        self.handoffs = Counter(
            "concierge_handoffs", "Conversations handed to a person, by reason", ["reason"],
            registry=registry,
        )  # fmt: skip
        self.generation_seconds = Histogram(
            "concierge_generation_seconds",
            "Time the answer model took for a whole answer, queueing included, by outcome",
            ["outcome"],
            buckets=GENERATION_BUCKETS,
            registry=registry,
        )
        self.generation_first_text_seconds = Histogram(
            "concierge_generation_first_text_seconds",
            "Time until the answer model produced its first text",
            buckets=GENERATION_BUCKETS,
            registry=registry,
        )
        self.action_seconds = Histogram(
            "concierge_action_seconds",
            "Time a call to the action server took, by action",
            ["action"],
            buckets=ACTION_BUCKETS,
            registry=registry,
        )
        self.action_errors = Counter(
            "concierge_action_server_errors",
            "Failed calls to the action server, by action and kind "
            "(unavailable, not_found, rejected: a form's validation refused, error)",
            ["action", "kind"],
            registry=registry,
        )
        self.http_responses = Counter(
            "concierge_http_responses",
            "HTTP answers by method, route and status",
            ["method", "route", "status"],
            registry=registry,
        )
        self._intent = BoundedLabels()
        self._reason = BoundedLabels()
        self._action = BoundedLabels()

    def watch(
        self, name: str, documentation: str, label: str, read: Reading, *, counter: bool = False
    ) -> None:
        """Registers figures another part keeps, read when Prometheus scrapes.

        Args:
            name: the metric's name (counters: without ``_total``, the library adds it).
            documentation: its help text.
            label: the label the keys of ``read()`` become.
            read: returns the current figures, label value -> number.
            counter: the figures only grow (a counter); else they are a gauge.
        """
        self.registry.register(_Readings(name, documentation, label, read, counter=counter))

    def count_turn_events(self, events: Sequence[Event]) -> None:
        """Counts the intents read and the handoffs made in events a turn appended.

        A handoff is the bot event whose metadata carries ``handoff_reason`` (bot/pipeline.py).
        """
        for event in events:
            kind = event.get("event")
            if kind == "user":
                intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
                if isinstance(intent, str) and intent:
                    self.intents.labels(self._intent(intent)).inc()
            elif kind == "bot":
                reason = (event.get("metadata") or {}).get("handoff_reason")
                if isinstance(reason, str) and reason:
                    self.handoffs.labels(self._reason(reason)).inc()

    def action_label(self, action: str) -> str:
        """``action`` as a label value (bounded)."""
        return self._action(action)
