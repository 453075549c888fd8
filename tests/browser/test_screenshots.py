"""Screenshots of the widget mid-conversation (desktop and phone), saved for people to look at.

tests/artifacts/widget-desktop.png   1280 x 800, the demo shop with the chat open
tests/artifacts/widget-mobile.png    390 x 844, the chat full screen
"""

from __future__ import annotations

from playwright.async_api import Browser, Page, expect

from bot.channels.webchat_events import Agent, agent_event
from tests.browser.conftest import ARTIFACTS, DESKTOP, EMMA, MOBILE, Bot, Chat, new_page
from tests.browser.test_conversation import conversation_id


async def converse(page: Page, bot: Bot) -> Chat:
    await page.goto(bot.url)
    chat = Chat(page)
    await chat.launcher.click()
    await chat.type("Can you recommend something for hiking?")
    await chat.bot_said(1)
    await expect(page.locator(".card").first).to_be_visible()
    await chat.type("can I return worn shoes?")
    await chat.bot_said(3)
    await expect(page.locator(".replies .chip").last).to_be_visible()
    # The shopper scrolls back up to the picks; the offer's quick replies wait by the input.
    await page.evaluate(
        """() => {
          const root = document.querySelector('[data-concierge-widget]').shadowRoot;
          const log = root.querySelector('.log');
          const picks = root.querySelector('.row:has(.cards)');
          log.style.scrollBehavior = 'auto';
          log.scrollTop = picks.offsetTop - log.offsetTop - 12;
        }"""
    )
    await page.wait_for_timeout(400)  # images decoded, animations settled
    return chat


async def test_desktop_screenshot(browser: Browser, bot: Bot) -> None:
    page = await new_page(browser, DESKTOP)
    await converse(page, bot)
    await page.screenshot(path=ARTIFACTS / "widget-desktop.png")
    assert page.errors == []  # type: ignore[attr-defined]


async def test_mobile_screenshot(browser: Browser, bot: Bot) -> None:
    page = await new_page(browser, MOBILE, is_mobile=True, has_touch=True, device_scale_factor=2)
    await converse(page, bot)
    panel = await page.locator(".panel").bounding_box()
    assert panel is not None
    assert (panel["width"], panel["height"]) == (MOBILE["width"], MOBILE["height"])  # full screen
    await page.screenshot(path=ARTIFACTS / "widget-mobile.png")


async def test_greeting_screenshot(browser: Browser, bot: Bot) -> None:
    """A first visit: the greeting and the suggested first questions."""
    page = await new_page(browser, DESKTOP)
    await page.goto(bot.url)
    chat = Chat(page)
    await chat.launcher.click()
    await expect(page.locator(".replies .chip")).to_have_count(3)
    await page.wait_for_timeout(300)
    await page.screenshot(path=ARTIFACTS / "widget-greeting.png")


async def test_orders_agent_and_rating_screenshot(browser: Browser, bot: Bot) -> None:
    """Order rows, a person from the team joining, thumbs and the closing question."""
    page = await new_page(browser, MOBILE, is_mobile=True, has_touch=True, device_scale_factor=2)
    await page.goto(bot.url)
    chat = Chat(page)
    await chat.launcher.click()
    await chat.type("where is my order?")
    await chat.bot_said(1)
    await chat.type(EMMA)
    await chat.bot_said(2)
    await expect(page.locator("button.order").first).to_be_visible()
    await page.locator(".rate button[data-value='up']").last.click()
    await expect(page.locator(".rate-thanks")).to_be_visible()
    cid = await conversation_id(page)
    maya = Agent("a-17", "Maya")
    await bot.store.append(cid, [agent_event("agent_joined", maya)])
    await bot.store.append(
        cid, [agent_event("agent_message", maya, "Hi Emma, I'm Maya. Which order can I help with?")]
    )
    await expect(page.locator(".row.agent .bubble")).to_be_visible()
    await expect(page.locator(".status")).to_contain_text("Maya")
    await page.get_by_role("button", name="End chat").click()
    await expect(page.locator(".csat")).to_be_visible()
    await page.locator(".score").nth(4).click()
    await page.wait_for_timeout(400)
    await page.screenshot(path=ARTIFACTS / "widget-support-mobile.png")
    assert page.errors == []  # type: ignore[attr-defined]
