"""bot/input_checks.py: what clients send is valid Unicode, finite and shallow, or refused."""

from __future__ import annotations

import json

import pytest

from bot.errors import BadRequest
from bot.input_checks import (
    MAX_JSON_DEPTH,
    checked_tree,
    lone_surrogate_at,
    parse_json,
    require_unicode,
    scrub,
)


def test_valid_text_and_pairs_pass_unchanged() -> None:
    # A pair escaped in JSON ("\ud83d\ude00") decodes to one code point: valid.
    body = parse_json(b'{"message": "hi \\ud83d\\ude00 \xc3\xa9 \\u0000", "n": [1, 2.5]}')
    assert body == {"message": "hi \U0001f600 é \x00", "n": [1, 2.5]}
    assert lone_surrogate_at("plain") is None
    assert lone_surrogate_at("é\U0001f600") is None


@pytest.mark.parametrize(
    ("raw", "field", "position"),
    [
        (b'{"sender": "x", "message": "hello \\ud800 there"}', "message", 6),
        (b'{"sender": "\\udfff", "message": "hi"}', "sender", 0),
        (b'{"metadata": {"deep": ["ok", "\\udc80"]}}', "metadata.deep[1]", 0),
        (b'"\\ud83d"', "body", 0),  # the first half of a pair alone
    ],
)
def test_lone_surrogates_are_refused_naming_where(raw: bytes, field: str, position: int) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_json(raw)
    message = str(caught.value)
    assert caught.value.status == 400
    assert f"`{field}`" in message
    assert f"character {position}" in message
    assert "not valid Unicode" in message


def test_a_key_with_a_lone_surrogate_is_refused() -> None:
    with pytest.raises(BadRequest, match="a key in metadata"):
        parse_json(b'{"metadata": {"\\ud800": 1}}')


def test_replace_repairs_every_string_and_key() -> None:
    body = parse_json(
        b'{"text": "a\\ud800b\\udc00c", "\\udbff": ["\\ud800"]}', surrogates="replace"
    )
    assert body == {"text": "a\ufffdb\ufffdc", "\ufffd": ["\ufffd"]}
    assert lone_surrogate_at(json.dumps(body, ensure_ascii=False)) is None


def test_scrub_and_require_unicode() -> None:
    assert scrub("ok \U0001f600") == "ok \U0001f600"
    assert scrub("\ud800x\udfff") == "\ufffdx\ufffd"
    assert require_unicode("fine", "sender") == "fine"
    with pytest.raises(BadRequest, match=r"`sender`.*U\+D800"):
        require_unicode("a\ud800", "sender")


@pytest.mark.parametrize("opening", [b"[", b'{"a":'])
def test_5000_nested_brackets_are_a_400_not_a_recursion_error(opening: bytes) -> None:
    closing = b"]" if opening == b"[" else b"}"
    with pytest.raises(BadRequest, match="nested deeper than"):
        parse_json(opening * 5000 + b"1" + closing * 5000)


def test_depth_limit_is_exact() -> None:
    at_limit = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert checked_tree(json.loads(at_limit)) is not None
    with pytest.raises(BadRequest, match=f"deeper than {MAX_JSON_DEPTH}"):
        parse_json("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1))


@pytest.mark.parametrize(
    "raw",
    [
        b'{"x": NaN}',
        b'{"x": Infinity}',
        b'{"x": -Infinity}',
        b'{"x": 1e999}',
        b'{"x": ' + b"7" * 5000 + b"}",
    ],
)
def test_numbers_python_cannot_hold_or_write_back_are_refused(raw: bytes) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_json(raw)
    assert caught.value.status == 400
    assert len(str(caught.value)) <= 200


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        (b"\xff\xfe garbage", "not UTF-8"),
        (b'{"x": "\xed\xa0\x80"}', "not UTF-8"),  # a surrogate encoded as UTF-8 bytes
        (b"{not json", "not JSON"),
    ],
)
def test_bytes_that_are_not_utf8_json(raw: bytes, needle: str) -> None:
    with pytest.raises(BadRequest, match=needle):
        parse_json(raw)
