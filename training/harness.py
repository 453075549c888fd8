"""The whole bot with in-memory adapters, for evaluations: one fresh shop and session per case.

Every evaluation runs the real app (channels, NLU, policy, pipeline, rasa-sdk actions) so that
what it measures is what a shopper gets; only the I/O is swapped: the session store is in
memory, the actions run in this process on a private copy of the shop, and the encoders are
shared between cases so that each case starts in milliseconds.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from actions.base import install_shop_backend
from actions.shop.sqlite import SQLiteShopBackend
from actions.shop.tau_bench import DataHasher, import_tau_bench
from bot.action_inprocess import InProcessActionExecutor
from bot.composition import build_app
from bot.config import ROOT, Settings, load_settings
from bot.domain import ConversationId, TrackerView
from bot.nlu.encoder import CachedEncoder, MiniLMEncoder
from bot.sessions.memory import MemorySessionStore

TAU_DIR = ROOT.parent / "shared" / "datasets" / "tau-bench-retail"


def shop_settings(shop: str, base: Settings | None = None) -> Settings:
    """The repository's settings for the demo shop, or pointed at tau-bench's shop.

    tau-bench's shop is configured the way a shop owner would point the bot at their own:
    the shop store seeded from its JSON, the NLU catalog from its ``products.json``, the
    knowledge base from its policy ``wiki.md``.
    """
    base = base or load_settings(ROOT / "config.yml", env={})
    if shop == "demo":
        return base
    if shop != "tau":
        raise ValueError(f"unknown shop {shop!r}")
    if not (TAU_DIR / "orders.json").is_file():
        raise FileNotFoundError(f"tau-bench retail data not found at {TAU_DIR}")
    return replace(
        base,
        shop=replace(base.shop, name="tau-bench retail"),
        shop_store=replace(base.shop_store, data_dir=str(TAU_DIR)),
        nlu=replace(base.nlu, catalog=str(TAU_DIR / "products.json")),
        knowledge=replace(base.knowledge, directory=str(TAU_DIR / "wiki.md")),
    )


@dataclass
class Session:
    """One conversation against a fresh copy of the shop."""

    client: TestClient[Any, Any]
    store: MemorySessionStore
    shop: SQLiteShopBackend
    sender: str

    async def say(self, message: str) -> list[dict[str, Any]]:
        """Sends a message over the Rasa REST channel; returns the replies."""
        response = await self.client.post(
            "/webhooks/rest/webhook", json={"sender": self.sender, "message": message}
        )
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {await response.text()}")
        replies: list[dict[str, Any]] = await response.json()
        return replies

    async def tracker(self) -> tuple[TrackerView, str]:
        """The conversation as stored, and its session mode."""
        events, mode = await self.store.snapshot(ConversationId(self.sender))
        return TrackerView.replay(ConversationId(self.sender), events), mode


class Harness:
    """One running bot for a whole evaluation; a fresh shop copy and session per case.

    The app (and with it the encoders and any generator) is started once by :meth:`running`;
    each :meth:`session` installs a private copy of the shop for the in-process actions and
    talks under a new conversation id, so cases cannot see each other's changes.
    """

    def __init__(self, settings: Settings, **parts: Any) -> None:
        self.settings = settings
        self._parts = parts
        self._base_shop = import_tau_bench(settings.path(settings.shop_store.data_dir))
        self._hasher = DataHasher()
        self._catalog = _product_names(settings.path(settings.nlu.catalog))
        self._client: TestClient[Any, Any] | None = None
        self._store = MemorySessionStore()

    @property
    def product_names(self) -> tuple[str, ...]:
        return self._catalog

    @property
    def app(self) -> Any:
        assert self._client is not None, "use `async with harness.running()` first"
        return self._client.app

    def shop_hash(self, shop: SQLiteShopBackend) -> str:
        return self._hasher.hash(shop)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Harness]:
        """Starts the bot (models load here) and stops it on exit."""
        encoder = MiniLMEncoder()
        encoder.load()
        app = build_app(
            self.settings,
            encoder=CachedEncoder(encoder),
            store=self._store,
            actions=InProcessActionExecutor("actions"),
            **self._parts,
        )
        install_shop_backend(self._base_shop)
        try:
            async with TestClient(TestServer(app)) as client:
                self._client = client
                yield self
        finally:
            self._client = None
            install_shop_backend(None)
            self._base_shop.close()

    @asynccontextmanager
    async def session(self, sender: str) -> AsyncIterator[Session]:
        """A fresh copy of the shop and a new conversation id."""
        assert self._client is not None, "use `async with harness.running()` first"
        shop = self._base_shop.copy()
        install_shop_backend(shop)
        try:
            yield Session(self._client, self._store, shop, sender)
        finally:
            install_shop_backend(self._base_shop)
            shop.close()


def _product_names(path: Path) -> tuple[str, ...]:
    try:
        products = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ()
    return tuple(str(p.get("name")) for p in products.values() if p.get("name"))
