"""An in-process OpenAI-compatible chat server for tests; it speaks the wire protocol for real.

Start it on port 0 with pytest-aiohttp's ``aiohttp_server``::

    fake = FakeOpenAIServer()
    server = await aiohttp_server(fake.app())
    generator = OpenAICompatGenerator(str(server.make_url("/v1")), fake.models[0])

It "generates" deterministically: the answer echoes the words of the last user message, one word
per token (``echo_tokens``), ``token_delay_s`` apart. It honours ``max_tokens`` and ``stop``
(turn the latter off with ``honour_stop=False`` to test a client's own stop handling), records
every request, and streams the way real servers do and a little worse: a role-only first
chunk, a null-content chunk, ``: ping`` keep-alive comments, ``data:`` lines cut across several
writes, a usage chunk without choices, and ``data: [DONE]`` at the end.

Faults on demand: :meth:`FakeOpenAIServer.fail_next` answers the next completions with an error
status, :meth:`FakeOpenAIServer.break_next` cuts the next stream after some tokens (dropped
connection, clean end without ``[DONE]``, or an in-stream error event). When a client goes
away mid-stream the server notices, stops generating and sets ``disconnected``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

from bot.generation.backend import first_stop

BreakMode = Literal["drop", "eof", "error"]


def echo_tokens(text: str) -> list[str]:
    """The fake model's tokens for ``text``: its words, each after the first with one space."""
    return [word if i == 0 else " " + word for i, word in enumerate(text.split())]


def count_tokens(text: str) -> int:
    """How many fake tokens ``text`` holds (a cut-off last word counts as one)."""
    return len(text.split())


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class StreamRecord:
    """What happened to one streamed completion."""

    tokens_planned: int
    tokens_sent: int = 0
    finished: bool = False
    client_disconnected: bool = False


@dataclass(frozen=True)
class _Failure:
    status: int
    message: str


@dataclass(frozen=True)
class _Break:
    after_tokens: int
    mode: BreakMode


@dataclass
class FakeOpenAIServer:
    """State and handlers of the fake server; ``app()`` wires them into an aiohttp app.

    Attributes:
        models: The model ids served; completions for any other id get a 404.
        api_key: When set, requests must carry ``Authorization: Bearer <api_key>``.
        token_delay_s: Pause before each generated token, so tests can catch a stream midway.
        honour_stop: Apply the request's ``stop`` strings server-side (vLLM does, some do not).
        ignore_stream: Answer ``"stream": true`` with one JSON body, as a non-streaming proxy
            would.
        line_end: Line terminator of the event stream ("\\n", "\\r\\n" or "\\r").
        requests: Every request received, in order.
        streams: One record per streamed completion, in order.
        active_streams: Streams being written right now.
        max_active_streams: The most streams that were ever written at once.
        disconnected: Set when a client went away before its stream ended.
    """

    models: tuple[str, ...] = ("fake-echo",)
    api_key: str | None = None
    token_delay_s: float = 0.0
    honour_stop: bool = True
    ignore_stream: bool = False
    line_end: str = "\n"
    requests: list[RecordedRequest] = field(default_factory=list)
    streams: list[StreamRecord] = field(default_factory=list)
    active_streams: int = 0
    max_active_streams: int = 0
    disconnected: asyncio.Event = field(default_factory=asyncio.Event)
    _failures: deque[_Failure] = field(default_factory=deque)
    _breaks: deque[_Break] = field(default_factory=deque)

    def app(self) -> web.Application:
        """An aiohttp app serving ``/v1/models`` and ``/v1/chat/completions``."""
        app = web.Application()
        app.router.add_get("/v1/models", self.list_models)
        app.router.add_post("/v1/chat/completions", self.chat_completions)
        return app

    def fail_next(self, count: int, status: int, message: str = "server overloaded") -> None:
        """Answers the next ``count`` completion requests with ``status`` and an OpenAI error."""
        self._failures.extend(_Failure(status, message) for _ in range(count))

    def break_next(self, after_tokens: int, mode: BreakMode = "drop") -> None:
        """Cuts the next streamed completion after ``after_tokens`` content tokens.

        Args:
            after_tokens: Content tokens sent before the break (0: right after the role chunk).
            mode: ``drop`` closes the connection mid-body; ``eof`` ends the body cleanly but
                without a finish_reason or ``[DONE]``; ``error`` sends an in-stream error event.
        """
        self._breaks.append(_Break(after_tokens, mode))

    async def list_models(self, request: web.Request) -> web.Response:
        self._record(request, None)
        if refusal := self._refuse_unauthorised(request):
            return refusal
        data = [{"id": m, "object": "model", "created": 0, "owned_by": "fake"} for m in self.models]
        return web.json_response({"object": "list", "data": data})

    async def chat_completions(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
        except ValueError:
            body = None
        self._record(request, body)
        if refusal := self._refuse_unauthorised(request):
            return refusal
        if self._failures:
            failure = self._failures.popleft()
            headers = {"Retry-After": "0"} if failure.status == 429 else None
            return _error(failure.status, failure.message, headers)
        if problem := _invalid(body, self.models):
            status, message = problem
            return _error(status, message)
        tokens, finish_reason = self._generate(body)
        if body.get("stream") and not self.ignore_stream:
            return await self._stream(request, body["model"], tokens, finish_reason)
        return web.json_response(
            {
                **_envelope(body["model"], "chat.completion"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "".join(tokens)},
                        "finish_reason": finish_reason,
                    }
                ],
                "usage": {"completion_tokens": len(tokens)},
            }
        )

    def _record(self, request: web.Request, body: Any) -> None:
        self.requests.append(
            RecordedRequest(request.method, request.path, dict(request.headers), body)
        )

    def _refuse_unauthorised(self, request: web.Request) -> web.Response | None:
        if self.api_key and request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return _error(401, "Incorrect API key provided.")
        return None

    def _generate(self, body: dict[str, Any]) -> tuple[list[str], str]:
        """The answer's tokens and finish_reason: the last user message echoed, then cut."""
        user = [m["content"] for m in body["messages"] if m.get("role") == "user"]
        tokens = echo_tokens(user[-1] if user else "")
        finish_reason = "length" if len(tokens) > body["max_tokens"] else "stop"
        tokens = tokens[: body["max_tokens"]]
        stops = body.get("stop") or []
        if isinstance(stops, str):
            stops = [stops]
        cut = first_stop("".join(tokens), stops) if self.honour_stop else None
        if cut is None:
            return tokens, finish_reason
        # Keep the token boundaries up to the stop, as a real server's stream would show them.
        kept: list[str] = []
        length = 0
        for token in tokens:
            if length + len(token) >= cut:
                kept.append(token[: cut - length])
                break
            kept.append(token)
            length += len(token)
        return [t for t in kept if t], "stop"

    async def _stream(
        self, request: web.Request, model: str, tokens: list[str], finish_reason: str
    ) -> web.StreamResponse:
        record = StreamRecord(tokens_planned=len(tokens))
        self.streams.append(record)
        fault = self._breaks.popleft() if self._breaks else None
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        self.active_streams += 1
        self.max_active_streams = max(self.max_active_streams, self.active_streams)
        try:
            await response.prepare(request)
            await self._comment(response)
            await self._event(response, _chunk(model, {"role": "assistant"}))
            await self._event(response, _chunk(model, {"content": None}))
            for index, token in enumerate(tokens):
                if fault is not None and index == fault.after_tokens:
                    return await self._break(request, response, fault)
                if self.token_delay_s:
                    await asyncio.sleep(self.token_delay_s)
                if index % 3 == 1:
                    await self._comment(response)
                await self._event(response, _chunk(model, {"content": token}))
                record.tokens_sent += 1
            if fault is not None:
                return await self._break(request, response, fault)
            await self._event(response, _chunk(model, {}, finish_reason))
            await self._event(response, {**_envelope(model), "choices": [], "usage": {}})
            await self._event(response, "[DONE]")
            await response.write_eof()
            record.finished = True
            return response
        except (ConnectionResetError, asyncio.CancelledError):
            # aiohttp's test server cancels the handler when the client goes away; a real one
            # fails the next write. Either way the client stopped listening: stop generating.
            record.client_disconnected = True
            self.disconnected.set()
            raise
        finally:
            self.active_streams -= 1

    async def _break(
        self, request: web.Request, response: web.StreamResponse, fault: _Break
    ) -> web.StreamResponse:
        if fault.mode == "error":
            error = {"error": {"message": "CUDA out of memory", "type": "InternalServerError"}}
            await self._event(response, error)
            await response.write_eof()
        elif fault.mode == "eof":
            await response.write_eof()
        else:
            # Closing the socket mid-body is what a crashed server or a cut proxy looks like.
            assert request.transport is not None
            request.transport.close()
        return response

    async def _comment(self, response: web.StreamResponse) -> None:
        await response.write(f": ping{self.line_end}{self.line_end}".encode())

    async def _event(self, response: web.StreamResponse, data: dict[str, Any] | str) -> None:
        text = data if isinstance(data, str) else json.dumps(data)
        raw = f"data: {text}{self.line_end}{self.line_end}".encode()
        # Cut inside "data:", inside the JSON and between the two line ends, where a parser that
        # expects one event per network read would break; the yields let the writes go out apart.
        cuts = [0, 3, len(raw) // 2, len(raw) - len(self.line_end), len(raw)]
        for start, end in itertools.pairwise(cuts):
            await response.write(raw[start:end])
            await asyncio.sleep(0)


def _envelope(model: str, kind: str = "chat.completion.chunk") -> dict[str, Any]:
    return {"id": "chatcmpl-fake", "object": kind, "created": 0, "model": model}


def _chunk(model: str, delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
    return {**_envelope(model), "choices": [choice]}


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    kind = "invalid_request_error" if status < 500 else "server_error"
    body = {"error": {"message": message, "type": kind, "param": None, "code": status}}
    return web.json_response(body, status=status, headers=headers)


def _invalid(body: Any, models: tuple[str, ...]) -> tuple[int, str] | None:
    """Why the request body is not a chat completion request, as (status, message)."""
    if not isinstance(body, dict):
        return 400, "the body must be a JSON object"
    if body.get("model") not in models:
        return 404, f"The model `{body.get('model')}` does not exist."
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return 400, "messages must be a non-empty list"
    if not all(isinstance(m, dict) and isinstance(m.get("content"), str) for m in messages):
        return 400, "each message needs a role and a text content"
    max_tokens = body.get("max_tokens")
    if not isinstance(max_tokens, int) or max_tokens < 1:
        return 400, "max_tokens must be a positive integer"
    return None
