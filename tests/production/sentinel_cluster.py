"""A Redis master with two replicas, watched by three sentinels: real processes on free ports.

A test may SIGKILL the current master; the sentinels then promote a replica (within a few
seconds: a node is declared down after DOWN_AFTER_MS).
"""

import asyncio
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import redis

from tests.processes import HOST, free_port

MASTER_NAME = "meters"
DOWN_AFTER_MS = 1000
START_TIMEOUT_S = 15.0
POLL_S = 0.05
# A node's port was only probed free: another process may take it before the node binds it.
STARTS_PER_NODE = 3


class _Node:
    def __init__(self, binary: str, workdir: Path, port: int, args: list[str]) -> None:
        self.port = port
        log = (workdir / f"{port}.log").open("wb")
        self.process = subprocess.Popen([binary, *args], stdout=log, stderr=subprocess.STDOUT)
        log.close()

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.alive():
            self.process.terminate()
            self.process.wait(timeout=START_TIMEOUT_S)


class SentinelCluster:
    """``password`` protects the data nodes, ``sentinel_password`` the sentinels."""

    def __init__(
        self, workdir: Path, password: str | None = None, sentinel_password: str | None = None
    ) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed: run scripts/ensure-redis-server.sh")
        self._binary = binary
        self._workdir = workdir
        self._password = password
        self._sentinel_password = sentinel_password
        self.data_nodes: dict[int, _Node] = {}
        self.sentinels: list[_Node] = []

    def url(self, db: int = 0) -> str:
        hosts = ",".join(f"{HOST}:{node.port}" for node in self.sentinels)
        userinfo = f":{self._password}@" if self._password else ""
        query = f"sentinelMasterId={MASTER_NAME}"
        if self._sentinel_password:
            query += f"&sentinelPassword={self._sentinel_password}"
        return f"redis-sentinel://{userinfo}{hosts}/{db}?{query}"

    def start(self) -> None:
        master_port = self._data_node([])
        for _ in range(2):
            self._data_node(["--replicaof", HOST, str(master_port)])
        # Sentinels learn the replicas from the master's INFO, which they read every 10 s:
        # starting them once the replicas are online saves that wait.
        self._until(lambda: self._replicas_of(master_port) >= 2, "the replicas are online")
        for _ in range(3):
            self.sentinels.append(
                self._started_node(
                    lambda port: [str(self._sentinel_config(port, master_port)), "--sentinel"],
                    self._sentinel_password,
                )
            )
        self._until(lambda: self._settled(master_port, replicas=2), "the cluster settles")

    def _sentinel_config(self, port: int, master_port: int) -> Path:
        config = self._workdir / f"sentinel-{port}.conf"
        config.write_text(
            f"port {port}\nbind {HOST}\ndir {self._workdir}\n"
            f"sentinel monitor {MASTER_NAME} {HOST} {master_port} 2\n"
            f"sentinel down-after-milliseconds {MASTER_NAME} {DOWN_AFTER_MS}\n"
            f"sentinel failover-timeout {MASTER_NAME} 10000\n"
            f"sentinel parallel-syncs {MASTER_NAME} 2\n"
            + (f"sentinel auth-pass {MASTER_NAME} {self._password}\n" if self._password else "")
            + (
                f"requirepass {self._sentinel_password}\n"
                f"sentinel sentinel-pass {self._sentinel_password}\n"
                if self._sentinel_password
                else ""
            )
        )
        return config

    def master_port(self) -> int:
        """The master the sentinels name now."""
        with self._sentinel_client(self.sentinels[0]) as sentinel:
            _host, port = sentinel.sentinel_get_master_addr_by_name(MASTER_NAME)
        return int(port)

    def kill_master(self) -> int:
        """SIGKILL the current master; returns its port."""
        port = self.master_port()
        self.data_nodes[port].kill()
        return port

    async def wait_for_new_master(self, old_port: int, replicas: int) -> int:
        """Until every sentinel names a live master other than ``old_port`` with ``replicas``."""

        def promoted() -> bool:
            ports = {self._master_seen_by(sentinel) for sentinel in self.sentinels}
            if len(ports) != 1:
                return False
            (port,) = ports
            return port != old_port and port is not None and self._replicas_of(port) >= replicas

        deadline = time.monotonic() + START_TIMEOUT_S
        while not await asyncio.to_thread(promoted):
            if time.monotonic() > deadline:
                raise RuntimeError(f"not within {START_TIMEOUT_S} s: a replica is promoted")
            await asyncio.sleep(POLL_S)
        return self.master_port()

    def add_replica(self) -> int:
        """A new, empty data node replicating the current master (as a replaced machine
        would); returns its port once the master counts it online."""
        master_port = self.master_port()
        before = self._replicas_of(master_port)
        port = self._data_node(["--replicaof", HOST, str(master_port)])
        self._until(lambda: self._replicas_of(master_port) > before, "the new replica is online")
        return port

    def stop(self) -> None:
        for node in [*self.sentinels, *self.data_nodes.values()]:
            node.stop()

    def _sentinel_client(self, sentinel: _Node) -> redis.Redis:
        return redis.Redis(
            host=HOST, port=sentinel.port, password=self._sentinel_password, socket_timeout=1
        )

    def _data_node(self, extra: list[str]) -> int:
        """Start a data node with ``extra`` arguments; returns its port."""
        auth = ["--requirepass", self._password, "--masterauth", self._password]

        def args(port: int) -> list[str]:
            return [
                *("--port", str(port), "--bind", HOST, "--dir", str(self._workdir)),
                *("--save", "", "--appendonly", "no", "--dbfilename", f"dump-{port}.rdb"),
                # A replica that needs a full resync (at start, or after a failover when a
                # partial one is refused) gets it at once instead of after 5 s.
                *("--repl-diskless-sync-delay", "0"),
                *(auth if self._password else []),
                *extra,
            ]

        node = self._started_node(args, self._password)
        self.data_nodes[node.port] = node
        return node.port

    def _started_node(self, args: Callable[[int], list[str]], password: str | None) -> _Node:
        """A node answering on a free port, checked to be ours; a port another process took
        between the probe and the bind gives way to a new one."""
        for _ in range(STARTS_PER_NODE):
            port = free_port()
            node = _Node(self._binary, self._workdir, port, args(port))
            if self._answers_as(node, password):
                return node
            node.stop()
        raise RuntimeError(f"a redis-server node did not start in {STARTS_PER_NODE} attempts")

    @staticmethod
    def _answers_as(node: _Node, password: str | None) -> bool:
        client = redis.Redis(
            host=HOST, port=node.port, password=password, socket_connect_timeout=0.2
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        try:
            while True:
                try:
                    return bool(client.info("server")["process_id"] == node.process.pid)
                except redis.AuthenticationError:
                    return False  # another server, with another password
                except redis.ConnectionError:
                    if not node.alive() or time.monotonic() > deadline:
                        return False
                    time.sleep(POLL_S)
        finally:
            client.close()

    def _settled(self, master_port: int, replicas: int) -> bool:
        if self._replicas_of(master_port) < replicas:
            return False
        for sentinel in self.sentinels:
            try:
                with self._sentinel_client(sentinel) as client:
                    state = client.sentinel_master(MASTER_NAME)
            except redis.RedisError:
                return False
            if state["num-other-sentinels"] < 2 or state["num-slaves"] < replicas:
                return False
        return True

    def _master_seen_by(self, sentinel: _Node) -> int | None:
        try:
            with self._sentinel_client(sentinel) as client:
                state = client.sentinel_master(MASTER_NAME)
        except redis.RedisError:
            return None
        if state["is_sdown"] or state["is_odown"]:
            return None
        return int(state["port"])

    def _replicas_of(self, port: int) -> int:
        node = self.data_nodes.get(port)
        if node is None or not node.alive():
            return -1
        try:
            with redis.Redis(
                host=HOST, port=port, password=self._password, socket_timeout=1
            ) as client:
                info = client.info("replication")
        except redis.RedisError:
            return -1
        if info["role"] != "master":
            return -1
        return sum(
            1
            for key, value in info.items()
            if key.startswith("slave") and isinstance(value, dict) and value["state"] == "online"
        )

    def _until(self, condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not condition():
            if time.monotonic() > deadline:
                raise RuntimeError(f"not within {START_TIMEOUT_S} s: {what}")
            time.sleep(POLL_S)
