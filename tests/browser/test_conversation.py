"""A shopper in real Chromium: keyboard, order status, quick replies, a streamed answer."""

from __future__ import annotations

from playwright.async_api import Browser, Page, expect

from bot.domain import ConversationId
from tests.browser.conftest import EMMA, Bot, Chat, new_page


async def test_an_order_status_chat_by_keyboard(browser: Browser, bot: Bot) -> None:
    page = await new_page(browser)
    await page.goto(bot.url)
    await expect(page.locator("h1")).to_contain_text("Gear for the long way round")
    chat = Chat(page)
    await chat.open_with_keyboard()
    assert await chat.focused() == ""  # the textarea has no class: the focus moved into the chat
    await expect(chat.input).to_be_focused()
    await expect(page.locator(".row.greeting .bubble")).to_contain_text("Northwind Outfitters")

    await chat.type("where is my order?")
    await chat.bot_said(1)
    await expect(chat.bot_rows.last).to_contain_text("email")
    await chat.type(EMMA)
    await chat.bot_said(2)
    rows = page.locator("button.order")
    await expect(rows.first).to_contain_text("#4977043")
    await expect(rows.first.locator(".pill")).to_have_text("shipped")
    # The rows are buttons: Tab to the first and choose it with the keyboard.
    await rows.first.focus()
    await page.keyboard.press("Enter")
    await chat.bot_said(3)
    await expect(chat.own_rows.last).to_have_text("#4977043")  # the row's title, not a payload
    await expect(chat.bot_rows.last).to_contain_text("#4977043")
    await expect(chat.bot_rows.last).to_contain_text("tracking number")
    assert page.errors == []  # type: ignore[attr-defined]

    # Focus stays inside while the chat is open; Escape closes it and returns to the launcher.
    for _ in range(25):
        await page.keyboard.press("Tab")
        assert await chat.focused() != "launcher"
    await page.keyboard.press("Escape")
    await expect(chat.panel).to_be_hidden()
    assert await chat.focused() == "launcher"


async def test_a_quick_reply_and_a_streamed_answer(browser: Browser, streaming_bot: Bot) -> None:
    page = await new_page(browser)
    await page.goto(streaming_bot.url)
    chat = Chat(page)
    await chat.launcher.click()
    # Record every state of the answer's bubble as the widget draws it.
    await page.evaluate(
        """() => {
          const root = document.querySelector('[data-concierge-widget]').shadowRoot;
          window.drafts = [];
          new MutationObserver(() => {
            const draft = root.querySelector('.bubble.draft');
            if (draft) window.drafts.push(draft.textContent.length);
          }).observe(root, {subtree: true, childList: true, characterData: true});
        }"""
    )
    await page.locator(".replies .chip", has_text="How do returns work?").click()
    await chat.bot_said(1)
    drafts: list[int] = await page.evaluate("window.drafts")
    assert len(drafts) >= 2, drafts  # the text grew sentence by sentence
    assert drafts == sorted(drafts)
    answer = chat.bot_rows.first.locator(".bubble")
    await expect(answer).to_contain_text("label")
    assert await page.locator(".bubble.draft").count() == 0  # the final message replaced it
    await expect(chat.own_rows.first).to_have_text("How do returns work?")

    # The bot offers to start a return: a quick reply answers it.
    offer = page.locator(".replies .chip", has_text="No, thanks")
    await expect(offer).to_be_visible()
    await offer.click()
    await expect(page.locator(".replies")).to_be_hidden()
    await chat.bot_said(3)
    await expect(chat.own_rows.last).to_have_text("No, thanks")
    events = await streaming_bot.store.events(await conversation_id(page))
    assert [e["text"] for e in events if e["event"] == "user"][-1] == "/deny"
    assert page.errors == []  # type: ignore[attr-defined]


async def conversation_id(page: Page) -> ConversationId:
    stored = await page.evaluate(
        "() => JSON.parse(localStorage.getItem(Object.keys(localStorage)"
        ".find(k => k.startsWith('concierge-chat:')))).conversationId"
    )
    return ConversationId(stored)
