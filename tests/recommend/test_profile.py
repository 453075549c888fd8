"""Customer profiles from the demo shop's orders."""

from __future__ import annotations

import datetime as dt

from actions.recommend.profile import build_profile
from actions.shop.sqlite import SQLiteShopBackend
from bot.config import ROOT


def test_profile_of_a_customer_with_orders() -> None:
    shop = SQLiteShopBackend.from_directory(ROOT / "data" / "shop")
    try:
        profile = build_profile(shop, "sofia_marquez_3074", today=dt.date(2026, 11, 24))
        empty = build_profile(shop, "nobody_0000")
    finally:
        shop.close()
    # Six orders that were not cancelled; the water bottle she is returning is not counted.
    assert profile.orders == 6
    assert profile.items == 7
    assert profile.favourite_categories[0] == "Camp & Hike"
    assert "tent" in profile.interest_tags
    assert profile.price_band is not None
    assert profile.price_band[0] <= (profile.median_item_price or 0) <= profile.price_band[1]
    assert profile.summary().startswith("6 orders · likes Camp & Hike")
    assert empty.orders == 0
    assert empty.price_band is None
    assert empty.summary() == "0 orders"
