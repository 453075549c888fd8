"""An ``ActionExecutor`` that runs a rasa-sdk action package inside the bot's own process.

It speaks the same protocol as :class:`~bot.action_client.HttpActionExecutor`: the call is the
webhook's JSON body (encoded and decoded, so actions get their own copy of the tracker, exactly
as over HTTP), handed to rasa-sdk's own executor; its answer is checked by the same parser. What
it saves is the second process and the HTTP round trip, which suits benchmarks, tests and a
single-process deployment of a small shop. Actions that block (SQLite calls) then block the
bot's event loop for as long as they run, so the HTTP action server stays the default.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from bot.action_client import (
    ActionExecutor,
    ActionResult,
    action_call,
    parse_action_response,
)
from bot.domain import TrackerView
from bot.errors import ActionNotFound, ActionRejected, ActionServerUnavailable


class InProcessActionExecutor(ActionExecutor):
    """Runs the actions of ``package`` (e.g. ``"actions"``) through rasa-sdk, in this process."""

    def __init__(self, package: str = "actions") -> None:
        """Imports ``package`` and registers its actions, as ``rasa_sdk --actions`` does.

        Raises:
            ModuleNotFoundError: ``package`` cannot be imported.
        """
        # rasa-sdk (and sanic with it) is imported only by this adapter.
        from rasa_sdk.executor import ActionExecutor as SdkExecutor

        self._executor: Any = SdkExecutor()
        self._executor.register_package(package)
        self.package = package

    async def run(
        self, action_name: str, tracker: TrackerView, domain: Mapping[str, Any]
    ) -> ActionResult:
        """Runs ``action_name``; see :meth:`ActionExecutor.run`."""
        from rasa_sdk.interfaces import ActionExecutionRejection, ActionNotFoundException

        call = action_call(action_name, tracker, domain)
        try:
            result = await self._executor.run(json.loads(json.dumps(call)))
        except ActionExecutionRejection as exc:
            raise ActionRejected(action_name, str(exc.message)) from exc
        except ActionNotFoundException as exc:
            raise ActionNotFound(action_name, f"not in package {self.package!r}") from exc
        except Exception as exc:  # an action that crashes is a 500 over HTTP
            raise ActionServerUnavailable(
                action_name, f"crashed: {type(exc).__name__}: {exc}"
            ) from exc
        body = json.dumps(result.model_dump() if result is not None else None).encode()
        return parse_action_response(action_name, body)

    async def health(self) -> bool:
        """Always healthy: the actions live in this process."""
        return True

    async def aclose(self) -> None:
        """Nothing to release."""
