"""Many widgets on one web process, through the real processes on loopback (a benchmark, not a
test): sockets held, a reconnect storm, and conversations active at once.

    .venv/bin/python bench/sockets.py [--sockets 19900] [--storm 10000] [--active 100]
                                      [--clients 2] [--in-flight 256] [--idle-seconds 0]
                                      [--web-workers 1] [--json]

It starts what `make run` starts (embedded Redis, llama-server with the bundled model, both
Celery workers, one uvicorn process, or `--web-workers` of them behind one port: uvicorn's
WEB_CONCURRENCY) on a fresh SQLite database with the demo Site and its
default limits, then, from `--clients` client processes (the websockets library, asyncio):

1. **hold**: `--sockets` widgets connect and say `hello` as new visitors, at most `--in-flight`
   per client at once, and stay open. Reported: hellos answered per second, errors by kind,
   and the web process's resident memory per socket (its growth over the sockets held); with
   `--idle-seconds N`, the CPU the web process spends holding them for N seconds of silence.
2. **storm**: `--storm` of them drop and reconnect at once with their visitor token, as
   widgets do after a deploy. Reported: hellos per second from the first connect to the last
   `welcome`, the time each waited for its `welcome` (p50, p99, max), errors.
3. **active**: `--active` of the held widgets each send a message at once. Reported: the time
   to the `ack` (stored), to the first `delta` and to the `reply`, errors and refusals by code.

The sockets come from as many loopback addresses as the Site's limits need (127.0.x.y: at most
40 sockets and 40 new conversations an address), so the limits stay on as in production. Each
process may open as many files as the hard limit allows (`ulimit -Hn`; 20,000 here, so the web
process holds at most that many sockets less its own files). No timing is asserted anywhere.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import psutil
import redis
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parent.parent
sys.path.append(str(ROOT))  # after PYTHONPATH: another checkout's processes, for a before/after
from bench.reply_turns import _free_port, _manage, _percentile  # noqa: E402

PER_ADDRESS = 40  # under the demo Site's sockets_per_ip (50) and conversations_per_hour_per_ip (60)
Row = dict[str, Any]


def _address(index: int) -> str:
    block = 1 + index // PER_ADDRESS
    return f"127.{block // 250}.{block % 250 + 1}.{(block * 7) % 250 + 2}"


class Widget:
    """One widget's socket: connect, hello, then whatever the phase asks."""

    def __init__(self, index: int, url: str, origin: str) -> None:
        self.index, self.url, self.origin = index, url, origin
        self.visitor: str | None = None
        self.ws: Any = None

    async def hello(self) -> tuple[float, str | None]:
        """Connect and say hello; the seconds to the `welcome`, or the error."""
        started = time.perf_counter()
        try:
            self.ws = await connect(
                self.url,
                origin=self.origin,  # type: ignore[arg-type]  # a plain str is what it sends
                local_addr=(_address(self.index), 0),
                open_timeout=120,
                ping_interval=None,
                max_queue=None,
            )
            await self.ws.send(json.dumps({"type": "hello", "visitor": self.visitor}))
            while True:
                frame = json.loads(await asyncio.wait_for(self.ws.recv(), 120))
                if frame["type"] == "welcome":
                    self.visitor = frame["visitor"]
                    return time.perf_counter() - started, None
                if frame["type"] == "error":
                    return time.perf_counter() - started, frame["code"]
        except Exception as exc:  # every failure is counted by kind, none ends the run
            code = getattr(getattr(exc, "rcvd", None), "code", None)
            kind = f"{type(exc).__name__} {code}" if code else type(exc).__name__
            return time.perf_counter() - started, kind

    async def drop(self) -> None:
        if self.ws is not None:
            await self.ws.close()
            self.ws = None

    async def talk(self) -> Row:
        """Send one message; the times to its ack, first delta and reply."""
        started = time.perf_counter()
        row: Row = {}
        await self.ws.send(json.dumps({"type": "message", "id": str(uuid.uuid4()), "text": "Hi!"}))
        try:
            while "reply_s" not in row and "error" not in row:
                frame = json.loads(await asyncio.wait_for(self.ws.recv(), 900))
                at = time.perf_counter() - started
                if frame["type"] == "ack":
                    row["ack_s"] = at
                elif frame["type"] == "delta":
                    row.setdefault("first_delta_s", at)
                elif frame["type"] == "reply":
                    row["reply_s"] = at
                elif frame["type"] == "error":
                    row["error"] = frame["code"]
        except Exception as exc:
            row["error"] = type(exc).__name__
        return row


async def _bounded(jobs: list[Any], in_flight: int) -> list[Any]:
    gate = asyncio.Semaphore(in_flight)

    async def one(job: Any) -> Any:
        async with gate:
            return await job

    return await asyncio.gather(*(one(job) for job in jobs))


def _client(indexes: list[int], url: str, origin: str, in_flight: int, pipe: Any) -> None:
    """One client process: its widgets, driven phase by phase by the parent."""
    _descriptors_raise()

    async def run() -> None:
        widgets = [Widget(i, url, origin) for i in indexes]
        loop = asyncio.get_running_loop()
        while True:
            phase, arg = await loop.run_in_executor(None, pipe.recv)
            if phase == "hello":
                chosen = widgets[:arg]
                pipe.send(await _bounded([w.hello() for w in chosen], in_flight))
            elif phase == "drop":
                await asyncio.gather(*(w.drop() for w in widgets[:arg]))
                pipe.send(None)
            elif phase == "talk":
                pipe.send(await asyncio.gather(*(w.talk() for w in widgets[:arg])))
            else:
                await asyncio.gather(*(w.drop() for w in widgets))
                pipe.send(None)
                return

    asyncio.run(run())


class Clients:
    def __init__(self, count: int, sockets: int, url: str, origin: str, in_flight: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.pipes, self.processes = [], []
        for c in range(count):
            parent, child = ctx.Pipe()
            indexes = list(range(c, sockets, count))
            process = ctx.Process(target=_client, args=(indexes, url, origin, in_flight, child))
            process.start()
            self.pipes.append(parent)
            self.processes.append(process)

    def each(self, phase: str, total: int) -> list[Any]:
        """Run `phase` on `total` widgets, shared out evenly; every client's answers."""
        share = -(-total // len(self.pipes))
        for pipe in self.pipes:
            pipe.send((phase, share))
        out: list[Any] = []
        for pipe in self.pipes:
            out += pipe.recv() or []
        return out

    def stop(self) -> None:
        for pipe in self.pipes:
            pipe.send(("stop", 0))
            pipe.recv()
        for process in self.processes:
            process.join(30)


def _descriptors_raise() -> None:
    """As many open files as the hard limit allows (what a service manager's LimitNOFILE sets)."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _leases(redis_socket: Path) -> int:
    """The socket leases Redis holds (leads/services/throttle.py), all addresses together."""
    client = redis.Redis(unix_socket_path=str(redis_socket))
    return sum(client.zcard(key) for key in client.scan_iter(match="*:limits:sockets:*"))


def _settle(redis_socket: Path, leases: int, timeout: float = 120) -> float:
    """Wait until the web process has let the dropped sockets go (their leases returned); the
    seconds it took."""
    started = time.monotonic()
    while _leases(redis_socket) > leases and time.monotonic() - started < timeout:
        time.sleep(0.2)
    return round(time.monotonic() - started, 1)


def _hellos(results: list[tuple[float, str | None]], seconds: float) -> Row:
    waits = sorted(s for s, error in results if error is None)
    return {
        "hellos": len(results),
        "answered": len(waits),
        "seconds": round(seconds, 2),
        "hellos_per_s": round(len(waits) / seconds, 1),
        "welcome_p50_ms": round(statistics.median(waits) * 1000, 1) if waits else None,
        "welcome_p99_ms": round(_percentile(waits, 0.99) * 1000, 1) if waits else None,
        "welcome_max_ms": round(waits[-1] * 1000, 1) if waits else None,
        "errors": dict(Counter(error for _, error in results if error is not None)),
    }


class Web:
    """The web server: one uvicorn process, or its workers (`--web-workers`) under it."""

    def __init__(self, process: psutil.Process) -> None:
        self.processes = [process, *process.children()]

    def rss(self) -> int:
        return sum(p.memory_info().rss for p in self.processes)

    def fds(self) -> int:
        return sum(p.num_fds() for p in self.processes)

    def cpu(self) -> float:
        return sum(sum(p.cpu_times()[:2]) for p in self.processes)


def run(args: argparse.Namespace) -> Row:
    from salesbot.stack import Stack

    _descriptors_raise()  # inherited by the processes
    report: Row = {
        "sockets": args.sockets,
        "clients": args.clients,
        "in_flight": args.in_flight,
        "web_workers": args.web_workers,
    }
    with tempfile.TemporaryDirectory(prefix="salesbot-sockets-") as var:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        env |= {"SALESBOT_VAR_DIR": var, "LLM_MODELS_DIR": str(ROOT / "models")}
        env["WEB_CONCURRENCY"] = str(args.web_workers)  # uvicorn's own variable for --workers
        _manage(env, "migrate", "--noinput")
        _manage(env, "ensure_demo")
        redis_socket = Path(var) / "redis" / "redis.sock"
        stack = Stack(
            port=_free_port(),
            demo_port=_free_port(),
            model_port=_free_port(),
            env=env,
            embedded_socket=redis_socket,
        ).start(timeout=180)
        try:
            web = Web(psutil.Process(stack.processes["web"].pid))
            url = stack.base_url.replace("http://", "ws://") + "/ws/chat/demo/"
            clients = Clients(args.clients, args.sockets, url, stack.demo_url, args.in_flight)
            try:
                rss_before = web.rss()
                started = time.perf_counter()
                held = clients.each("hello", args.sockets)
                report["hold"] = _hellos(held, time.perf_counter() - started)
                time.sleep(2)
                grown = web.rss() - rss_before
                answered = report["hold"]["answered"] or 1
                report["hold"]["web_rss_mib"] = round(web.rss() / 2**20, 1)
                report["hold"]["kib_per_socket"] = round(grown / answered / 1024, 1)
                report["hold"]["web_fds"] = web.fds()
                if args.idle_seconds:  # what holding them costs the web process, unspoken
                    used = web.cpu()
                    time.sleep(args.idle_seconds)
                    used = web.cpu() - used
                    report["hold"]["idle_cpu_ms_per_s"] = round(used / args.idle_seconds * 1000, 1)
                print(json.dumps({"hold": report["hold"]}), flush=True)
                leases = _leases(redis_socket)
                report["hold"]["leases"] = leases
                clients.each("drop", args.storm)
                report["settle_s"] = _settle(redis_socket, leases - args.storm)
                report["leases_left"] = _leases(redis_socket)
                started = time.perf_counter()
                storm = clients.each("hello", args.storm)
                report["storm"] = _hellos(storm, time.perf_counter() - started)
                print(json.dumps({"storm": report["storm"]}), flush=True)
                rows = clients.each("talk", args.active)
                report["active"] = _active(rows)
            finally:
                clients.stop()
        finally:
            stack.stop()
    return report


def _active(rows: list[Row]) -> Row:
    out: Row = {"conversations": len(rows)}
    for key in ("ack_s", "first_delta_s", "reply_s"):
        values = sorted(r[key] for r in rows if key in r)
        if values:
            out[key.removesuffix("_s") + "_ms"] = {
                "p50": round(statistics.median(values) * 1000),
                "p99": round(_percentile(values, 0.99) * 1000),
                "max": round(values[-1] * 1000),
            }
    out["errors"] = dict(Counter(r["error"] for r in rows if "error" in r))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sockets", type=int, default=19900)
    parser.add_argument("--storm", type=int, default=10000)
    parser.add_argument("--active", type=int, default=100)
    parser.add_argument("--idle-seconds", type=float, default=0)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--in-flight", type=int, default=256)
    parser.add_argument("--web-workers", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report = run(args)
    print(json.dumps(report) if args.json else json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
