"""Product questions: find the product the shopper means, then describe it from the catalogue."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import (
    CONTEXT_EXTRACTOR,
    EventDict,
    ShopAction,
    ShopFormValidation,
    entity_values,
)
from actions.formatting import intent_payload, option_name
from actions.locale import Messages
from actions.shop.port import Product, ShopBackend, Variant
from actions.shop.search import normalize_phrase, words

PRODUCT = "product"
CHOICES = 5


def clear_match(query: str, found: list[Product]) -> Product | None:
    """The product ``query`` plainly means, or ``None`` when the shopper must choose.

    A single hit is clear; so is an exact name, and so is a first hit whose name holds every
    word of the query while the runner-up's does not ("trail runner" vs "Trail Daypack").
    """
    if not found:
        return None
    best = found[0]
    if len(found) == 1 or normalize_phrase(best.name) == normalize_phrase(query):
        return best
    wanted = set(words(query))

    def covers(product: Product) -> bool:
        return bool(wanted) and wanted <= set(words(product.name))

    return best if covers(best) and not covers(found[1]) else None


def _price_text(product: Product, lang: Messages) -> str:
    prices = [v.price for v in (product.available_variants or product.variants)]
    if not prices:
        return ""
    low, high = min(prices), max(prices)
    if low == high:
        return lang.money(low)
    return lang.text("product.price_range", low=lang.money(low), high=lang.money(high))


def _in_stock_options(product: Product, lang: Messages) -> str:
    """``"sizes 8, 9 and 10; colors blue and black"`` over the variants in stock."""
    values: dict[str, list[str]] = {}
    for variant in product.available_variants:
        for key, value in variant.options.items():
            seen = values.setdefault(key, [])
            if value not in seen:
                seen.append(value)
    parts = [
        lang.text(
            "format.option_values",
            name=option_name(key, lang, plural=len(vals) > 1),
            values=lang.join(_in_natural_order(vals)),
        )
        for key, vals in values.items()
    ]
    return lang.text("format.group_separator").join(parts)


_SIZE_ORDER = ("XXS", "XS", "S", "M", "L", "XL", "XXL", "XXXL")


def _in_natural_order(values: list[str]) -> list[str]:
    """Shoe sizes and waists by number, clothing sizes small to large, others as found."""
    if all(v.replace(".", "", 1).isdigit() for v in values):
        return sorted(values, key=float)
    if all(v.upper() in _SIZE_ORDER for v in values):
        return sorted(values, key=lambda v: _SIZE_ORDER.index(v.upper()))
    return values


def describe_product(product: Product, lang: Messages) -> str:
    """Name, description, price range and the options in stock, in a few sentences.

    The name and description are the catalogue's own, in the shop's language.
    """
    sentences = [
        lang.text("product.name_description", name=product.name, description=product.description)
        if product.description
        else product.name
    ]
    price = _price_text(product, lang)
    if price:
        sentences.append(lang.text("product.price", price=price))
    if not product.available_variants:
        sentences.append(lang.text("product.out_of_stock"))
    else:
        options = _in_stock_options(product, lang)
        sentences.append(
            lang.text("product.in_stock_options", options=options)
            if options
            else lang.text("product.in_stock")
        )
        if len(product.available_variants) < len(product.variants):
            sentences.append(lang.text("product.some_sold_out"))
    return lang.sentences(*sentences)


def describe_variant(product: Product, lang: Messages, named: Collection[str]) -> str | None:
    """The price and stock of the variants with the option values the shopper named ("black",
    "M"), or None when they named none of this product's."""
    variants = _named_variants(product, named)
    if not variants:
        return None
    prices = sorted({v.price for v in variants})
    low, high = lang.money(prices[0]), lang.money(prices[-1])
    price = low if low == high else lang.text("product.price_range", low=low, high=high)
    in_stock = any(v.available for v in variants)
    return lang.text(
        "product.variant_in_stock" if in_stock else "product.variant_sold_out",
        name=product.name,
        options=", ".join(_named_values(product, named)),
        price=price,
    )


def _named_values(product: Product, named: Collection[str]) -> list[str]:
    """The option values of ``product`` among ``named`` (any case), as the catalog writes them,
    in the order of the product's options ("S, black": size before colour)."""
    wanted = {n.lower() for n in named}
    keys: list[str] = []
    found: dict[str, tuple[int, str]] = {}
    for variant in product.variants:
        for key, value in variant.options.items():
            if key not in keys:
                keys.append(key)
            if value.lower() in wanted and value.lower() not in found:
                found[value.lower()] = (keys.index(key), value)
    return [value for _, value in sorted(found.values())]


def _named_variants(product: Product, named: Collection[str]) -> list[Variant]:
    """The variants with every option value the shopper named ("black, M"), if they named any
    of this product's."""
    values = {v.lower() for v in _named_values(product, named)}
    if not values:
        return []
    return [v for v in product.variants if values <= {o.lower() for o in v.options.values()}]


def product_payload(product: Product) -> dict[str, Any]:
    """The product as a ``custom`` payload, for channels that render product cards."""
    return {
        "product": {
            "product_id": product.product_id,
            "name": product.name,
            "category": product.category,
            "variants": [
                {
                    "item_id": v.item_id,
                    "options": dict(v.options),
                    "available": v.available,
                    "price": v.price,
                }
                for v in product.variants
            ],
        }
    }


def find_product(shop: ShopBackend, query: str) -> tuple[Product | None, list[Product]]:
    """The product ``query`` clearly means (if any) and the candidates that matched."""
    found = shop.search_products(query, CHOICES)
    return clear_match(query, found), found


def offer_choices(
    dispatcher: CollectingDispatcher, query: str, found: list[Product], lang: Messages
) -> None:
    """Says that nothing matched, or offers the candidates as buttons to pick from."""
    if not found:
        dispatcher.utter_message(text=lang.text("product.unknown", query=query.strip()))
        return
    dispatcher.utter_message(
        text=lang.text("product.choices"),
        buttons=[
            {"title": p.name, "payload": intent_payload("product_info", product=p.name)}
            for p in found
        ],
    )


class ValidateProductInfoForm(ShopFormValidation):
    """``product_info_form``: turns the shopper's words into one catalogue product."""

    def name(self) -> str:
        return "validate_product_info_form"

    def validate_product(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Keeps the product's exact name, or offers the candidates as buttons."""
        query = str(value)
        product, found = find_product(self.shop, query)
        if product is not None:
            return {PRODUCT: product.name}
        offer_choices(dispatcher, query, found, Messages.for_tracker(tracker))
        return {PRODUCT: None}


class ActionProductInfo(ShopAction):
    """Describes the product in the ``product`` slot, then clears the slot for the next one."""

    def name(self) -> str:
        return "action_product_info"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventDict]:
        lang = Messages.for_tracker(tracker)
        query = str(tracker.get_slot(PRODUCT) or "")
        product, found = find_product(self.shop, query) if query.strip() else (None, [])
        if product is None:
            offer_choices(dispatcher, query or lang.text("product.unknown_query"), found, lang)
        else:
            entities = tracker.latest_message.get("entities") or []
            named = entity_values(entities, "product_option")
            variant = describe_variant(product, lang, named)
            # The product was just shown ("and in black?"): the variant's price and stock is
            # the answer, not the whole description again.
            shown = any(
                e.get("entity") == "product" and e.get("extractor") == CONTEXT_EXTRACTOR
                for e in entities
            )
            text = (
                variant
                if variant and shown
                else lang.sentences(describe_product(product, lang), variant or "")
            )
            dispatcher.utter_message(text=text, json_message=product_payload(product))
        return [SlotSet(PRODUCT, None)]
