"""The wire format of OpenAI's chat-completions API, as :mod:`bot.generation.openai_compat` uses it.

Request bodies, the Server-Sent Events decoder for streamed answers, and readers for chunks,
whole completions, model lists and error bodies. Pure functions over bytes and dicts: no I/O.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, NotRequired, TypedDict

from bot.generation.backend import GenerationError, GenerationRequest
from bot.http_bodies import snippet

# OpenAI's API rejects more than four stop sequences; vLLM and TGI take any number. The server
# gets the first four (so it stops early and wastes no tokens) and the client enforces them all.
_SERVER_STOPS = 4
# A line this long without a newline is not an event stream; stop buffering before memory goes.
_MAX_LINE_BYTES = 1 << 20
_LINE_END = re.compile(rb"\r\n|\r|\n")


class WireMessage(TypedDict):
    role: str
    content: str


class ChatCompletionRequest(TypedDict):
    """Body of ``POST /chat/completions`` as this adapter sends it."""

    model: str
    messages: list[WireMessage]
    max_tokens: int
    temperature: float
    stream: bool
    stop: NotRequired[list[str]]


@dataclass(frozen=True, slots=True)
class ChunkDelta:
    """What one ``chat.completion.chunk`` adds: text (maybe empty) and maybe why it ended."""

    content: str
    finish_reason: str | None = None


class SSEDecoder:
    """Turns a ``text/event-stream`` body, fed in arbitrary network chunks, into event data.

    Implements what chat servers use of the WHATWG event-stream format: ``data:`` fields (several
    in one event are joined with newlines, the one space after the colon is dropped), comment
    lines starting with ``:`` (keep-alives such as ``: ping``), and events ended by a blank line.
    ``event:``, ``id:`` and ``retry:`` fields are ignored. Lines may end in LF, CRLF or CR, and a
    chunk may end anywhere, even inside a UTF-8 character or between CR and LF.
    """

    def __init__(self) -> None:
        self._buffer = b""
        self._data: list[str] = []

    def feed(self, chunk: bytes) -> list[str]:
        """Adds bytes from the network.

        Args:
            chunk: The next bytes of the body, cut anywhere.

        Returns:
            The data of every event completed by this chunk, in order.

        Raises:
            GenerationError: A line grew beyond 1 MiB, so this is not an event stream.
        """
        self._buffer += chunk
        events: list[str] = []
        start = 0
        for match in _LINE_END.finditer(self._buffer):
            # A CR at the very end may be the first half of a CRLF that the next chunk ends.
            if match.group() == b"\r" and match.end() == len(self._buffer):
                break
            self._line(self._buffer[start : match.start()], events)
            start = match.end()
        self._buffer = self._buffer[start:]
        if len(self._buffer) > _MAX_LINE_BYTES:
            raise GenerationError("the server sent a line of over 1 MiB; not an event stream")
        return events

    def close(self) -> list[str]:
        """Ends the body and returns the events it still held.

        The standard drops an event that lacks its closing blank line; a server that ends the
        body right after ``data: [DONE]`` is common enough to be accepted instead.
        """
        events: list[str] = []
        if self._buffer:
            self._line(self._buffer, events)
            self._buffer = b""
        self._line(b"", events)
        return events

    def _line(self, line: bytes, events: list[str]) -> None:
        if not line:
            if self._data:
                events.append("\n".join(self._data))
                self._data = []
            return
        if line.startswith(b":"):
            return
        name, _, value = line.partition(b":")
        if name == b"data":
            # Lines are split on newline bytes, which never occur inside a UTF-8 sequence, so a
            # character cut across network chunks is whole again here.
            self._data.append(value.removeprefix(b" ").decode("utf-8", errors="replace"))


def parse_chunk(data: str) -> ChunkDelta:
    """Reads one ``chat.completion.chunk`` from an event's data.

    A chunk without choices (usage statistics), a role-only first delta and a null content all
    give empty text.

    Raises:
        GenerationError: The data is not a chunk, or the server reported an error mid-stream
            (vLLM does this for failures after the response started).
    """
    try:
        chunk = json.loads(data)
    except ValueError as exc:
        raise GenerationError(f"the server sent an event that is not JSON: {data[:80]!r}") from exc
    if not isinstance(chunk, dict):
        raise GenerationError(f"the server sent an event that is not an object: {data[:80]!r}")
    if "error" in chunk or chunk.get("object") == "error":
        raise GenerationError(f"the server failed mid-answer: {_error_message(chunk, data)}")
    choices = chunk.get("choices")
    if not choices:
        return ChunkDelta("")
    choice = choices[0] if isinstance(choices, list) else None
    if not isinstance(choice, dict):
        raise GenerationError(f"the server sent a chunk without a choice object: {data[:80]!r}")
    delta = choice.get("delta")
    content = delta.get("content") if isinstance(delta, dict) else None
    if content is not None and not isinstance(content, str):
        raise GenerationError(f"the server sent non-text content: {data[:80]!r}")
    finish = choice.get("finish_reason")
    return ChunkDelta(content or "", finish if isinstance(finish, str) else None)


def parse_completion(body: bytes) -> str:
    """The text of a whole (non-streamed) ``chat.completion`` answer.

    Raises:
        GenerationError: The body is not a chat completion.
    """
    try:
        data = json.loads(body)
        content = data["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise GenerationError(
            f"the server's answer is not a chat completion: {snippet(body)!r}"
        ) from exc
    if content is not None and not isinstance(content, str):
        raise GenerationError(f"the server's answer has non-text content: {snippet(body)!r}")
    return content or ""


def _error_message(data: Any, fallback: str) -> str:
    """The message in an error body: OpenAI and new vLLM nest it, old vLLM and TGI do not."""
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return str(error["message"])
        if isinstance(error, str):
            return error
        for key in ("message", "detail"):
            if isinstance(data.get(key), str):
                return str(data[key])
    return fallback


def error_text(body: bytes) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return snippet(body)
    return _error_message(data, snippet(body))


def chat_payload(model: str, request: GenerationRequest) -> ChatCompletionRequest:
    payload: ChatCompletionRequest = {
        "model": model,
        "messages": [{"role": m.role, "content": m.content} for m in request.messages],
        "max_tokens": request.max_new_tokens,
        "temperature": request.temperature,
        "stream": True,
    }
    stops = [s for s in request.stop if s]
    if stops:
        payload["stop"] = stops[:_SERVER_STOPS]
    return payload


def model_ids(body: bytes) -> list[str]:
    """The ids in a ``GET /models`` answer (``{"data": [{"id": ...}, ...]}``)."""
    try:
        data = json.loads(body)
    except ValueError:
        return []
    models = data.get("data") if isinstance(data, dict) else None
    if not isinstance(models, list):
        return []
    return [m["id"] for m in models if isinstance(m, dict) and isinstance(m.get("id"), str)]
