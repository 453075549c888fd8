"""Reloads, new tabs and dropped networks: everything shown once, nothing sent twice."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.browser.conftest import EMMA, Bot, Chat, new_page
from tests.browser.test_conversation import conversation_id


async def test_a_reload_shows_the_history_once_and_a_new_tab_joins_it(
    browser: Browser, bot: Bot
) -> None:
    page = await new_page(browser)
    await page.goto(bot.url)
    chat = Chat(page)
    await chat.launcher.click()
    await chat.type("where is my order?")
    await chat.bot_said(1)
    await chat.type(EMMA)
    await chat.bot_said(2)
    before = await chat.transcript()
    assert len(before) >= 4

    await page.reload()
    await chat.launcher.click()
    await chat.bot_said(2)
    await page.wait_for_timeout(500)  # a late duplicate would have arrived by now
    after = await chat.transcript()
    assert after == before
    assert len({index for _, index, _ in after}) == len(after)  # each stored event once
    await expect(page.locator(".replies")).to_be_hidden()  # the starters were used long ago

    # Another tab of the same shop picks the conversation up, and sees new turns live.
    tab = await page.context.new_page()
    await tab.goto(bot.url)
    other = Chat(tab)
    await other.launcher.click()
    await other.bot_said(2)
    assert await other.transcript() == before
    await chat.type("#4977043")
    await chat.bot_said(3)
    now = await chat.transcript()
    assert "#4977043" in now[-1][2]
    await other.shows(now)


async def test_a_message_written_offline_is_sent_once_when_the_network_returns(
    browser: Browser, bot: Bot
) -> None:
    page = await new_page(browser)
    await page.goto(bot.url)
    chat = Chat(page)
    await chat.launcher.click()
    await chat.type("hello")
    await chat.bot_said(1)

    await page.context.set_offline(True)
    await expect(page.locator(".status")).to_have_attribute("data-state", "offline")
    await expect(page.locator(".notice")).to_contain_text("offline")
    await chat.type("where is my order?")
    waiting = chat.own_rows.last.locator(".meta")
    await expect(waiting).to_have_text("Waiting for connection")

    await page.context.set_offline(False)
    await chat.bot_said(2)
    await expect(chat.bot_rows.last).to_contain_text("email")
    await expect(waiting).to_have_count(0)
    await expect(page.locator(".notice")).to_be_hidden()
    mine = [text for kind, _, text in await chat.transcript() if "me" in kind.split()]
    assert mine == ["hello", "where is my order?"]
    events = await bot.store.events(await conversation_id(page))
    users = [e["text"] for e in events if e["event"] == "user"]
    assert users == ["hello", "where is my order?"]  # stored once

    # Written offline and then the page reloaded before the network came back: still sent once.
    await page.context.set_offline(True)
    await expect(page.locator(".status")).to_have_attribute("data-state", "offline")
    await chat.type(EMMA)
    await expect(chat.own_rows.last.locator(".meta")).to_have_text("Waiting for connection")
    await page.context.set_offline(False)
    await page.reload()
    await chat.launcher.click()
    await chat.bot_said(3)
    await page.wait_for_timeout(500)
    events = await bot.store.events(await conversation_id(page))
    assert [e["text"] for e in events if e["event"] == "user"].count(EMMA) == 1
    mine = [text for kind, _, text in await chat.transcript() if "me" in kind.split()]
    assert mine.count(EMMA) == 1
