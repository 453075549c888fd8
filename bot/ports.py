"""Whether a TCP port is free on this machine, and which process listens on it when not.

Used before the bot starts a server of its own (the embedded action server), so that a
process already on the port (a stale action server for another shop, say) is named and
never silently talked to. The listening process is found with psutil, which reads
``/proc/net/tcp*`` and the processes' sockets on Linux; a socket of another user's process
is seen without its pid unless the bot runs as root.
"""

from __future__ import annotations

import contextlib
import socket
from dataclasses import dataclass

import psutil


@dataclass(frozen=True, slots=True)
class Listener:
    """A process listening on a port; ``pid`` is None when this user may not see it."""

    pid: int | None
    address: str
    command: str | None = None

    def describe(self) -> str:
        if self.pid is None:
            return f"a process of another user on {self.address} (run as root to see which)"
        what = f" ({self.command})" if self.command else ""
        return f"pid {self.pid}{what} on {self.address}"


def bind_host(host: str) -> str:
    """The address a server for ``host`` (a URL's host) binds: names become addresses."""
    return "127.0.0.1" if host in ("localhost", "") else host


def is_free(host: str, port: int) -> bool:
    """True when a server could listen on ``host:port`` now.

    ``SO_REUSEADDR`` as servers set it, so a port whose last connections are still in
    TIME_WAIT counts as free, while one with a listener (on this address or the wildcard
    one) does not.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((bind_host(host), port))
        except OSError:
            return False
    return True


def pick_free(host: str) -> int:
    """A port the system reports free on ``host`` (it may be taken again before it is used)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((bind_host(host), 0))
        return int(sock.getsockname()[1])


def listeners(port: int) -> list[Listener]:
    """The processes listening on ``port`` on any address; [] when none can be seen."""
    try:
        connections = psutil.net_connections(kind="inet")
    except (psutil.AccessDenied, OSError):
        return []
    found: list[Listener] = []
    for conn in connections:
        if conn.status != psutil.CONN_LISTEN or not conn.laddr or conn.laddr.port != port:
            continue
        address = f"{conn.laddr.ip}:{conn.laddr.port}"
        found.append(Listener(conn.pid, address, _command(conn.pid)))
    return found


def describe_holders(port: int) -> str:
    """Who holds ``port``, in words, for an error message."""
    holders = listeners(port)
    if not holders:
        return "a process that cannot be seen from here"
    return ", ".join(dict.fromkeys(holder.describe() for holder in holders))


def foreign_listeners(port: int, pids: set[int]) -> list[Listener]:
    """The listeners on ``port`` whose process is not one of ``pids`` (so: not ours)."""
    return [holder for holder in listeners(port) if holder.pid not in pids]


def process_tree(pid: int) -> set[int]:
    """``pid`` and all its descendants (a server's worker processes)."""
    try:
        process = psutil.Process(pid)
        return {pid, *(child.pid for child in process.children(recursive=True))}
    except psutil.Error:
        return {pid}


def _command(pid: int | None) -> str | None:
    if pid is None:
        return None
    with contextlib.suppress(psutil.Error):
        words = psutil.Process(pid).cmdline()
        if words:
            text = " ".join(words)
            return text if len(text) <= 160 else text[:157] + "..."
    return None
