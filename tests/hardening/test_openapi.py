"""bot/openapi.yaml describes exactly the application's routes, and is valid OpenAPI 3.1.

If a route is added, removed or renamed without the description following (or the other
way round), this fails and names the difference.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import schemathesis
from aiohttp import web

from bot.config import Settings
from bot.openapi import load_spec
from tests.channels.messaging.conftest import channel_settings

from .conftest import quick_app

METHODS = ("get", "put", "post", "delete", "patch", "options")
NOT_DESCRIBED_HERE = ("/console",)
"""The agent console's pages, API and socket (bot/console/, issue 19) belong to the console,
which serves its own API to its own page; every other route must be described."""


def described(spec: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method in METHODS
        if method in item
    }


def served(app: web.Application) -> set[tuple[str, str]]:
    routes = set()
    for route in app.router.routes():
        resource = route.resource
        if resource is None or route.method == "HEAD":  # aiohttp adds HEAD to every GET
            continue
        path = resource.canonical
        if path.startswith(NOT_DESCRIBED_HERE):
            continue
        routes.add((route.method, path))
    return routes


def full_app(settings: Settings) -> web.Application:
    """Every optional channel on, so that every route the bot can serve is there."""
    return quick_app(channel_settings(settings, "http://127.0.0.1:9", "http://127.0.0.1:9"))


def test_every_route_is_described_and_every_description_is_served(settings: Settings) -> None:
    app_routes = served(full_app(settings))
    spec_routes = described(load_spec())
    assert app_routes - spec_routes == set(), "routes missing from bot/openapi.yaml"
    assert spec_routes - app_routes == set(), "bot/openapi.yaml describes routes nobody serves"
    assert len(app_routes) >= 23


def test_the_description_is_valid_openapi_3_1_with_unique_operation_ids() -> None:
    spec = load_spec()
    assert spec["openapi"].startswith("3.1")
    schemathesis.openapi.from_dict(spec).validate()  # the OpenAPI 3.1 meta-schema
    ids = [
        item[method]["operationId"]
        for item in spec["paths"].values()
        for method in METHODS
        if method in item
    ]
    assert len(ids) == len(set(ids))


def test_operations_that_take_json_document_their_refusals() -> None:
    for path, item in load_spec()["paths"].items():
        for method in METHODS:
            operation = item.get(method)
            if operation and "requestBody" in operation:
                assert {"400", "413"} <= set(operation["responses"]), f"{method} {path}"


async def test_the_bot_serves_it_with_its_own_limits(client_for: Any, settings: Settings) -> None:
    settings = replace(settings, server=replace(settings.server, max_message_chars=123))
    client = await client_for(quick_app(settings))
    response = await client.get("/openapi.json")
    assert response.status == 200
    spec = await response.json()
    assert spec["components"]["schemas"]["MessageText"]["maxLength"] == 123
    assert described(spec) == described(load_spec())
