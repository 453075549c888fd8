"""Typed keys for the objects an aiohttp application shares (see STYLE.md, typed app state)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from bot.action_client import ActionExecutor
from bot.config import Settings
from bot.pipeline import Pipeline
from bot.sessions.base import SessionStore

SETTINGS = web.AppKey("settings", Settings)
PIPELINE = web.AppKey("pipeline", Pipeline)
STORE = web.AppKey("store", SessionStore)
ACTIONS = web.AppKey("actions", ActionExecutor)
READY = web.AppKey("ready", dict[str, bool])
STATS: web.AppKey[Callable[[], dict[str, Any]]] = web.AppKey("stats")
