"""Fixtures for the action tests: the demo shop, the domain and a real action server process.

This folder deliberately has no ``__init__.py``: ``tests/`` is not a package, so a package named
``actions`` here would shadow the real ``actions`` package.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from action_server_helpers import ROOT, SHOP_DIR, START_TIMEOUT_S, ActionServer, free_port, healthy

from actions.shop.port import Order, ShopBackend
from actions.shop.sqlite import SQLiteShopBackend


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "data" / "domain.yml").read_text())
    return loaded


@pytest.fixture(scope="session")
def action_server(
    domain: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ActionServer]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path_factory.mktemp("action_server") / "server.log"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SANIC_HOST": "127.0.0.1",
        "CONCIERGE_SHOP_DIR": str(SHOP_DIR),
        "CONCIERGE_SHOP_DB": str(tmp_path_factory.mktemp("shop") / "shop.sqlite"),
    }
    with log_path.open("wb") as log:
        # A new session groups the server with the worker process Sanic starts, so teardown
        # can stop both.
        process = subprocess.Popen(
            [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not healthy(url):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"action server did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.2)
        yield ActionServer(url, domain)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="session")
def shop() -> Iterator[ShopBackend]:
    """The demo shop, read directly, to know what the action server should answer."""
    backend = SQLiteShopBackend.from_directory(SHOP_DIR)
    yield backend
    backend.close()


@pytest.fixture(scope="session")
def orders_by_status(shop: ShopBackend) -> dict[str, Order]:
    """One demo order per status (the first in file order)."""
    records = json.loads((SHOP_DIR / "orders.json").read_text())
    found: dict[str, Order] = {}
    for order_id in records:
        order = shop.get_order(order_id)
        assert order is not None
        found.setdefault(order.status, order)
    return found
