"""Recommendations in conversation, over REST, with the real NLU, MiniLM and action server."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import AppClient, say, texts

pytestmark = pytest.mark.slow

SOFIA_BOUGHT = {  # her orders that were not cancelled
    "Trail Runner Shoe", "Neck Gaiter", "Down Sleeping Bag", "Insulated Water Bottle",
    "Quarter-Zip Fleece", "Fleece Jogger", "Ultralight Tent 2P",
}  # fmt: skip


def cards(replies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = [r["custom"] for r in replies if (r.get("custom") or {}).get("type") == "product_cards"]
    assert len(found) == 1, replies
    result: list[dict[str, Any]] = found[0]["cards"]
    return result


async def test_an_anonymous_shopper_gets_popular_ideas_as_cards(make_client: AppClient) -> None:
    client = await make_client()
    replies = await say(client, "rec-anon", "can you recommend me something?")
    picks = cards(replies)
    assert len(picks) == 3
    assert all(c["reason"] and c["subtitle"].startswith("from $") for c in picks)
    assert all(c["buttons"][0]["payload"].startswith("/product_info") for c in picks)
    text = texts(replies)
    assert "Share your email" in text
    assert all(c["title"] in text for c in picks)  # channels without cards show the text


async def test_a_free_text_request_is_matched(make_client: AppClient) -> None:
    client = await make_client()
    replies = await say(client, "rec-text", "a gift for my sister who runs")
    titles = [c["title"] for c in cards(replies)]
    assert "Trail Runner Shoe" in titles, titles


async def test_an_identified_shopper_gets_personal_picks_not_what_she_owns(
    make_client: AppClient,
) -> None:
    client = await make_client()
    sender = "rec-sofia"
    await say(client, sender, "where is my order #8118715? I'm sofia.marquez3074@example.com")
    replies = await say(client, sender, "what would you recommend for me?")
    picks = cards(replies)
    assert "picks for you" in texts(replies)
    assert not {c["title"] for c in picks} & SOFIA_BOUGHT
    assert any(c["reason"].startswith(("Similar to your", "Goes with your")) for c in picks)


async def test_a_price_limit_is_kept(make_client: AppClient) -> None:
    client = await make_client()
    replies = await say(client, "rec-price", "recommend something under $30")
    prices = [float(c["subtitle"].removeprefix("from $")) for c in cards(replies)]
    assert prices
    assert all(p <= 30 for p in prices), prices


async def test_what_goes_with_my_last_order(make_client: AppClient) -> None:
    client = await make_client()
    sender = "rec-goes-with"
    await say(client, sender, "Hi, I'm sofia.marquez3074@example.com, where is order #8118715?")
    picks = cards(await say(client, sender, "what goes with my last order?"))
    assert len(picks) == 3
    assert not {c["title"] for c in picks} & SOFIA_BOUGHT
