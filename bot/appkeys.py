"""Typed keys for the objects an aiohttp application shares (see STYLE.md, typed app state)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from bot.action_client import ActionExecutor
from bot.action_server_process import EmbeddedActionServer
from bot.channels.background import ConversationTasks
from bot.channels.outbound import OutboundClient
from bot.channels.rest_limits import RestRateLimits
from bot.config import Settings
from bot.observability.metrics import Metrics
from bot.pipeline import Pipeline
from bot.privacy.erase import Eraser
from bot.sessions.base import SessionStore

SETTINGS = web.AppKey("settings", Settings)
PIPELINE = web.AppKey("pipeline", Pipeline)
STORE = web.AppKey("store", SessionStore)
ACTIONS = web.AppKey("actions", ActionExecutor)
READY = web.AppKey("ready", dict[str, bool])
STATS: web.AppKey[Callable[[], dict[str, Any]]] = web.AppKey("stats")
TURNS = web.AppKey("turns", ConversationTasks)
"""Turns run after their webhook was acknowledged (messaging apps), in order per conversation."""
OUTBOUND = web.AppKey("outbound", OutboundClient)
"""The one client replies to messaging platforms go through."""
METRICS = web.AppKey("metrics", Metrics)
"""The application's Prometheus metrics (GET /metrics)."""
RATE_LIMITS = web.AppKey("rate_limits", RestRateLimits)
"""Per-sender and per-address buckets of the REST endpoints."""
EMBEDDED_ACTIONS = web.AppKey("embedded_actions", EmbeddedActionServer)
"""The action server `bot run` started for this app (absent when it runs elsewhere)."""
ERASER = web.AppKey("eraser", Eraser)
"""Erases conversations and shoppers everywhere (DELETE /conversations/…, /shoppers/…)."""
