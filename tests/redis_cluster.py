"""A throwaway Redis Cluster on loopback ports for tests: 3 masters, each with one replica.

``LocalCluster.start(folder)`` runs six ``redis-server --cluster-enabled yes`` processes in
``folder`` (no persistence), joins them with ``redis-cli --cluster create`` and waits until
every node reports ``cluster_state:ok``; ``stop()`` ends exactly the processes it started.
It also moves a slot (``migrate_slot``) and fails a master over to its replica
(``fail_over``), which the cluster tests do while a conversation is being appended to.
"""

from __future__ import annotations

import contextlib
import ctypes
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

NODES = 6
BUS_OFFSET = 10000  # Redis Cluster's bus listens on the client port plus this


def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_cluster_ports(count: int) -> list[int]:
    """Ports whose cluster-bus port (port + 10000) is free too."""
    ports: list[int] = []
    while len(ports) < count:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port + BUS_OFFSET < 65536 and port not in ports and _port_is_free(port + BUS_OFFSET):
            ports.append(port)
    return ports


def _die_with_parent() -> None:
    """Linux: the server gets SIGTERM when the test process dies, even by SIGKILL, so a killed
    test run leaves no cluster behind on a shared machine."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def redis_server_missing() -> str | None:
    """Why a local cluster cannot be started, or None when it can."""
    for tool in ("redis-server", "redis-cli"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (needed to start a local Redis Cluster)"
    return None


@dataclass
class LocalCluster:
    folder: Path
    ports: list[int]
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        """A startup node; the client discovers the other five from it."""
        return f"redis://127.0.0.1:{self.ports[0]}"

    @classmethod
    def start(cls, folder: Path, *, timeout_s: float = 30.0) -> LocalCluster:
        cluster = cls(folder, free_cluster_ports(NODES))
        try:
            for port in cluster.ports:
                cluster._spawn(port)
            for port in cluster.ports:
                cluster._wait_ping(port, timeout_s)
            create = ["redis-cli", "--cluster", "create"]
            create += [f"127.0.0.1:{port}" for port in cluster.ports]
            create += ["--cluster-replicas", "1", "--cluster-yes"]
            subprocess.run(create, check=True, capture_output=True, timeout=timeout_s)
            cluster.wait_ok(timeout_s)
        except BaseException:
            cluster.stop()
            raise
        return cluster

    def _spawn(self, port: int) -> None:
        node = self.folder / str(port)
        node.mkdir(parents=True, exist_ok=True)
        command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                   "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                   "--cluster-node-timeout", "2000", "--dir", str(node), "--save", "",
                   "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning",
                   "--logfile", str(node / "redis.log")]  # fmt: skip
        self.processes.append(
            subprocess.Popen(command, stdout=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        )

    def client(self, port: int) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=port, socket_timeout=5)

    def _wait_ping(self, port: int, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        with self.client(port) as node:
            while True:
                try:
                    node.ping()
                    return
                except redis.ConnectionError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)

    def wait_ok(self, timeout_s: float = 30.0) -> None:
        """Until every node says the cluster is ok and agrees on who serves every slot."""
        deadline = time.monotonic() + timeout_s
        while True:
            views = set()
            healthy = True
            for port in self.ports:
                with self.client(port) as node:
                    info = node.execute_command("CLUSTER", "INFO").decode()
                    healthy &= "cluster_state:ok" in info
                    nodes = node.execute_command("CLUSTER", "NODES").decode()
                    healthy &= nodes.count("slave") == NODES // 2
                    if node.execute_command("ROLE")[0] == b"slave":
                        healthy &= node.info("replication").get("master_link_status") == "up"
                    views.add(repr(sorted(self._masters(node).items())))
            if healthy and len(views) == 1:
                return
            if time.monotonic() > deadline:
                raise TimeoutError("the local Redis Cluster did not settle")
            time.sleep(0.1)

    @staticmethod
    def _masters(node: redis.Redis) -> dict[int, str]:
        """First slot of each range -> the address serving it, as this node sees it."""
        ranges = node.execute_command("CLUSTER", "SLOTS")
        return {int(r[0]): f"{r[2][0].decode()}:{r[2][1]}" for r in ranges}

    def master_of(self, slot: int) -> int:
        """Port of the master serving ``slot``."""
        with self.client(self.ports[0]) as node:
            for first, last, master, *_ in node.execute_command("CLUSTER", "SLOTS"):
                if first <= slot <= last:
                    return int(master[1])
        raise LookupError(f"slot {slot} is not served")

    def replica_of(self, master_port: int) -> int:
        with self.client(master_port) as node:
            master_id = node.execute_command("CLUSTER", "MYID").decode()
            for line in node.execute_command("CLUSTER", "NODES").decode().splitlines():
                fields = line.split()
                if fields[3] == master_id and "slave" in fields[2]:
                    return int(fields[1].split("@")[0].rsplit(":", 1)[1])
        raise LookupError(f"no replica of {master_port}")

    def migrate_slot(self, slot: int, *, batch: int = 10, pause_s: float = 0.0) -> int:
        """Moves ``slot`` to another master key by key (SETSLOT, MIGRATE), as ``redis-cli
        --cluster reshard`` does, ``batch`` keys at a time with ``pause_s`` between batches
        (to stretch the migration over other clients' writes); returns the new master's
        port."""
        source_port = self.master_of(slot)
        target_port = next(p for p in self.ports if p != source_port and self._is_master(p))
        with self.client(source_port) as source, self.client(target_port) as target:
            source_id = source.execute_command("CLUSTER", "MYID").decode()
            target_id = target.execute_command("CLUSTER", "MYID").decode()
            target.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", source_id)
            source.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", target_id)
            while keys := source.execute_command("CLUSTER", "GETKEYSINSLOT", slot, batch):
                source.execute_command(
                    "MIGRATE", "127.0.0.1", target_port, "", 0, 5000, "KEYS", *keys
                )
                time.sleep(pause_s)
            for port in self.ports:  # the new owner first, then everyone else
                if self._is_master(port):
                    with self.client(port) as node:
                        node.execute_command("CLUSTER", "SETSLOT", slot, "NODE", target_id)
        self.wait_ok()
        return target_port

    def _is_master(self, port: int) -> bool:
        with self.client(port) as node:
            role = node.execute_command("ROLE")
        return bool(role[0] in (b"master", "master"))

    def fail_over(self, master_port: int, timeout_s: float = 20.0) -> int:
        """Promotes ``master_port``'s replica (``CLUSTER FAILOVER``, the coordinated manual
        failover: the master stops taking writes until its replica has caught up);
        returns the new master's port."""
        replica_port = self.replica_of(master_port)
        with self.client(replica_port) as replica:
            replica.execute_command("CLUSTER", "FAILOVER")
        deadline = time.monotonic() + timeout_s
        while not self._is_master(replica_port):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{replica_port} did not take over from {master_port}")
            time.sleep(0.05)
        self.wait_ok(timeout_s)
        return replica_port

    def delete_prefix(self, prefix: str) -> None:
        """Deletes every key starting with ``prefix:`` on every master (one by one: keys of
        different slots cannot go in one DEL)."""
        for port in self.ports:
            with self.client(port) as node:
                if not self._is_master(port):
                    continue
                for key in node.scan_iter(match=f"{prefix}:*", count=500):
                    node.delete(key)

    def stop(self) -> None:
        for process in self.processes:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes.clear()
