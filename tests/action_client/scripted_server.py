"""A fake rasa-sdk action server that replies from a script, for the HTTP client tests."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass(frozen=True)
class Answer:
    """One scripted reply of the fake action server."""

    status: int = 200
    body: str = '{"events": [], "responses": []}'
    delay_s: float = 0.0


@dataclass
class ScriptedActionServer:
    """Replies to ``POST /webhook`` with ``answers`` in turn (the last one repeats)."""

    answers: list[Answer] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""

    async def webhook(self, request: web.Request) -> web.Response:
        self.requests.append(await request.json())
        index = min(len(self.requests), len(self.answers)) - 1
        answer = self.answers[index]
        if answer.delay_s:
            await asyncio.sleep(answer.delay_s)
        return web.Response(status=answer.status, text=answer.body, content_type="application/json")

    async def health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})


def result_body(events: list[dict[str, Any]], responses: list[dict[str, Any]]) -> str:
    """A 200 body in rasa-sdk's result shape."""
    return json.dumps({"events": events, "responses": responses})
