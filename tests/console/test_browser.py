"""The console in real Chromium (Debian's, through Playwright, as the widget's browser tests),
with a shopper in the real widget on the demo shop page of the same bot.

Screenshots land in tests/artifacts/ (console-queue.png, console-chat.png,
console-analytics.png). The analytics screenshot adds 30 days of generated log entries
(seeded, marked in the test) so its charts have something to show; every other figure on
these pages comes from what the test did.
"""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path
from typing import Any

import pytest

from bot.console.factory import create_console_store
from bot.console.store import AgentId, AnalyticsEvent, CsatCopy
from bot.sessions import MemorySessionStore
from tests.browser.conftest import ARTIFACTS, Chat, browser, new_page  # noqa: F401
from tests.console.helpers import PASSWORD, add_agent, build, console_settings

pytestmark = pytest.mark.slow

WIDGET_ROWS = "() => document.querySelector('[data-concierge-widget]').shadowRoot"


async def sign_in(page: Any, url: str, email: str) -> None:
    await page.goto(url + "console")
    await page.fill("#login-email", email)
    await page.fill("#login-password", PASSWORD)
    await page.click("#login-form button[type=submit]")
    await page.wait_for_selector("#app:not([hidden])")


async def seed_history(database: str, now: float) -> None:
    """30 days of generated activity for the analytics screenshot (deterministic)."""
    rng = random.Random(19)
    db = create_console_store(database)
    intents = ["track_order", "check_refund_policy", "return_item", "cancel_order",
               "product_question", "shipping_time", "recommend_products", "greet"]  # fmt: skip
    reasons = ["asked", "frustration", "misunderstood", "unanswerable", "action_failed"]
    unanswered = ["do you price match", "can i pay with klarna", "is there a student discount",
                  "do you ship to iceland", "gift wrapping?"]  # fmt: skip
    events: list[AnalyticsEvent] = []
    try:
        agents = {a.name: a.id for a in await db.list_agents()}
        for day in range(30, 0, -1):
            for n in range(rng.randint(18, 40)):
                cid, at = f"seed-{day}-{n}", now - day * 86400 + rng.uniform(0, 80000)
                events.append(AnalyticsEvent("conversation", cid, at))
                for _ in range(rng.randint(1, 4)):
                    intent = rng.choices(intents, weights=[9, 5, 4, 2, 3, 3, 3, 6])[0]
                    events.append(AnalyticsEvent("user", cid, at, {"intent": intent}))
                if rng.random() < 0.08:
                    events.append(AnalyticsEvent("unanswered", cid, at,
                                                 {"text": rng.choice(unanswered)}))  # fmt: skip
                if rng.random() < 0.15:
                    events.append(AnalyticsEvent("recommendation_shown", cid, at, {"count": 3}))
                    if rng.random() < 0.4:
                        events.append(AnalyticsEvent("recommendation_click", cid, at, {}))
                if rng.random() < 0.18:
                    reason = rng.choices(reasons, weights=[6, 2, 2, 2, 1])[0]
                    events.append(AnalyticsEvent("handoff", cid, at, {"reason": reason}))
                    handoff, _ = await db.open_handoff(cid, reason, "webchat", "en", at)
                    agent = rng.choice(list(agents.values()))
                    await db.claim(handoff.id, AgentId(agent), at + rng.uniform(20, 200))
                    await db.first_response(handoff.id, at + rng.uniform(40, 400))
                    await db.finish(handoff.id, "closed", at + 900)
                    score = rng.choices([5, 4, 3, 2, 1], weights=[10, 6, 2, 1, 1])[0]
                    await db.add_csat(CsatCopy(cid, score, None, at + 950, AgentId(agent)))
        await db.log_events(events)
    finally:
        await db.aclose()


async def test_agent_takes_over_a_widget_conversation(
    browser: Any,  # noqa: F811
    aiohttp_server: Any,
    tmp_path: Path,
) -> None:
    database = f"sqlite:///{tmp_path / 'console.sqlite'}"
    settings = console_settings(database)
    store = MemorySessionStore()
    server = await aiohttp_server(build(settings, store), host="127.0.0.1")
    url = str(server.make_url("/"))
    await add_agent(database, "maya@northwind.example", "Maya Lopez")
    await add_agent(database, "ben@northwind.example", "Ben Carter")
    await add_agent(database, "ada@northwind.example", "Ada Brooks", role="admin")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    # A shopper in the widget asks for a person.
    shop = await new_page(browser)
    await shop.goto(url)
    chat = Chat(shop)
    await chat.open_with_keyboard()
    await chat.type("where is my order")
    await chat.bot_said(1)
    await chat.type("I want to talk to a person")
    await chat.bot_said(2)

    # Unauthenticated, the console's API refuses.
    stranger = await new_page(browser)
    await stranger.goto(url + "console")
    await stranger.wait_for_selector("#login:not([hidden])")
    status = await stranger.evaluate("fetch('/console/api/queue').then(r => r.status)")
    assert status == 401

    # Two agents sign in; both see the conversation waiting.
    maya, ben = (
        await new_page(browser, viewport={"width": 1440, "height": 900}),
        await new_page(browser),
    )
    await sign_in(maya, url, "maya@northwind.example")
    await sign_in(ben, url, "ben@northwind.example")
    row = maya.locator(".queue-item").first
    await row.wait_for()
    assert "Asked for a person" in await row.inner_text()
    assert "EN" in await row.inner_text()
    await ben.locator(".queue-item").first.wait_for()
    await maya.screenshot(path=str(ARTIFACTS / "console-queue.png"))

    # CSRF: a state-changing call without the token fails, even signed in.
    status = await maya.evaluate(
        "fetch('/console/api/handoffs/1/claim', {method: 'POST'}).then(r => r.status)"
    )
    assert status == 403

    # Both click Claim at once: exactly one gets the conversation, the other is told.
    await asyncio.gather(
        row.locator(".claim-btn").click(),
        ben.locator(".queue-item .claim-btn").first.click(),
    )
    await maya.wait_for_selector("#chat:not([hidden]), #toast:not([hidden])")
    await ben.wait_for_selector("#chat:not([hidden]), #toast:not([hidden])")
    toasts = [await p.locator("#toast:not([hidden])").count() for p in (maya, ben)]
    assert sorted(toasts) == [0, 1], toasts
    if toasts[0]:  # Ben won the race: he plays the agent from here on
        maya, ben = ben, maya
    loser_toast = await ben.inner_text("#toast")
    assert "Too late" in loser_toast
    agent_name = "Maya Lopez" if toasts[1] else "Ben Carter"
    await maya.wait_for_selector("#chat:not([hidden])")
    await shop.wait_for_function(
        WIDGET_ROWS + f".textContent.includes('{agent_name}')", timeout=10_000
    )

    # The agent sees the transcript with the bot's reading and replies; the shopper sees it.
    await maya.wait_for_selector(".msg.user .reading .chip")
    assert "contact_human_agent" in await maya.inner_text("#transcript")
    await maya.fill("#text", "Hi, I can see your account. Let me check that order for you.")
    await maya.keyboard.press("Enter")
    await shop.locator(".row.agent").first.wait_for(timeout=10_000)
    assert "Let me check that order" in await shop.locator(".row.agent").last.inner_text()
    # The bot stays silent while a person has the conversation.
    bots_before = await chat.bot_rows.count()
    await chat.type("thanks! it was a blue rain jacket")
    await maya.wait_for_function(
        "() => document.querySelector('#transcript').innerText.includes('blue rain jacket')"
    )
    await maya.fill("#text", "Found it: it ships tomorrow.")
    await maya.keyboard.press("Enter")
    await shop.wait_for_function(WIDGET_ROWS + ".textContent.includes('ships tomorrow')")
    assert await chat.bot_rows.count() == bots_before
    await maya.locator("input[name=mode][value=note]").check()
    await maya.fill("#text", "Shopper prefers email updates.")
    await maya.keyboard.press("Enter")
    await maya.wait_for_selector("#notes li")
    await maya.locator("input[name=mode][value=reply]").check()
    await maya.wait_for_selector("#assist .passage, #assist p")
    await maya.screenshot(path=str(ARTIFACTS / "console-chat.png"))

    # Hand back: the bot answers the next message.
    await maya.click("#hand-back")
    await shop.wait_for_function(WIDGET_ROWS + ".textContent.includes('left the chat')")
    await chat.type("hello")
    await chat.bot_said(bots_before + 1)
    assert await chat.bot_rows.count() > bots_before

    # The admin's analytics page (with 30 generated days behind today's real activity).
    await seed_history(database, time.time())
    ada = await new_page(browser, viewport={"width": 1440, "height": 1100})
    await sign_in(ada, url, "ada@northwind.example")
    await ada.goto(url + "console/analytics")
    await ada.wait_for_selector("#kpis .kpi")
    await ada.wait_for_selector("#per-day svg")
    await ada.screenshot(path=str(ARTIFACTS / "console-analytics.png"), full_page=True)
    for page in (shop, stranger, maya, ben, ada):
        assert page.errors == [], page.errors  # type: ignore[attr-defined]
