"""What a page or a message cannot do to the widget, and what the widget cannot do to a page."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from playwright.async_api import Browser, expect

from bot.channels.webchat_events import Agent, agent_event
from bot.config import Settings
from bot.nlu.encoder import CachedEncoder
from tests.browser.conftest import Bot, Chat, new_page, start_bot
from tests.browser.test_conversation import conversation_id

ATTACK = '<img src=x onerror="window.__pwned = 1"><script>window.__pwned = 2</script>'


async def test_markup_in_any_message_is_shown_as_text_and_never_runs(
    browser: Browser, bot: Bot
) -> None:
    page = await new_page(browser)
    await page.goto(bot.url)
    chat = Chat(page)
    await chat.launcher.click()
    await chat.type(ATTACK)
    await chat.bot_said(1)
    await expect(chat.own_rows.first.locator(".bubble")).to_have_text(ATTACK)
    # An agent's message and name (from the console, through the store) are text as well.
    cid = await conversation_id(page)
    evil = Agent("a-1", '<img src=x onerror="window.__pwned = 3">')
    await bot.store.append(cid, [agent_event("agent_message", evil, ATTACK)])
    await expect(page.locator(".row.agent .bubble")).to_have_text(ATTACK)
    await page.wait_for_timeout(300)
    assert await page.evaluate("window.__pwned") is None
    images = await page.evaluate(
        "() => [...document.querySelector('[data-concierge-widget]').shadowRoot"
        ".querySelectorAll('img, script')].map(n => n.tagName)"
    )
    assert images == []
    assert page.errors == []  # type: ignore[attr-defined]


SHOP_PAGE = """<!doctype html><html lang="fr"><head><title>Another shop</title>
<style>* {{ font-family: serif !important; color: red !important; }}
button {{ display: none !important; }}</style></head>
<body><h1>Une autre boutique</h1>
<script src="{bot}/widget.js" data-accent="#ffd400" data-position="left" async></script>
</body></html>"""


async def shop_site(aiohttp_server: Any, bots: dict[str, str]) -> str:
    """Another site (another port, so another origin) with the widget of ``bots["bot"]``."""

    async def page(request: web.Request) -> web.Response:
        return web.Response(text=SHOP_PAGE.format(bot=bots["bot"]), content_type="text/html")

    app = web.Application()
    app.router.add_get("/", page)
    server = await aiohttp_server(app, host="127.0.0.1")
    return str(server.make_url("/")).rstrip("/")


async def test_a_page_on_an_origin_that_is_not_allowed_cannot_open_the_chat(
    browser: Browser, bot: Bot, aiohttp_server: Any
) -> None:
    site = await shop_site(aiohttp_server, {"bot": bot.origin})
    page = await new_page(browser)
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text))
    await page.goto(site)
    chat = Chat(page)
    await chat.launcher.click()
    await chat.type("where is my order?")
    await page.wait_for_timeout(1500)
    await expect(page.locator(".status")).to_have_attribute("data-state", "connecting")
    # The page is in French (<html lang="fr">), so is the widget.
    await expect(chat.own_rows.first.locator(".meta")).to_have_text("En attente de connexion")
    assert any("403" in text for text in refused), refused
    assert bot.store is not None
    listed, _ = await bot.store.list_conversations()
    assert listed == []


async def test_an_allowed_shop_on_another_origin_gets_the_whole_widget(
    browser: Browser,
    aiohttp_server: Any,
    settings: Settings,
    minilm: CachedEncoder,
) -> None:
    bots: dict[str, str] = {}
    site = await shop_site(aiohttp_server, bots)
    bot = await start_bot(aiohttp_server, settings, minilm, allowed_origins=(site,))
    bots["bot"] = bot.origin
    page = await new_page(browser)
    await page.goto(site)
    chat = Chat(page)
    await chat.launcher.click()
    # The page's CSS hides every button and paints text red; the shadow root keeps it out.
    await expect(chat.launcher).to_be_visible()
    colour = await chat.input.evaluate("node => getComputedStyle(node).color")
    assert colour != "rgb(255, 0, 0)"
    await expect(page.locator(".row.greeting .bubble")).to_contain_text("Bonjour")  # <html lang=fr>
    await chat.type("where is my order?")
    await chat.bot_said(1)
    cid = await conversation_id(page)
    user = next(e for e in await bot.store.events(cid) if e["event"] == "user")
    assert user["metadata"]["language"] == "fr"
    # A light accent gets dark text on it, for contrast.
    ink = await page.locator(".row.me .bubble").evaluate("node => getComputedStyle(node).color")
    assert ink != "rgb(255, 255, 255)"
