"""One visitor's conversation through the real processes, timed turn by turn from outside.

    .venv/bin/python bench/reply_turns.py [--turns 8] [--json]

Starts what `make run` starts (embedded Redis, the two Celery workers, uvicorn) on a fresh
SQLite database in a temporary folder, with the bundled model, then chats over the documented
WebSocket protocol (docs/protocol.md) as a widget would, one message after the other's reply.
Per turn it prints the time to the `ack` (the message stored, the rules pass included), to the
first `delta` (what the visitor waits for), to the final `reply`, and the reply's length; then
medians and p95s. Run it on two commits (PYTHONPATH=<a checkout of the other> runs that one's
processes) to compare a change of the reply path. No timing is asserted anywhere: the machine
is shared and noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from websockets.sync.client import connect

ROOT = Path(__file__).resolve().parent.parent
MESSAGES = [
    "Hi! What does Acme Analytics sell?",
    "I'm Ana Torres, head of sales at Initech.",
    "We need dashboards for about 40 reps.",
    "Our budget is around $20k a year.",
    "We'd like to start next quarter.",
    "I decide on tools like this myself.",
    "You can reach me at ana.torres@initech.example",
    "Thanks! What happens next?",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args], env=env, check=True, capture_output=True
    )


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _turn(ws: Any, text: str) -> dict[str, float | int]:
    client_id = str(uuid.uuid4())
    sent = time.perf_counter()
    ws.send(json.dumps({"type": "message", "id": client_id, "text": text}))
    ack = first = done = None
    reply = ""
    while done is None:
        frame = json.loads(ws.recv(timeout=300))
        now = time.perf_counter()
        if frame["type"] == "ack" and frame.get("id") == client_id:
            ack = now
        elif frame["type"] == "delta" and first is None:
            first = now
        elif frame["type"] == "reply":
            reply = frame["text"]
        elif frame["type"] == "typing" and frame["on"] is False and reply:
            done = now
        elif frame["type"] == "error":
            raise RuntimeError(f"the server answered {frame}")
    assert ack is not None and first is not None
    return {
        "ack_ms": round((ack - sent) * 1000, 1),
        "first_delta_ms": round((first - sent) * 1000, 1),
        "reply_ms": round((done - sent) * 1000, 1),
        "reply_chars": len(reply),
    }


def run(turns: int) -> list[dict[str, float | int]]:
    from salesbot.stack import Stack

    with tempfile.TemporaryDirectory(prefix="salesbot-bench-") as var:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")} | {
            "SALESBOT_VAR_DIR": var,
            "LLM_MODELS_DIR": str(ROOT / "models"),
        }
        _manage(env, "migrate", "--noinput")
        _manage(env, "ensure_demo")
        socket_path = Path(var) / "redis" / "redis.sock"  # where the settings put the embedded one
        stack = Stack(
            port=_free_port(), demo_port=_free_port(), env=env, embedded_socket=socket_path
        ).start(timeout=120)
        try:
            url = stack.base_url.replace("http://", "ws://") + "/ws/chat/demo/"
            with connect(url, origin=stack.demo_url, open_timeout=30) as ws:
                ws.send(json.dumps({"type": "hello", "visitor": None}))
                json.loads(ws.recv(timeout=30))
                return [_turn(ws, MESSAGES[i % len(MESSAGES)]) for i in range(turns)]
        finally:
            stack.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=8)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    # The processes' own output (Celery's banner, logs) goes to stderr: stdout is the result.
    stdout = os.dup(1)
    os.dup2(2, 1)
    try:
        results = run(args.turns)
    finally:
        sys.stdout.flush()
        os.dup2(stdout, 1)
    keys = ("ack_ms", "first_delta_ms", "reply_ms", "reply_chars")
    summary = {
        key: {
            "p50": statistics.median([float(r[key]) for r in results]),
            "p95": _percentile([float(r[key]) for r in results], 0.95),
        }
        for key in keys
    }
    if args.json:
        print(json.dumps({"turns": results, "summary": summary}))
        return
    print(f"{'turn':>4} " + " ".join(f"{key:>15}" for key in keys))
    for number, result in enumerate(results, start=1):
        print(f"{number:>4} " + " ".join(f"{result[key]:>15}" for key in keys))
    for stat in ("p50", "p95"):
        print(f"{stat:>4} " + " ".join(f"{summary[key][stat]:>15.1f}" for key in keys))


if __name__ == "__main__":
    main()
