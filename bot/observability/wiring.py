"""Puts the metrics into an application: ``/metrics``, the HTTP counter, figures read at scrape.

Called once by :func:`bot.app.create_app`; the turn's own parts are wrapped there with
:mod:`bot.observability.observers`.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web

from bot.appkeys import METRICS, RATE_LIMITS
from bot.channels.background import ConversationTasks
from bot.channels.base import InputChannel
from bot.channels.outbound import OutboundClient
from bot.channels.webchat import WebChatChannel
from bot.observability import routes
from bot.observability.metrics import Metrics


def install_metrics(
    app: web.Application,
    metrics: Metrics,
    *,
    turns: ConversationTasks,
    outbound: OutboundClient,
    channels: Sequence[InputChannel],
) -> None:
    """Serves ``metrics`` at ``/metrics``, counts every answer, reads the parts' own figures
    (the REST rate limits' refusals from ``app[RATE_LIMITS]``).

    Args:
        app: the application, not yet started.
        metrics: its registry.
        turns: the queue of background turns (messaging apps): its depth.
        outbound: the client replies to platforms leave through: sent, retried, failed.
        channels: the serving channels; a widget channel's open sockets are a gauge.
    """
    app[METRICS] = metrics
    # Outermost, so it sees the status the error middleware made of any exception.
    app.middlewares.insert(0, routes.metrics_middleware)
    app.add_routes(routes.routes())
    metrics.watch(
        "concierge_background_turns",
        "Messaging-app turns acknowledged and not finished (queued or running)",
        "state",
        lambda: {"pending": turns.pending},
    )
    metrics.watch(
        "concierge_background_turns_finished",
        "Messaging-app turns finished, by result",
        "result",
        lambda: {"done": turns.done, "failed": turns.failed},
        counter=True,
    )
    metrics.watch(
        "concierge_outbound_calls",
        "Calls to messaging platforms' APIs, by result (sent, retried, failed)",
        "result",
        outbound.counters.to_dict,
        counter=True,
    )
    metrics.watch(
        "concierge_rate_limited",
        "REST requests refused with 429, by the limit that refused them (sender, ip)",
        "limit",
        lambda: dict(app[RATE_LIMITS].refused),  # read at scrape: a test may swap the limits
        counter=True,
    )
    widgets = [channel for channel in channels if isinstance(channel, WebChatChannel)]
    if widgets:
        metrics.watch(
            "concierge_widget_sockets",
            "Website widget sockets open on this worker",
            "channel",
            lambda: {"webchat": sum(widget.open_sockets() for widget in widgets)},
        )
