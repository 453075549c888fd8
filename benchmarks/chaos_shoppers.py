"""Simulated shoppers for benchmarks/chaos.py: conversations over REST with retries.

Every message carries a ``message_id`` (the REST channel's idempotency key) and the same id in
its ``metadata`` (kept on the stored user event), so each sent message can be found again in
the stored conversation. A shopper retries a message with the same id after a 503, 409, 429,
502 or a dropped connection (after ``Retry-After`` when given), as a well-behaved client does,
until it is answered or ``give_up_s`` has passed. Every attempt is recorded with its times.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
RETRIED = frozenset({409, 429, 502, 503, 504})
QUESTIONS = ("how do I send a return back?", "does the label cost anything?",
             "what about for exchanges?")  # fmt: skip
SMALL_TALK = ("hello", "how long does shipping take?", "thanks, bye")


def apology_texts() -> frozenset[str]:
    """The bot's apology when the action server cannot be reached (``utter_action_failed``)."""
    import yaml

    domain = yaml.safe_load((ROOT / "data/domain.yml").read_text())
    return frozenset(v["text"] for v in domain["responses"]["utter_action_failed"])


def conversation_mix() -> list[tuple[str, ...]]:
    """Order status (the action server), questions from the shop's pages, greetings.

    None of it needs the generative model, so a turn costs milliseconds on a CPU.
    """
    users = json.loads((ROOT / "data/shop/users.json").read_text())
    orders = [("where is my order?", u["email"], o) for u in users.values() for o in u["orders"]]
    mix: list[tuple[str, ...]] = []
    for index, order in enumerate(orders[:20]):
        mix.append(order)
        mix.append(QUESTIONS if index % 2 else SMALL_TALK)
    return mix


@dataclass
class Attempt:
    started: float
    ended: float
    status: int  # 0: no HTTP answer (connection refused, reset, timed out)
    clear: bool  # a JSON body with an "error", and Retry-After where one must be retried
    replies: int
    detail: str
    apology: bool = False  # answered, but with the apology for an unreachable action server


@dataclass
class Message:
    sender: str
    index: int
    message_id: str
    text: str
    phase: str
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def answered(self) -> bool:
        return any(a.status == 200 for a in self.attempts)

    @property
    def latency_s(self) -> float | None:
        """From the first send to the answer, retries included (what the shopper waits)."""
        if not self.answered:
            return None
        return self.attempts[-1].ended - self.attempts[0].started


async def _attempt(
    session: aiohttp.ClientSession,
    url: str,
    body: dict[str, Any],
    timeout_s: float,
    apologies: frozenset[str],
) -> tuple[Attempt, float]:
    """One POST; the attempt and how long to wait before the next (Retry-After or 0.5 s)."""
    started = time.monotonic()
    try:
        async with session.post(
            url, json=body, timeout=aiohttp.ClientTimeout(total=timeout_s)
        ) as answer:
            raw = await answer.read()
            status = answer.status
            retry_after = answer.headers.get("Retry-After")
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        ended = time.monotonic()
        return Attempt(started, ended, 0, False, 0, f"{type(exc).__name__}: {exc}"[:200]), 0.5
    ended = time.monotonic()
    try:
        parsed: Any = json.loads(raw)
    except ValueError:
        parsed = None
    if status == 200:
        replies = parsed if isinstance(parsed, list) else []
        apology = any(isinstance(r, dict) and r.get("text") in apologies for r in replies)
        return Attempt(started, ended, 200, True, len(replies), "", apology), 0.0
    error = parsed.get("error") if isinstance(parsed, dict) else None
    clear = isinstance(error, str) and bool(error.strip())
    if status in RETRIED:
        clear = clear and retry_after is not None
    detail = f"{status}: {error or raw[:120]!r}"
    wait = 0.5
    if retry_after is not None and retry_after.strip().isdigit():
        wait = min(float(retry_after), 5.0)
    return Attempt(started, ended, status, clear, 0, detail[:200]), wait


@dataclass
class Shoppers:
    """``count`` shoppers talking to ``url`` until :meth:`stop`; every message is kept."""

    url: str
    count: int
    phase: Callable[[], str]
    run_id: str
    think_s: tuple[float, float] = (1.0, 3.0)
    give_up_s: float = 60.0
    attempt_timeout_s: float = 30.0
    messages: list[Message] = field(default_factory=list)
    apologies: frozenset[str] = field(default_factory=apology_texts)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        scripts = conversation_mix()
        # A connection per request: the proxy balances connections, so this spreads turns
        # over the workers as a layer-4 balancer in front of many browsers would.
        connector = aiohttp.TCPConnector(force_close=True, limit=0)
        async with aiohttp.ClientSession(connector=connector) as session:
            await asyncio.gather(
                *(self._shopper(session, number, scripts) for number in range(self.count))
            )

    async def _shopper(
        self, session: aiohttp.ClientSession, number: int, scripts: list[tuple[str, ...]]
    ) -> None:
        rng = random.Random(number)
        await self._pause(rng.uniform(0, self.think_s[1]))  # spread the first messages
        conversation = 0
        while not self._stopping.is_set():
            sender = f"chaos-{self.run_id}-{number}-{conversation}"
            script = scripts[(number + conversation) % len(scripts)]
            for index, text in enumerate(script):
                if self._stopping.is_set():
                    return
                await self._send(session, sender, index, text)
                await self._pause(rng.uniform(*self.think_s))
            conversation += 1

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def _send(
        self, session: aiohttp.ClientSession, sender: str, index: int, text: str
    ) -> None:
        message_id = f"{sender}:{index}"
        message = Message(sender, index, message_id, text, self.phase())
        self.messages.append(message)
        body = {"sender": sender, "message": text, "message_id": message_id,
                "metadata": {"chaos_message_id": message_id}}  # fmt: skip
        deadline = time.monotonic() + self.give_up_s
        while True:
            attempt, wait = await _attempt(
                session, self.url, body, self.attempt_timeout_s, self.apologies
            )
            message.attempts.append(attempt)
            if attempt.status == 200 or time.monotonic() + wait > deadline:
                return
            await asyncio.sleep(wait)
