"""Adapter for a model server that speaks OpenAI's streaming chat-completions API.

A shop that outgrows the in-process model serves a bigger one on vLLM, TGI or anything else with
an OpenAI-compatible endpoint, and points the bot at it::

    generator = OpenAICompatGenerator("http://gpu-box:8000/v1", "Qwen/Qwen2.5-7B-Instruct")
    await generator.start()  # GET /v1/models: is the server up and serving that model?
    async for piece in generator.stream(request):
        ...
    await generator.aclose()

Protocol: ``POST {base_url}/chat/completions`` with ``"stream": true`` answers a Server-Sent
Events body, one ``chat.completion.chunk`` JSON object per ``data:`` field and ``data: [DONE]``
at the end. The first chunk usually carries only the role, later ones ``choices[0].delta.content``
(sometimes null), the last one a ``finish_reason``. Errors are ``{"error": {"message": ...}}``.

Failure policy: refused connections, 408/429/5xx answers and streams that break before the first
piece of text are retried with a :class:`~bot.retry.Backoff`, since nothing reached the shopper
yet. Once text has been handed out a failure raises :class:`GenerationError`: a silent restart
would repeat (or, when sampling, contradict) what the shopper already read.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass

import aiohttp
from yarl import URL

from bot.errors import ConfigError
from bot.generation.backend import (
    GenerationError,
    GenerationRequest,
    GenerationTimeout,
    GeneratorBusy,
    TextGenerator,
    first_stop,
)
from bot.generation.openai_wire import (
    ChatCompletionRequest,
    SSEDecoder,
    chat_payload,
    error_text,
    model_ids,
    parse_chunk,
    parse_completion,
)
from bot.retry import Backoff, TransientFailure, retry

log = logging.getLogger(__name__)


class _StopFilter:
    """Applies stop strings to streamed text.

    Servers differ in how (and whether) they apply ``stop``, so the client cuts the text too. A
    tail that could be the start of a stop string is held back until the next piece shows
    whether it is one; otherwise the shopper would see half a stop string flash by.
    """

    def __init__(self, stops: Sequence[str]) -> None:
        self._stops = tuple(s for s in stops if s)
        self._held = ""
        self.stopped = False

    def push(self, piece: str) -> str:
        """The text that is now safe to hand out; sets ``stopped`` when a stop string appeared."""
        if not self._stops:
            return piece
        text = self._held + piece
        cut = first_stop(text, self._stops)
        if cut is not None:
            self.stopped = True
            self._held = ""
            return text[:cut]
        keep = self._partial_stop_length(text)
        self._held = text[len(text) - keep :]
        return text[: len(text) - keep]

    def flush(self) -> str:
        """The held-back tail, once the stream ended without completing a stop string."""
        held, self._held = self._held, ""
        return held

    def _partial_stop_length(self, text: str) -> int:
        longest = 0
        for stop in self._stops:
            for length in range(min(len(stop) - 1, len(text)), longest, -1):
                if text.endswith(stop[:length]):
                    longest = length
                    break
        return longest


class _ChunkReader:
    """Reads content pieces from a streaming response; network failures are transient."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._content = response.content
        self._decoder = SSEDecoder()
        self._events: deque[str] = deque()
        self._eof = False
        self.done = False
        self.finish_reason: str | None = None

    async def next_piece(self) -> str | None:
        """The next non-empty piece of text, or None once the answer is complete.

        Raises:
            TransientFailure: The connection broke, or the body ended before the answer did.
            GenerationError: The server sent something that is not a chunk, or an error.
        """
        while not self.done:
            if self._events:
                data = self._events.popleft()
                if data.strip() == "[DONE]":
                    self.done = True
                    break
                delta = parse_chunk(data)
                if delta.finish_reason is not None:
                    self.finish_reason = delta.finish_reason
                if delta.content:
                    return delta.content
                continue
            if self._eof:
                if self.finish_reason is None:
                    raise TransientFailure("the answer stream ended before it was complete")
                # Some servers close the body after the finish_reason chunk without [DONE].
                self.done = True
                break
            try:
                chunk = await self._content.readany()
            except (aiohttp.ClientError, ConnectionError) as exc:
                raise TransientFailure(
                    f"the answer stream broke: {type(exc).__name__}: {exc}"
                ) from exc
            if chunk:
                self._events.extend(self._decoder.feed(chunk))
            else:
                self._eof = True
                self._events.extend(self._decoder.close())
        return None


@dataclass(slots=True)
class _Opened:
    """A response that produced its first piece of text (or finished without any)."""

    response: aiohttp.ClientResponse
    chunks: _ChunkReader | None  # None: the server answered with one JSON body
    first: str | None

    def close(self) -> None:
        if self.chunks is None or self.chunks.done:
            # Complete: the connection can go back to the pool for the next request.
            self.response.release()
        else:
            # Unfinished: closing the socket is what tells vLLM / TGI to abort the generation.
            self.response.close()


class OpenAICompatGenerator(TextGenerator):
    """Streams answers from an OpenAI-compatible chat-completions server (vLLM, TGI, ...).

    At most ``max_concurrency`` streams run at once; up to ``max_waiting`` more wait for a slot
    and any beyond that are refused with :class:`GeneratorBusy` at once, so a traffic spike
    degrades to retrieved answers instead of a queue that outlives every shopper's patience.

    The HTTP session is created on first use (no I/O in ``__init__``) and closed by
    :meth:`aclose`; a session passed in belongs to the caller and is left open.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        timeout_s: float = 30.0,
        connect_timeout_s: float = 5.0,
        backoff: Backoff | None = None,
        max_concurrency: int = 64,
        max_waiting: int = 256,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        """Configures the client; connects only when first used.

        Args:
            base_url: The API root including the version, e.g. ``http://gpu-box:8000/v1``.
            model: The model name the server serves (``GET /v1/models`` lists them).
            api_key: Sent as ``Authorization: Bearer``; None sends no credentials.
            timeout_s: Default limit for a whole generation, waiting for a slot, retries and
                streaming included; ``GenerationRequest.timeout_s`` overrides it.
            connect_timeout_s: Limit for opening one TCP connection.
            backoff: Delays between attempts before the first piece of text; 3 tries by default.
            max_concurrency: Streams open at once.
            max_waiting: Generations that may wait for a free stream before more are refused.
            session: An existing session to share; otherwise one is created on first use.

        Raises:
            ConfigError: The URL is not http(s), the model is empty or a limit is out of range.
        """
        base = URL(base_url.rstrip("/"))
        if base.scheme not in ("http", "https") or not base.host:
            raise ConfigError(
                "generator.base_url", f"expected http(s)://host[:port]/v1, got {base_url!r}"
            )
        if not model:
            raise ConfigError("generator.model", "must name the model the server serves")
        for key, value in (("timeout_s", timeout_s), ("connect_timeout_s", connect_timeout_s)):
            if value <= 0:
                raise ConfigError(f"generator.{key}", f"must be > 0, got {value}")
        if max_concurrency < 1:
            raise ConfigError("generator.max_concurrency", f"must be >= 1, got {max_concurrency}")
        if max_waiting < 0:
            raise ConfigError("generator.max_waiting", f"must be >= 0, got {max_waiting}")
        self.base_url = base
        self.completions_url = base / "chat/completions"
        self.models_url = base / "models"
        self.model = model
        self.name = f"openai-compat:{model}"
        self._auth = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._timeout_s = timeout_s
        # Only connecting has its own limit: a stream may legitimately be silent for a while
        # (a long prompt being read), and the per-generation deadline bounds everything else.
        self._http_timeout = aiohttp.ClientTimeout(total=None, sock_connect=connect_timeout_s)
        self._backoff = backoff or Backoff()
        self._slots = asyncio.Semaphore(max_concurrency)
        self._max_waiting = max_waiting
        self._waiting = 0
        self._session = session
        self._owns_session = session is None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            if not self._owns_session:
                raise RuntimeError("the aiohttp session passed to OpenAICompatGenerator is closed")
            # No connection limit: the semaphore bounds streams, and aiohttp's default of 100
            # would otherwise queue requests silently when max_concurrency is set higher.
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        return self._session

    async def start(self) -> None:
        """Checks that the server answers and serves ``model``; safe to call more than once.

        Raises:
            GenerationError: The server is unreachable, refused the request (a wrong API key)
                or does not list the model.
        """
        try:
            async with (
                asyncio.timeout(self._timeout_s),
                self._client().get(
                    self.models_url, headers=self._auth, timeout=self._http_timeout
                ) as response,
            ):
                status = response.status
                body = await response.read()
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise GenerationError(
                f"cannot reach the generation server at {self.models_url}: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        if status != 200:
            hint = " (check the API key)" if status in (401, 403) else ""
            raise GenerationError(
                f"the generation server at {self.models_url} answered HTTP {status}{hint}: "
                f"{error_text(body)}"
            )
        served = model_ids(body)
        if self.model not in served:
            raise GenerationError(
                f"the generation server at {self.base_url} does not serve model {self.model!r}; "
                f"it serves: {', '.join(served) or 'nothing'}"
            )

    async def aclose(self) -> None:
        """Closes the session this client created; a session passed in is left open."""
        if self._owns_session and self._session is not None:
            session, self._session = self._session, None
            await session.close()

    async def stream(self, request: GenerationRequest) -> AsyncGenerator[str, None]:
        """Streams the answer; see :meth:`TextGenerator.stream`.

        Leaving the iteration early or cancelling the consumer closes the HTTP connection,
        which makes the server abort the generation.
        """
        budget = request.timeout_s or self._timeout_s
        deadline = asyncio.get_running_loop().time() + budget
        started = time.perf_counter()
        await self._acquire_slot(deadline, budget)
        opened: _Opened | None = None
        pieces = 0
        try:
            opened = await self._open(chat_payload(self.model, request), deadline, budget)
            first_after = time.perf_counter() - started
            stops = _StopFilter(request.stop)
            piece = opened.first
            while piece is not None:
                text = stops.push(piece)
                if text:
                    pieces += 1
                    yield text
                if stops.stopped:
                    break
                piece = await self._next_piece(opened, deadline, budget)
            else:
                tail = stops.flush()
                if tail:
                    pieces += 1
                    yield tail
            log.debug(
                "generation on %s: %d pieces, first after %.0f ms, all in %.0f ms",
                self.name,
                pieces,
                first_after * 1000,
                (time.perf_counter() - started) * 1000,
            )
        finally:
            if opened is not None:
                opened.close()
            self._slots.release()

    async def _acquire_slot(self, deadline: float, budget: float) -> None:
        if self._slots.locked() and self._waiting >= self._max_waiting:
            raise GeneratorBusy(
                f"the queue for {self.name} is full: all {self._waiting} waiting places are taken"
            )
        self._waiting += 1
        try:
            async with asyncio.timeout_at(deadline):
                await self._slots.acquire()
        except TimeoutError as exc:
            raise GenerationTimeout(
                f"no free stream to {self.name} within {budget:g}s (all are busy)"
            ) from exc
        finally:
            self._waiting -= 1

    async def _open(
        self, payload: ChatCompletionRequest, deadline: float, budget: float
    ) -> _Opened:
        """Sends the request and reads up to the first piece of text, retrying until then."""
        body = json.dumps(payload).encode()
        attempts = 0

        async def attempt() -> _Opened:
            nonlocal attempts
            attempts += 1
            return await self._open_once(body)

        try:
            async with asyncio.timeout_at(deadline):
                return await retry(
                    attempt,
                    self._backoff,
                    retry_on=(TransientFailure,),
                    describe=f"generation on {self.completions_url}",
                )
        except TimeoutError as exc:
            raise GenerationTimeout(
                f"no answer from {self.completions_url} within {budget:g}s ({attempts} attempts)"
            ) from exc
        except TransientFailure as exc:
            raise GenerationError(
                f"{exc.reason} (gave up after {attempts} attempts to {self.completions_url})"
            ) from exc

    async def _open_once(self, body: bytes) -> _Opened:
        try:
            response = await self._client().post(
                self.completions_url,
                data=body,
                headers={
                    "Content-Type": "application/json",
                    "Accept": "text/event-stream",
                    **self._auth,
                },
                timeout=self._http_timeout,
            )
        except aiohttp.ClientError as exc:
            raise TransientFailure(f"cannot reach the server: {type(exc).__name__}: {exc}") from exc
        try:
            return await self._read_first_piece(response)
        except BaseException:
            response.close()
            raise

    async def _read_first_piece(self, response: aiohttp.ClientResponse) -> _Opened:
        status = response.status
        if status != 200:
            try:
                answer = await response.read()
            except aiohttp.ClientError:
                answer = b""
            message = f"HTTP {status}: {error_text(answer)}"
            # 429 and 5xx are about the server's state (overloaded, restarting), not about
            # this request; any other status would only repeat.
            if status in (408, 429) or status >= 500:
                raise TransientFailure(message)
            raise GenerationError(
                f"the generation server at {self.completions_url} refused the request, {message}"
            )
        if response.content_type == "application/json":
            # A server or proxy that ignores "stream": true answers the whole completion at once.
            try:
                answer = await response.read()
            except aiohttp.ClientError as exc:
                raise TransientFailure(f"the answer broke: {type(exc).__name__}: {exc}") from exc
            return _Opened(response, None, parse_completion(answer) or None)
        chunks = _ChunkReader(response)
        return _Opened(response, chunks, await chunks.next_piece())

    async def _next_piece(self, opened: _Opened, deadline: float, budget: float) -> str | None:
        if opened.chunks is None:
            return None
        try:
            async with asyncio.timeout_at(deadline):
                return await opened.chunks.next_piece()
        except TimeoutError as exc:
            raise GenerationTimeout(
                f"the answer from {self.name} was not complete within {budget:g}s"
            ) from exc
        except TransientFailure as exc:
            # Text already reached the consumer, so repeating the request is not an option.
            raise GenerationError(
                f"{exc.reason} after the answer had started; not retried"
            ) from exc
