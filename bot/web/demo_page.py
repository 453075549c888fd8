"""The demo shop page at ``GET /``: Northwind Outfitters' shop window with the widget on it.

It shows what a shop's own page looks like with the one ``<script>`` tag added. Every value
from data is HTML-escaped; the page carries no inline script or style, so it is served with a
Content-Security-Policy that allows only the bot's own files (bot/web/routes.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from bot.web.catalogue import ShowcaseProduct
from bot.web.product_art import product_svg

LOGO = (
    '<svg class="logo-mark" viewBox="0 0 32 32" aria-hidden="true" focusable="false">'
    '<circle cx="16" cy="16" r="15" fill="#1f4d3a"/>'
    '<path d="M6 22l7-9 4 5 3-4 6 8z" fill="#f4efe6"/>'
    '<circle cx="22" cy="10" r="2.5" fill="#e9b44c"/></svg>'
)
HERO_ART = (
    '<svg class="hero-art" viewBox="0 0 600 360" aria-hidden="true" focusable="false">'
    '<rect width="600" height="360" fill="#dfe9e1"/>'
    '<circle cx="460" cy="92" r="44" fill="#f1c76b"/>'
    '<path d="M0 250l110-120 70 70 90-110 120 140 80-70 130 120v100H0z" fill="#8fb39a"/>'
    '<path d="M0 290l140-80 110 60 120-90 110 70 120-40v150H0z" fill="#5f8a6a"/>'
    '<path d="M0 330l170-50 150 40 140-50 140 40v90H0z" fill="#2f5d46"/>'
    '<path d="M380 160l20-24 20 24z" fill="#f4efe6"/>'
    "</svg>"
)


def _price(value: float | None) -> str:
    return "" if value is None else f"${value:,.2f}"


def _product(product: ShowcaseProduct) -> str:
    return (
        '<li class="product">'
        f'<div class="product-art">{product_svg(product.product_id, product.name, product.category, inline=True)}</div>'  # noqa: E501
        '<div class="product-body">'
        f'<p class="product-category">{escape(product.category)}</p>'
        f'<h3 class="product-name">{escape(product.name)}</h3>'
        f'<p class="product-price">from {escape(_price(product.price_from))}</p>'
        "</div></li>"
    )


def render_demo_page(
    *,
    shop_name: str,
    products: Sequence[ShowcaseProduct],
    lang: str = "en",
    accent: str = "#1f6f50",
) -> str:
    """The page's HTML; ``lang`` is the page language the widget follows."""
    name = escape(shop_name)
    grid = "".join(_product(p) for p in products)
    return f"""<!doctype html>
<html lang="{escape(lang)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{name} · Outdoor gear for the long way round</title>
<link rel="stylesheet" href="/demo/demo.css">
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="site-header">
  <div class="wrap header-row">
    <a class="brand" href="/">{LOGO}<span>{name}</span></a>
    <nav aria-label="Main">
      <ul class="nav">
        <li><a href="#shop">New in</a></li>
        <li><a href="#shop">Footwear</a></li>
        <li><a href="#shop">Clothing</a></li>
        <li><a href="#shop">Camp &amp; hike</a></li>
        <li><a href="#help">Help</a></li>
      </ul>
    </nav>
    <a class="cart" href="#shop">Bag <span class="cart-count">0</span></a>
  </div>
  <p class="banner">Free shipping on orders over $75 · 30-day returns</p>
</header>
<main id="main">
  <section class="hero">
    <div class="wrap hero-row">
      <div class="hero-copy">
        <p class="eyebrow">Autumn collection</p>
        <h1>Gear for the long way round.</h1>
        <p class="lede">Layers, packs and trail shoes made to be worn hard and repaired,
        not replaced. Questions about an order or a size? Our assistant is one click away.</p>
        <a class="button" href="#shop">Shop the collection</a>
      </div>
      {HERO_ART}
    </div>
  </section>
  <section id="shop" class="wrap shop" aria-labelledby="shop-title">
    <div class="section-head">
      <h2 id="shop-title">Trail favourites</h2>
      <a href="#shop">View all</a>
    </div>
    <ul class="products">{grid}</ul>
  </section>
  <section id="help" class="wrap perks" aria-label="Why shop with us">
    <div><h3>Free returns</h3><p>Send anything back within 30 days of delivery.</p></div>
    <div><h3>Repairs for life</h3><p>Torn a seam? We fix our own gear.</p></div>
    <div><h3>Real people</h3><p>Chat with us, and a person from our team takes over when
    you need one.</p></div>
  </section>
</main>
<footer class="site-footer">
  <div class="wrap">
    <p>{name} is the demo shop of Concierge, an open-source customer-service bot.
    Try the chat in the corner: track an order (for example with
    <code>emma.nguyen9006@example.com</code>), ask about returns, or ask for a gift idea.</p>
  </div>
</footer>
<script src="/widget.js" data-shop-name="{name}" data-accent="{escape(accent)}" async></script>
</body>
</html>
"""
