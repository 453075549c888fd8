"""tau-bench retail's tools, answered by our shop: a call by name with keyword arguments.

Write tools go through the :class:`ShopBackend` port's write operations; read tools read the
stored records and answer with the reference's exact strings. This is what the gold replay runs,
so an agent or an evaluation harness written against tau-bench can drive the shop unchanged.
"""

from __future__ import annotations

import ast
import json
import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from actions.shop.port import Address
from actions.shop.sqlite import SQLiteShopBackend

ArgKind = Literal["str", "list"]
_ADDRESS: tuple[tuple[str, ArgKind], ...] = tuple(
    (name, "str") for name in ("address1", "address2", "city", "state", "country", "zip")
)
TOOL_PARAMETERS: dict[str, tuple[tuple[str, ArgKind], ...]] = {
    "calculate": (("expression", "str"),),
    "cancel_pending_order": (("order_id", "str"), ("reason", "str")),
    "exchange_delivered_order_items": (
        ("order_id", "str"),
        ("item_ids", "list"),
        ("new_item_ids", "list"),
        ("payment_method_id", "str"),
    ),
    "find_user_id_by_email": (("email", "str"),),
    "find_user_id_by_name_zip": (("first_name", "str"), ("last_name", "str"), ("zip", "str")),
    "get_order_details": (("order_id", "str"),),
    "get_product_details": (("product_id", "str"),),
    "get_user_details": (("user_id", "str"),),
    "list_all_product_types": (),
    "modify_pending_order_address": (("order_id", "str"), *_ADDRESS),
    "modify_pending_order_items": (
        ("order_id", "str"),
        ("item_ids", "list"),
        ("new_item_ids", "list"),
        ("payment_method_id", "str"),
    ),
    "modify_pending_order_payment": (("order_id", "str"), ("payment_method_id", "str")),
    "modify_user_address": (("user_id", "str"), *_ADDRESS),
    "return_delivered_order_items": (
        ("order_id", "str"),
        ("item_ids", "list"),
        ("payment_method_id", "str"),
    ),
    "think": (("thought", "str"),),
    "transfer_to_human_agents": (("summary", "str"),),
}
"""Every tool's keyword parameters, in the reference's order, with the kind each takes."""

_CALC_CHARACTERS = frozenset("0123456789+-*/(). ")
_MAX_POWER_BITS = 100_000
_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
}


def _missing_message(tool: str, missing: list[str]) -> str:
    """Python's TypeError text for missing arguments of the reference's ``invoke``."""
    qualname = "".join(part.title() for part in tool.split("_")) + ".invoke()"
    quoted = [f"'{name}'" for name in missing]
    if len(quoted) == 1:
        names = quoted[0]
    elif len(quoted) == 2:
        names = f"{quoted[0]} and {quoted[1]}"
    else:
        names = ", ".join(quoted[:-1]) + f", and {quoted[-1]}"
    plural = "argument" if len(missing) == 1 else "arguments"
    return f"{qualname} missing {len(missing)} required positional {plural}: {names}"


def _bind(tool: str, kwargs: Mapping[str, Any]) -> dict[str, Any] | str:
    """The arguments checked against the tool's parameters, or the error observation."""
    parameters = TOOL_PARAMETERS[tool]
    qualname = "".join(part.title() for part in tool.split("_")) + ".invoke()"
    names = [name for name, _ in parameters]
    for name in kwargs:
        if name not in names:
            return f"Error: {qualname} got an unexpected keyword argument '{name}'"
    missing = [name for name in names if name not in kwargs]
    if missing:
        return f"Error: {_missing_message(tool, missing)}"
    for name, kind in parameters:
        value = kwargs[name]
        # The reference has no type checks; a wrong kind is refused here rather than guessed at.
        if kind == "str" and not isinstance(value, str):
            return f"Error: argument '{name}' must be a string"
        if kind == "list" and not (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        ):
            return f"Error: argument '{name}' must be a list of strings"
    return dict(kwargs)


def _evaluate(node: ast.AST) -> Any:
    """Python arithmetic on the nodes the character filter lets through, without ``eval``."""
    if isinstance(node, ast.Expression):
        return _evaluate(node.body)
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Tuple):
        return tuple(_evaluate(element) for element in node.elts)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_evaluate(node.operand))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _evaluate(node.left), _evaluate(node.right)
        if isinstance(node.op, ast.Pow) and _huge_power(left, right):
            # The reference would compute for hours; the result could never become a float.
            raise OverflowError("int too large to convert to float")
        return _BINARY[type(node.op)](left, right)
    if isinstance(node, ast.Call):
        function = _evaluate(node.func)
        raise TypeError(f"'{type(function).__name__}' object is not callable")
    raise SyntaxError("invalid syntax")


def _huge_power(base: Any, exponent: Any) -> bool:
    if not (isinstance(base, int) and isinstance(exponent, int)) or abs(base) < 2:
        return False
    return exponent * math.log2(abs(base)) > _MAX_POWER_BITS


def calculate(expression: str) -> str:
    """The reference's ``calculate``: arithmetic rounded to 2 decimals, as Python prints it."""
    if not all(char in _CALC_CHARACTERS for char in expression):
        return "Error: invalid characters in expression"
    try:
        # eval() ignores leading blanks and names its source "<string>"; so does this parse.
        tree = ast.parse(expression.lstrip(" \t"), filename="<string>", mode="eval")
        return str(round(float(_evaluate(tree)), 2))
    except Exception as error:  # the reference reports any failure the same way
        return f"Error: {error}"


@dataclass(frozen=True, slots=True)
class TauRetailTools:
    """tau-bench retail's tools over one SQLite shop."""

    shop: SQLiteShopBackend

    def invoke(self, name: str, kwargs: Mapping[str, Any]) -> str:
        """Runs tool ``name`` and returns its observation exactly as tau-bench's ``Env.step``.

        Args:
            name: The tool name, e.g. ``"cancel_pending_order"``.
            kwargs: The tool's keyword arguments.

        Returns:
            The tool's answer: a JSON record, a plain string or an ``"Error: ..."`` text.
        """
        if name not in TOOL_PARAMETERS:
            return f"Unknown action {name}"
        bound = _bind(name, kwargs)
        if isinstance(bound, str):
            return bound
        handler: Callable[[dict[str, Any]], str] = getattr(self, f"_{name}")
        return handler(bound)

    @staticmethod
    def _address(args: Mapping[str, Any]) -> Address:
        return Address(
            address1=args["address1"],
            address2=args["address2"],
            city=args["city"],
            state=args["state"],
            zip=args["zip"],
            country=args["country"],
        )

    def _cancel_pending_order(self, a: dict[str, Any]) -> str:
        return self.shop.cancel_pending_order(a["order_id"], a["reason"]).observation

    def _modify_pending_order_address(self, a: dict[str, Any]) -> str:
        result = self.shop.modify_pending_order_address(a["order_id"], self._address(a))
        return result.observation

    def _modify_pending_order_payment(self, a: dict[str, Any]) -> str:
        result = self.shop.modify_pending_order_payment(a["order_id"], a["payment_method_id"])
        return result.observation

    def _modify_pending_order_items(self, a: dict[str, Any]) -> str:
        result = self.shop.modify_pending_order_items(
            a["order_id"], a["item_ids"], a["new_item_ids"], a["payment_method_id"]
        )
        return result.observation

    def _modify_user_address(self, a: dict[str, Any]) -> str:
        return self.shop.modify_user_address(a["user_id"], self._address(a)).observation

    def _return_delivered_order_items(self, a: dict[str, Any]) -> str:
        result = self.shop.return_delivered_order_items(
            a["order_id"], a["item_ids"], a["payment_method_id"]
        )
        return result.observation

    def _exchange_delivered_order_items(self, a: dict[str, Any]) -> str:
        result = self.shop.exchange_delivered_order_items(
            a["order_id"], a["item_ids"], a["new_item_ids"], a["payment_method_id"]
        )
        return result.observation

    def _find_user_id_by_email(self, a: dict[str, Any]) -> str:
        wanted = a["email"].lower()
        for user_id, text in self.shop.raw_records("users"):
            if json.loads(text)["email"].lower() == wanted:
                return user_id
        return "Error: user not found"

    def _find_user_id_by_name_zip(self, a: dict[str, Any]) -> str:
        first, last = a["first_name"].lower(), a["last_name"].lower()
        for user_id, text in self.shop.raw_records("users"):
            user = json.loads(text)
            if (
                user["name"]["first_name"].lower() == first
                and user["name"]["last_name"].lower() == last
                and user["address"]["zip"] == a["zip"]
            ):
                return user_id
        return "Error: user not found"

    def _get_user_details(self, a: dict[str, Any]) -> str:
        user = self.shop.raw_record("users", a["user_id"])
        return "Error: user not found" if user is None else json.dumps(user)

    def _get_order_details(self, a: dict[str, Any]) -> str:
        order = self.shop.raw_record("orders", a["order_id"])
        return "Error: order not found" if order is None else json.dumps(order)

    def _get_product_details(self, a: dict[str, Any]) -> str:
        product = self.shop.raw_record("products", a["product_id"])
        return "Error: product not found" if product is None else json.dumps(product)

    def _list_all_product_types(self, a: dict[str, Any]) -> str:
        names = {}
        for _, text in self.shop.raw_records("products"):
            product = json.loads(text)
            names[product["name"]] = product["product_id"]
        return json.dumps(dict(sorted(names.items())))

    def _calculate(self, a: dict[str, Any]) -> str:
        return calculate(a["expression"])

    def _think(self, a: dict[str, Any]) -> str:
        return ""

    def _transfer_to_human_agents(self, a: dict[str, Any]) -> str:
        return "Transfer successful"
