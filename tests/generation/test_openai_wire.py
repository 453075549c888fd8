"""The chat-completions wire format: the SSE decoder and the chunk reader."""

from __future__ import annotations

import pytest

from bot.generation.backend import GenerationError
from bot.generation.openai_wire import ChunkDelta, SSEDecoder, parse_chunk


def feed_bytewise(decoder: SSEDecoder, raw: bytes) -> list[str]:
    events: list[str] = []
    for i in range(len(raw)):
        events += decoder.feed(raw[i : i + 1])
    return events + decoder.close()


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_sse_decoder_reassembles_events_fed_byte_by_byte(newline: bytes) -> None:
    raw = newline.join(
        [
            b": ping",
            b"",
            b"event: message",
            b'data: {"a": "caf\xc3\xa9 \xf0\x9f\x98\x80"}',
            b"id: 7",
            b"",
            b"data:no-space",
            b"data",
            b"data:  two spaces",
            b"",
            b"retry: 100",
            b"",
            b"data: [DONE]",
            b"",
            b"",
        ]
    )

    events = feed_bytewise(SSEDecoder(), raw)

    assert events == ['{"a": "café 😀"}', "no-space\n\n two spaces", "[DONE]"]


def test_sse_decoder_keeps_a_partial_event_until_its_blank_line() -> None:
    decoder = SSEDecoder()

    assert decoder.feed(b'data: {"x"') == []
    assert decoder.feed(b": 1}\n") == []
    assert decoder.feed(b"\n") == ['{"x": 1}']


def test_sse_decoder_close_delivers_an_unterminated_last_event() -> None:
    decoder = SSEDecoder()

    assert decoder.feed(b"data: 1\n\ndata: [DONE]") == ["1"]
    assert decoder.close() == ["[DONE]"]


def test_sse_decoder_refuses_an_endless_line() -> None:
    with pytest.raises(GenerationError, match="not an event stream"):
        SSEDecoder().feed(b"x" * (2 << 20))


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ('{"choices": [{"index": 0, "delta": {"role": "assistant"}}]}', ChunkDelta("")),
        ('{"choices": [{"delta": {"content": null}, "finish_reason": null}]}', ChunkDelta("")),
        ('{"choices": [{"delta": {"content": "Hi"}}]}', ChunkDelta("Hi")),
        ('{"choices": [{"delta": {}, "finish_reason": "length"}]}', ChunkDelta("", "length")),
        ('{"choices": [{"finish_reason": "stop"}]}', ChunkDelta("", "stop")),
        ('{"choices": [], "usage": {"completion_tokens": 3}}', ChunkDelta("")),
    ],
)
def test_parse_chunk_reads_content_and_finish_reason(data: str, expected: ChunkDelta) -> None:
    assert parse_chunk(data) == expected


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "not an object"),
        ('{"choices": ["text"]}', "without a choice"),
        ('{"choices": [{"delta": {"content": 5}}]}', "non-text"),
        ('{"error": {"message": "out of memory"}}', "out of memory"),
        ('{"object": "error", "message": "engine dead"}', "engine dead"),
    ],
)
def test_parse_chunk_rejects_what_is_not_a_chunk(data: str, message: str) -> None:
    with pytest.raises(GenerationError, match=message):
        parse_chunk(data)
