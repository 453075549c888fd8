"""The bot's web files: the demo shop at /, the widget script, its texts and pictures."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bot.config import ROOT
from bot.sessions import MemorySessionStore, SessionStore
from tests.webchat.conftest import Factory


@pytest.fixture
def store() -> SessionStore:
    return MemorySessionStore()  # pages do not depend on the store: once is enough


LOCALES = ROOT / "bot" / "static" / "locales"


async def test_a_browser_gets_the_demo_shop_with_the_widget_and_a_strict_policy(
    make_client: Factory,
) -> None:
    client = await make_client()
    response = await client.get("/", headers={"Accept": "text/html,application/xhtml+xml"})
    assert response.status == 200
    html = await response.text()
    assert '<script src="/widget.js" data-shop-name="Northwind Outfitters"' in html
    assert html.count('<li class="product">') == 8
    assert "Trail Runner Shoe" in html
    assert "from $120.57" in html
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy
    assert "'unsafe-inline'" not in policy
    assert "frame-ancestors 'none'" in policy
    assert "<script>" not in html
    assert "style=" not in html
    german = await (await client.get("/?lang=de-DE", headers={"Accept": "text/html"})).text()
    assert '<html lang="de">' in german


async def test_api_clients_of_the_root_still_get_json(make_client: Factory) -> None:
    client = await make_client()
    response = await client.get("/")
    assert response.status == 200
    assert (await response.json())["name"] == "concierge"


async def test_the_widget_script_is_cached_and_revalidated(make_client: Factory) -> None:
    client = await make_client()
    response = await client.get("/widget.js")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/javascript")
    assert "max-age=" in response.headers["Cache-Control"]
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    etag = response.headers["ETag"]
    again = await client.get("/widget.js", headers={"If-None-Match": etag})
    assert again.status == 304
    assert (await again.read()) == b""
    assert (await client.get("/widget/widget.css")).status == 200


async def test_texts_are_served_for_the_five_languages_only(make_client: Factory) -> None:
    client = await make_client()
    for locale in ("en", "zh", "es", "de", "fr"):
        response = await client.get(f"/widget/locales/{locale}.json")
        assert response.status == 200
        assert response.headers["Access-Control-Allow-Origin"] == "*"  # fetched by shops' pages
        assert (await response.json())["locale"] == locale
    assert (await client.get("/widget/locales/xx.json")).status == 404
    assert (await client.get("/widget/locales/..%2Fwidget.json")).status == 404


def test_every_language_has_every_text_and_every_text_is_in_a_locale_file() -> None:
    english = json.loads((LOCALES / "en.json").read_text(encoding="utf-8"))
    for path in LOCALES.glob("*.json"):
        texts = json.loads(path.read_text(encoding="utf-8"))
        assert texts.keys() == english.keys(), path.name
        assert len(texts["starters"]) == 3
        assert len(texts["csat_scores"]) == 5
        if path.stem != "en":
            same = [k for k in english if texts[k] == english[k] and k != "input_label"]
            assert same == [], f"{path.name} repeats English: {same}"
    script = (ROOT / "bot" / "static" / "widget.js").read_text(encoding="utf-8")
    used = set(re.findall(r'\bt\("([a-z_]+)"', script)) | set(
        re.findall(r'self\.t\("([a-z_]+)"', script)
    )
    assert used, "the widget reads its texts through t()"
    assert used <= english.keys(), used - english.keys()


def test_the_widget_never_parses_markup() -> None:
    script = (ROOT / "bot" / "static" / "widget.js").read_text(encoding="utf-8")
    for risky in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert risky not in script.replace("never as HTML", ""), risky


async def test_product_pictures_are_drawn_and_cannot_run_anything(make_client: Factory) -> None:
    client = await make_client()
    response = await client.get("/widget/art/4769896080.svg")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("image/svg+xml")
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    svg = await response.text()
    assert 'aria-label="Trail Runner Shoe"' in svg
    assert "<script" not in svg
    unknown = await client.get("/widget/art/nope.svg")
    assert unknown.status == 200  # a generic picture rather than a broken image
    assert (await client.get("/widget/art/a.b.svg")).status == 404


def test_static_files_live_beside_the_package() -> None:
    assert Path(ROOT / "bot" / "static" / "widget.js").is_file()
