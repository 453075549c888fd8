"""Shopper text kept for analytics (unanswered questions, CSAT comments) is redacted before it is
stored, and the analytics page redacts entries written before redaction existed."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from bot.console.analytics import figures
from bot.console.recorder import Recorder, analytics_of
from bot.console.store import AnalyticsEvent, ConsoleStore
from bot.nlu.encoder import CachedEncoder, Vectors
from bot.sessions import MemorySessionStore

NOW = time.time()
QUESTION = "can you ship to Calle Mayor 12, Madrid? call +34 612 345 678"


def unanswered_turn(text: str) -> list[dict[str, Any]]:
    return [
        {"event": "user", "text": text, "timestamp": NOW,
         "parse_data": {"intent": {"name": "out_of_scope"}}},
        {"event": "bot", "text": "Sorry, I did not get that.", "timestamp": NOW,
         "metadata": {"fallback": True}},
    ]  # fmt: skip


def test_unanswered_questions_are_recorded_redacted() -> None:
    entries = analytics_of("c1", 0, unanswered_turn(QUESTION), NOW)
    (unanswered,) = [e for e in entries if e.kind == "unanswered"]
    assert unanswered.data["text"] == "can you ship to [address], Madrid? call [phone]"


async def test_csat_comments_are_kept_redacted(console_store: ConsoleStore) -> None:
    sessions = MemorySessionStore()
    recorder = Recorder(console_store, sessions)
    event = {"event": "csat", "score": 2, "comment": "email me at maya@example.com",
             "timestamp": NOW}  # fmt: skip
    recorder.record("c1", 0, [event])
    await recorder.flush()
    (copy,) = await console_store.csat_since(0)
    assert copy.comment == "email me at [email]"
    await recorder.aclose()


async def test_the_analytics_page_shows_old_entries_redacted(console_store: ConsoleStore) -> None:
    # Written before redaction existed: raw text in the log.
    await console_store.log_events(
        [AnalyticsEvent("unanswered", "c1", NOW, {"text": "my card 4242 4242 4242 4242 failed"})]
    )
    shown = await figures(console_store, days=7, now=NOW + 1)
    assert shown["unanswered"] == [{"text": "my card [card] failed", "count": 1}]


class CountingEncoder:
    dimension = 2

    def __init__(self) -> None:
        self.seen: list[str] = []

    def encode(self, texts: Any) -> Vectors:
        self.seen.extend(texts)
        return np.ones((len(texts), 2), dtype=np.float32)


def test_an_encoder_cache_forgets_a_shoppers_messages() -> None:
    inner = CountingEncoder()
    cache = CachedEncoder(inner, max_entries=10)
    cache.encode(["where is my order", "maya@example.com", "hello"])
    assert cache.forget(["maya@example.com", "never cached", "maya@example.com"]) == 1
    cache.encode(["maya@example.com", "hello"])
    # The forgotten text had to be encoded again; the other was still cached.
    assert inner.seen[3:] == ["maya@example.com"]
