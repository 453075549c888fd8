"""What a keyboard or screen-reader user gets, and text contrast (WCAG AA, 4.5:1)."""

from __future__ import annotations

from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import Bot, Chat, new_page

CONTRAST = """
els => els.map(el => {
  const rgb = c => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  let node = el, bg = null;
  while (node) {  // the first opaque background behind the text
    const c = rgb(getComputedStyle(node).backgroundColor);
    if (c.length === 3 || (c.length === 4 && c[3] > 0.9)) { bg = c.slice(0, 3); break; }
    node = node.parentElement || (node.getRootNode() && node.getRootNode().host);
  }
  const fg = rgb(getComputedStyle(el).color).slice(0, 3);
  const [a, b] = [lum(fg), lum(bg || [255, 255, 255])].sort((x, y) => y - x);
  return [el.className || el.tagName, (a + 0.05) / (b + 0.05)];
})
"""


async def contrasts(page: Page, selector: str) -> list[tuple[str, float]]:
    found: list[tuple[str, float]] = await page.locator(selector).evaluate_all(CONTRAST)
    assert found, f"nothing matches {selector}"
    return found


async def test_screen_readers_hear_replies_and_text_is_readable(browser: Browser, bot: Bot) -> None:
    page = await new_page(browser)
    await page.goto(bot.url)
    chat = Chat(page)
    await chat.open_with_keyboard()
    await expect(chat.launcher).to_have_attribute("aria-expanded", "true")
    await expect(chat.panel).to_have_attribute("role", "dialog")
    await expect(chat.panel).to_have_attribute("aria-modal", "true")
    await expect(page.locator(".log")).to_have_attribute("role", "log")
    await chat.type("where is my order?")
    await chat.bot_said(1)
    # New messages are read out through a polite live region, with who said them.
    await expect(page.locator("[aria-live=polite]").last).to_contain_text(
        "Northwind Outfitters assistant: Sure, I can look that up."
    )
    await page.locator(".rate button[data-value='up']").last.click()  # muted "thanks" text
    # The focus is visible wherever the keyboard goes.
    await page.keyboard.press("Shift+Tab")
    outline = await page.evaluate(
        "() => { const a = document.querySelector('[data-concierge-widget]')"
        ".shadowRoot.activeElement; return getComputedStyle(a).outlineStyle; }"
    )
    assert outline not in ("none", "")
    for selector in (
        ".row.me .bubble",
        ".row.bot .bubble",
        ".title",
        ".status",
        ".foot",
        ".rate-thanks",
        ".composer textarea",
    ):
        for name, ratio in await contrasts(page, selector):
            assert ratio >= 4.5, (selector, name, round(ratio, 2))


async def test_a_light_accent_keeps_its_text_readable(browser: Browser, bot: Bot) -> None:
    page = await new_page(browser)
    await page.goto(bot.url)
    await Chat(page).launcher.wait_for()  # the demo page's widget, replaced below
    # The shop picks a pale yellow: text on it turns dark, accent text on white darkens.
    await page.evaluate(
        """() => {
          const old = document.querySelector('[data-concierge-widget]');
          old.remove();
          window.__conciergeWidgetLoaded = false;
          const s = document.createElement('script');
          s.src = '/widget.js'; s.dataset.accent = '#ffe14d'; s.dataset.shopName = 'Sunny';
          localStorage.clear();
          document.body.appendChild(s);
        }"""
    )
    chat = Chat(page)
    await chat.launcher.click()
    await chat.type("hello")
    await chat.bot_said(1)
    for selector in (".row.me .bubble", ".title", ".status", ".launcher"):
        for name, ratio in await contrasts(page, selector):
            assert ratio >= 4.5, (selector, name, round(ratio, 2))
