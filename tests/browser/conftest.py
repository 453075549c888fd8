"""Real Chromium (Debian's, never a downloaded one) against the real bot on a real port.

The bot is the whole thing: MiniLM NLU, the rasa-sdk action server in its own process on the
demo shop, a session store, and a generator that streams (it reads the best passage back, so
answers stream as a model's would). Tests skip with a reason when Chromium or Playwright is
missing (``apt-get install chromium``; ``pip install -e '.[dev]'``).
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from bot.composition import build_app
from bot.config import ROOT, Settings
from bot.nlu.encoder import CachedEncoder
from bot.sessions import MemorySessionStore, SessionStore
from tests.browser.echo_generator import PassageEchoGenerator
from tests.integration.conftest import action_server_url, minilm, settings  # noqa: F401

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

CHROMIUM = Path(os.environ.get("CONCIERGE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = ROOT / "tests" / "artifacts"
DESKTOP = {"width": 1280, "height": 800}
MOBILE = {"width": 390, "height": 844}
EMMA = "emma.nguyen9006@example.com"


def _missing() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not installed (pip install -e '.[dev]')"
    if not CHROMIUM.exists():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    return None


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    reason = _missing()
    if reason:
        pytest.skip(reason)
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            await launched.close()


@dataclass
class Bot:
    """The running bot: its address and its session store (to look at what was stored)."""

    url: str
    store: SessionStore

    @property
    def origin(self) -> str:
        return self.url.rstrip("/")


async def start_bot(
    aiohttp_server: Any,
    base: Settings,
    encoder: CachedEncoder,
    *,
    streaming: bool = False,
    **widget: Any,
) -> Bot:
    """The bot on a free port of 127.0.0.1, with ``widget`` settings changed.

    ``streaming`` answers knowledge questions with a generator (which reads the passage back),
    so answers stream; without it they are the best passage, as with the shipped config.
    """
    configured = replace(base, widget=replace(base.widget, **widget))
    store = MemorySessionStore()
    generator = PassageEchoGenerator() if streaming else None
    app = build_app(configured, encoder=encoder, store=store, generator=generator)
    server = await aiohttp_server(app, host="127.0.0.1")
    return Bot(str(server.make_url("/")), store)


@pytest.fixture
async def bot(aiohttp_server: Any, settings: Settings, minilm: CachedEncoder) -> Bot:  # noqa: F811
    return await start_bot(aiohttp_server, settings, minilm)


@pytest.fixture
async def streaming_bot(
    aiohttp_server: Any,
    settings: Settings,  # noqa: F811
    minilm: CachedEncoder,  # noqa: F811
) -> Bot:
    return await start_bot(aiohttp_server, settings, minilm, streaming=True)


class Chat:
    """The widget on a page, driven as a shopper would (its parts live in a shadow root,
    which Playwright's CSS locators pierce)."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.launcher = page.locator(".launcher")
        self.panel = page.locator(".panel")
        self.input = page.locator("textarea#concierge-input")
        self.bot_rows = page.locator(".row.bot:not(.greeting):not(.typing)")
        self.own_rows = page.locator(".row.me")

    async def focused(self) -> str:
        """What has the focus inside the widget (its class), or "" when nothing there does."""
        result: str = await self.page.evaluate(
            "() => document.querySelector('[data-concierge-widget]')"
            "?.shadowRoot.activeElement?.className || ''"
        )
        return result

    async def open_with_keyboard(self) -> None:
        await self.launcher.wait_for()
        for _ in range(40):
            await self.page.keyboard.press("Tab")
            if await self.focused() == "launcher":
                break
        else:
            raise AssertionError("Tab never reached the chat launcher")
        await self.page.keyboard.press("Enter")
        await self.panel.wait_for()

    async def type(self, text: str) -> None:
        await self.input.focus()
        await self.page.keyboard.type(text)
        await self.page.keyboard.press("Enter")

    async def bot_said(self, count: int) -> None:
        """Waits until the bot's messages number at least ``count`` and none is a draft."""
        await self.page.wait_for_function(
            """n => {
              const root = document.querySelector('[data-concierge-widget]').shadowRoot;
              const rows = root.querySelectorAll('.row.bot[data-event]');
              return rows.length >= n && !root.querySelector('.bubble.draft')
                && !root.querySelector('.row.typing');
            }""",
            arg=count,
            timeout=30_000,
        )

    async def transcript(self) -> list[tuple[str, int, str]]:
        """(kind, event index, text) of every stored message on screen, in order."""
        rows: list[tuple[str, int, str]] = await self.page.evaluate(
            """() => [...document.querySelector('[data-concierge-widget]').shadowRoot
                  .querySelectorAll('[data-event]')]
                .map(r => [r.className, Number(r.dataset.event), r.innerText])"""
        )
        return rows

    async def shows(self, expected: list[tuple[str, int, str]], timeout_ms: int = 10_000) -> None:
        """Waits until the stored messages on screen are ``expected``, in order: frames that
        reach another tab through the feed may still be on their way when its count is met."""
        shown = await self.transcript()
        for _ in range(timeout_ms // 100):
            if shown == expected:
                return
            await self.page.wait_for_timeout(100)
            shown = await self.transcript()
        assert shown == expected


async def new_page(browser: Browser, viewport: dict[str, int] = DESKTOP, **options: Any) -> Page:
    context = await browser.new_context(viewport=viewport, **options)  # type: ignore[arg-type]
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors  # type: ignore[attr-defined]
    return page
