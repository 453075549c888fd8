"""Conformance with tau-bench retail: gold replay, data hash, import/export, tool dispatch.

The data set is read in place from ``<repo>/../shared/datasets/tau-bench-retail``; the tests that
need it skip when it is absent. The tool-dispatch tests compare with Python's own ``eval`` and
TypeError texts, which is what the reference answers with.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from actions.shop.sqlite import SQLiteShopBackend
from actions.shop.tau_bench import (
    TAU_BENCH_INITIAL_HASH,
    DataHasher,
    data_hash,
    export_data,
    export_tau_bench,
    import_tau_bench,
    render,
)
from actions.shop.tau_replay import SPLITS, load_gold_tasks, replay_all
from actions.shop.tau_tools import TauRetailTools, calculate

TAU_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "tau-bench-retail"
needs_tau = pytest.mark.skipif(
    not (TAU_DIR / "orders.json").is_file(),
    reason=f"tau-bench retail data set not found at {TAU_DIR}",
)


@pytest.fixture(scope="module")
def tau_shop() -> Iterator[SQLiteShopBackend]:
    if not (TAU_DIR / "orders.json").is_file():
        pytest.skip(f"tau-bench retail data set not found at {TAU_DIR}")
    shop = import_tau_bench(TAU_DIR)
    yield shop
    shop.close()


@needs_tau
@pytest.mark.timeout(120)
def test_every_gold_task_replays_to_the_same_results_and_hash(
    tau_shop: SQLiteShopBackend,
) -> None:
    tasks = [task for split in SPLITS for task in load_gold_tasks(TAU_DIR, split)]
    assert len(tasks) >= 520
    replays = replay_all(tau_shop, tasks)
    failed = [
        (r.split, r.index, r.hash_matches, r.mismatched_results) for r in replays if not r.passed
    ]
    assert failed == []
    # The replays ran on copies: the imported shop is untouched.
    assert DataHasher().hash(tau_shop) == TAU_BENCH_INITIAL_HASH


@needs_tau
def test_a_wrong_result_or_hash_is_reported(tau_shop: SQLiteShopBackend) -> None:
    task = load_gold_tasks(TAU_DIR, "dev")[0]
    (name, kwargs), *rest = task.actions
    altered = type(task)(
        split=task.split,
        index=task.index,
        actions=((name, {**kwargs, "order_id": "#W0000000"}), *rest),
        results=task.results,
        data_hash=task.data_hash,
    )
    (replay,) = replay_all(tau_shop, [altered])
    assert replay.results[0] == "Error: order not found"
    assert replay.mismatched_results[0] == 0
    assert not replay.passed


@needs_tau
def test_initial_hash_and_cached_hasher_agree_with_plain_rendering(
    tau_shop: SQLiteShopBackend,
) -> None:
    data = export_data(tau_shop)
    assert data_hash(data) == TAU_BENCH_INITIAL_HASH
    copy = tau_shop.copy()
    try:
        hasher = DataHasher()
        assert hasher.hash(copy) == TAU_BENCH_INITIAL_HASH
        order_id = next(oid for oid, o in data["orders"].items() if o["status"] == "pending")
        assert copy.cancel_pending_order(order_id, "no longer needed").ok
        changed = export_data(copy)
        assert hasher.hash(copy) == data_hash(changed) != TAU_BENCH_INITIAL_HASH
    finally:
        copy.close()


@needs_tau
def test_export_keeps_records_key_order_and_number_kinds(
    tau_shop: SQLiteShopBackend, tmp_path: Path
) -> None:
    export_tau_bench(tau_shop, tmp_path)
    for name in ("users.json", "orders.json", "products.json"):
        original = json.loads((TAU_DIR / name).read_text())
        exported = json.loads((tmp_path / name).read_text())
        # json.dumps distinguishes 51 from 51.0 and keeps key order, so equal text means both.
        assert json.dumps(exported) == json.dumps(original), name
    users = json.loads((tmp_path / "users.json").read_text())
    balances = [
        m["balance"]
        for u in users.values()
        for m in u["payment_methods"].values()
        if "balance" in m
    ]
    assert balances
    assert all(type(b) is int for b in balances)
    reimported = import_tau_bench(tmp_path)
    try:
        assert DataHasher().hash(reimported) == TAU_BENCH_INITIAL_HASH
    finally:
        reimported.close()


@needs_tau
def test_read_tools_answer_like_the_reference(tau_shop: SQLiteShopBackend) -> None:
    tools = TauRetailTools(tau_shop)
    users = json.loads((TAU_DIR / "users.json").read_text())
    user_id, user = next(iter(users.items()))
    assert tools.invoke("get_user_details", {"user_id": user_id}) == json.dumps(user)
    assert tools.invoke("find_user_id_by_email", {"email": user["email"].upper()}) == user_id
    name = user["name"]
    by_zip = {"first_name": name["first_name"].lower(), "last_name": name["last_name"]}
    assert tools.invoke("find_user_id_by_name_zip", {**by_zip, "zip": user["address"]["zip"]}) == (
        user_id
    )
    assert tools.invoke("find_user_id_by_name_zip", {**by_zip, "zip": "00000"}) == (
        "Error: user not found"
    )
    assert tools.invoke("get_order_details", {"order_id": "W2611340"}) == "Error: order not found"
    assert tools.invoke("get_product_details", {"product_id": "1"}) == "Error: product not found"
    types = json.loads(tools.invoke("list_all_product_types", {}))
    assert len(types) == 50
    assert list(types) == sorted(types)


class CancelPendingOrder:
    """The reference tool's signature, to get Python's own TypeError texts."""

    @staticmethod
    def invoke(data: Any, order_id: str, reason: str) -> str:
        return ""


def test_dispatch_errors_match_python_type_errors() -> None:
    shop = SQLiteShopBackend.from_records(products={}, users={}, orders={})
    tools = TauRetailTools(shop)

    def python_error(**kwargs: Any) -> str:
        with pytest.raises(TypeError) as raised:
            CancelPendingOrder.invoke(data={}, **kwargs)
        return f"Error: {raised.value}"

    try:
        assert tools.invoke("refund_everything", {}) == "Unknown action refund_everything"
        for kwargs in ({}, {"order_id": "#W1"}, {"order_id": "#W1", "reason": "x", "extra": 1}):
            assert tools.invoke("cancel_pending_order", kwargs) == python_error(**kwargs)
        assert tools.invoke("think", {"thought": "hm"}) == ""
        assert tools.invoke("transfer_to_human_agents", {"summary": "s"}) == "Transfer successful"
        assert tools.invoke("cancel_pending_order", {"order_id": 5, "reason": "x"}).startswith(
            "Error: argument 'order_id'"
        )
    finally:
        shop.close()


@pytest.mark.parametrize(
    "expression",
    [
        "2+2",
        "8276.23",
        "100 - 117.99",
        "(3 + 4) * 2 / 7",
        "1/0",
        "1.0/0",
        "2+",
        " 7//2",
        "()",
        "2**0.5",
        "-(-3)",
        ".5 + 1.",
        "10 ** 400 / 1",
    ],
)
def test_calculate_matches_python_arithmetic(expression: str) -> None:
    try:
        expected = str(round(float(eval(expression, {"__builtins__": None}, {})), 2))
    except Exception as error:
        expected = f"Error: {error}"
    assert calculate(expression) == expected


def test_calculate_refuses_other_characters_and_huge_powers() -> None:
    assert calculate("__import__('os')") == "Error: invalid characters in expression"
    assert calculate("9**9**9") == "Error: int too large to convert to float"


def test_render_writes_python_tuples() -> None:
    value = {"b": [1, 2.0, True], "a": {"x": "y"}, "c": [], "d": ["one"]}
    converted = (("a", (("x", "y"),)), ("b", (1, 2.0, True)), ("c", ()), ("d", ("one",)))
    assert render(value) == str(converted)
