"""Conversations through the real processes, timed turn by turn from outside, beside the raw
engine on the same model in the same run.

    .venv/bin/python bench/reply_turns.py [--turns 8] [--conversations 1 [--in-turn]] [--cold]
                                          [--raw [--pairs N]] [--json] [--plot PATH]

`--raw` first runs the same turns through llama-cpp-python alone (the bundled GGUF, the product's
context size and sampling, the conversation kept in the context as a worker would), and frees it;
`--pairs N` repeats the two in turn and gives each pair's ratio of received to engine decode.
Then it starts what `make run` starts (embedded Redis, llama-server for the model unless
`LLM_SERVER=none`, both Celery workers, uvicorn) on a fresh
SQLite database with the bundled model, and `--conversations` visitors chat over the widget's
protocol (docs/protocol.md), all sending their k-th message at once, each after its reply; with
`--in-turn`, one after another, as visitors of a real site interleave. The visitors come once
the replies' worker has warmed the model with the Site's system prompt, as on a site that runs;
`--cold` creates the Site only after that, so that first turns read its prompt whole.

Per turn: the time to the `ack` (the message stored), to the first `delta` (what the visitor
waits for) and to the end of the reply; the rate the client receives deltas at; and, from the
reply worker's log line for that reply, the model's own time to first token and decode rate.
Then medians and p95s. Another commit's processes: run it from that checkout's root with
PYTHONPATH=<that checkout>. No timing is asserted anywhere: the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from websockets.sync.client import connect

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
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
# The reply worker's line for each reply (leads/services/replies.py).
_REPLY_LOG = re.compile(
    r"reply (?P<id>\d+): (?P<tokens>\d+) tokens in (?P<total>[\d.]+)s, (?P<rate>[\d.]+) tok/s "
    r"\(first token after (?P<first>[\d.]+)s(?:; prompt (?P<prompt>\d+) tokens, "
    r"(?P<reused>\d+) reused; (?P<finish>\w+)(?:; queued (?P<queued>\d+) ms)?)?\)"
)
# The replies' worker's line once it has evaluated the Sites' system prompts, or given up.
_WARMED = re.compile(r"warmed \d+ of \d+ place|warming the model gave way|could not warm")
# The reply task's line as it starts (leads/tasks.py): the broker's and the pool's share.
_TASK_LOG = re.compile(
    r"reply to message (?P<message>\d+): task started (?P<ms>[\d.]+) ms after it was queued"
)
Row = dict[str, Any]


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


def _received(row: Row, tokens: int) -> float | None:
    span = row["delta_span_s"] or (row["reply_ms"] - row["first_delta_ms"]) / 1000
    return round((tokens - 1) / span, 1) if span and span > 0 else None


def summary(rows: list[Row]) -> dict[str, dict[str, float]]:
    """p50 and p95 of every numeric column that has values."""
    keys = sorted({k for row in rows for k, v in row.items() if isinstance(v, int | float)})
    out = {}
    for key in keys:
        values = [float(row[key]) for row in rows if isinstance(row.get(key), int | float)]
        if values:
            out[key] = {"p50": statistics.median(values), "p95": _percentile(values, 0.95)}
    return out


# ---- the raw engine -----------------------------------------------------------------------


def raw_engine(turns: int) -> list[Row]:
    """The same turns through llama-cpp-python alone, the conversation kept in its context."""
    import llama_cpp

    engine = llama_cpp.Llama(
        model_path=str(MODEL), n_ctx=4096, n_threads=os.cpu_count(), verbose=False
    )
    chat: list[dict[str, str]] = [
        {"role": "system", "content": "You are Acme Analytics' friendly sales assistant."}
    ]
    rows = []
    try:
        for turn in range(turns):
            chat.append({"role": "user", "content": MESSAGES[turn % len(MESSAGES)]})
            started = time.perf_counter()
            first = None
            parts: list[str] = []
            stream = engine.create_chat_completion(
                messages=chat,  # type: ignore[arg-type]  # llama-cpp-python's TypedDicts
                stream=True,
                max_tokens=256,
                temperature=0.7,
                top_p=0.95,
                top_k=40,
                repeat_penalty=1.1,
            )
            for chunk in stream:
                text = chunk["choices"][0]["delta"].get("content")  # type: ignore[index]
                if text:
                    first = first or time.perf_counter()
                    parts.append(text)
            done = time.perf_counter()
            chat.append({"role": "assistant", "content": "".join(parts)})
            tokens = len(parts)
            rows.append(
                {
                    "turn": turn + 1,
                    "first_token_ms": round(((first or done) - started) * 1000, 1),
                    "decode_tok_s": round((tokens - 1) / (done - first), 1)
                    if first and tokens > 1
                    else None,
                    "tokens": tokens,
                }
            )
    finally:
        engine.close()
    return rows


# ---- the product --------------------------------------------------------------------------


def _turn(ws: Any, text: str) -> Row:
    client_id = str(uuid.uuid4())
    sent = time.perf_counter()
    ws.send(json.dumps({"type": "message", "id": client_id, "text": text}))
    ack = first = last = done = None
    deltas, reply, reply_id, message_id = 0, "", None, None
    while done is None:
        frame = json.loads(ws.recv(timeout=600))
        now = time.perf_counter()
        if frame["type"] == "ack" and frame.get("id") == client_id:
            ack, message_id = now, frame["message"]
        elif frame["type"] == "delta":
            first = first or now
            last = now
            deltas += 1
        elif frame["type"] == "reply":
            reply, reply_id = frame["text"], frame["message"]
        elif frame["type"] == "typing" and frame["on"] is False and reply_id is not None:
            done = now
        elif frame["type"] == "error":
            raise RuntimeError(f"the server answered {frame}")
    assert ack is not None and first is not None and last is not None
    return {
        "message_id": message_id,
        "reply_id": reply_id,
        "ack_ms": round((ack - sent) * 1000, 1),
        "first_delta_ms": round((first - sent) * 1000, 1),
        "reply_ms": round((done - sent) * 1000, 1),
        "deltas": deltas,
        "delta_span_s": round(last - first, 3) if last > first else None,
        "reply_chars": len(reply),
    }


class _AtOnce:
    """Every visitor sends their k-th message at once."""

    def __init__(self, visitors: int) -> None:
        self._barrier = threading.Barrier(visitors)

    def wait(self, turn: int, index: int) -> None:
        self._barrier.wait()

    def done(self) -> None:
        pass


class _InTurn:
    """Visitors take turns, as on a real site: visitor i sends their k-th message once visitor
    i - 1's k-th reply has come (the first visitor, once the last one's reply to turn k - 1)."""

    def __init__(self, visitors: int) -> None:
        self._visitors, self._at = visitors, 0
        self._changed = threading.Condition()

    def wait(self, turn: int, index: int) -> None:
        with self._changed:
            self._changed.wait_for(lambda: self._at == turn * self._visitors + index)

    def done(self) -> None:
        with self._changed:
            self._at += 1
            self._changed.notify_all()


def _conversation(
    url: str, origin: str, turns: int, order: _AtOnce | _InTurn, index: int
) -> list[Row]:
    rows = []
    with connect(url, origin=origin, open_timeout=30) as ws:
        ws.send(json.dumps({"type": "hello", "visitor": None}))
        json.loads(ws.recv(timeout=30))
        for turn in range(turns):
            order.wait(turn, index)
            row = _turn(ws, MESSAGES[turn % len(MESSAGES)])
            order.done()
            rows.append({"turn": turn + 1, **row})
    return rows


def _decode(seen: re.Match[str]) -> float | None:
    """The worker's decode rate after its first token (its log line's rate includes the wait)."""
    tokens, total, first = int(seen["tokens"]), float(seen["total"]), float(seen["first"])
    return round((tokens - 1) / (total - first), 1) if tokens > 1 and total > first else None


def _warm_up_wait(log: Path, stack: Any, timeout: float = 120) -> None:
    """Until the replies' worker has had the Site's system prompt evaluated (leads/tasks.py), as
    it has long before a visitor comes to a site that runs: the turns measure a running site.
    Processes of a commit without the warm-up (a before/after) go on at once."""
    import salesbot.stack

    tasks = Path(salesbot.stack.__file__).resolve().parents[1] / "leads" / "tasks.py"
    if "reply_warm_up_task" not in tasks.read_text():
        return
    deadline = time.monotonic() + timeout
    while not _WARMED.search(log.read_text(errors="replace")):
        if stack.dead():
            raise RuntimeError(f"the stack's {stack.dead()} process died")
        if time.monotonic() > deadline:
            print("bench: no warm-up line from the replies' worker; going on", file=sys.stderr)
            return
        time.sleep(0.2)


def product(
    turns: int, conversations: int, log: Path, *, in_turn: bool = False, cold: bool = False
) -> list[Row]:
    """Start the product, run the conversations, stop it; each row has the worker's figures."""
    from salesbot.stack import Stack

    with tempfile.TemporaryDirectory(prefix="salesbot-bench-") as var:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        env |= {"SALESBOT_VAR_DIR": var, "LLM_MODELS_DIR": str(ROOT / "models")}
        # The model writes each reply whole, as the engine alone does (its own capability
        # would leave most replies to the product's words, with no model call to time).
        env.setdefault("LLM_CAPABILITY", "compose")
        _manage(env, "migrate", "--noinput")
        if not cold:
            _manage(env, "ensure_demo")
        stack = Stack(
            port=_free_port(),
            demo_port=_free_port(),
            model_port=_free_port(),
            env=env,
            embedded_socket=Path(var) / "redis" / "redis.sock",
        ).start(timeout=120)
        results: list[list[Row]] = [[] for _ in range(conversations)]
        try:
            _warm_up_wait(log, stack)
            if cold:  # the Site comes after the warm-up: its first turns read its prompt whole
                _manage(env, "ensure_demo")
            url = stack.base_url.replace("http://", "ws://") + "/ws/chat/demo/"
            order = _InTurn(conversations) if in_turn else _AtOnce(conversations)

            def visitor(index: int) -> None:
                results[index] = _conversation(url, stack.demo_url, turns, order, index)

            threads = [threading.Thread(target=visitor, args=(i,)) for i in range(conversations)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            stack.stop()
    logged = log.read_text(errors="replace")
    worker = {int(m["id"]): m for m in _REPLY_LOG.finditer(logged)}
    started = {int(m["message"]): float(m["ms"]) for m in _TASK_LOG.finditer(logged)}
    rows = []
    for index, conversation in enumerate(results, start=1):
        for row in conversation:
            seen = worker.get(row["reply_id"])
            rows.append(
                {
                    "conversation": index,
                    **row,
                    "model_first_token_ms": round(float(seen["first"]) * 1000, 1) if seen else None,
                    "model_decode_tok_s": _decode(seen) if seen else None,
                    "model_tokens": int(seen["tokens"]) if seen else None,
                    # The prompt, and how much of it the engine had evaluated already.
                    "prompt_tokens": int(seen["prompt"]) if seen and seen["prompt"] else None,
                    "reused_tokens": int(seen["reused"]) if seen and seen["reused"] else None,
                    "finish": seen["finish"] if seen else None,
                    # From the message stored to the reply task starting in the worker.
                    "queued_ms": int(seen["queued"]) if seen and seen["queued"] else None,
                    # Of that, from the task being queued to it starting (Celery's share).
                    "task_wait_ms": started.get(row["message_id"]),
                    # Tokens per second between the first and the last delta the visitor got
                    # (deltas carry whole sentences, which pass the reply guard one by one);
                    # a reply shown in one delta: up to its final frame.
                    "client_tok_s": _received(row, int(seen["tokens"])) if seen else None,
                }
            )
    if len(rows) != turns * conversations:
        raise RuntimeError(f"expected {turns * conversations} turns, got {len(rows)}")
    return rows


# ---- output -------------------------------------------------------------------------------


def _print_table(title: str, rows: list[Row], keys: list[str]) -> None:
    print(f"\n{title}")
    print(" ".join(f"{key:>20}" for key in keys))
    for row in rows:
        print(" ".join(f"{'-' if row.get(key) is None else row[key]:>20}" for key in keys))
    stats = summary(rows)
    for stat in ("p50", "p95"):
        cells = [stat] + [f"{stats[k][stat]:.1f}" if k in stats else "-" for k in keys[1:]]
        print(" ".join(f"{cell:>20}" for cell in cells))


def plot(report: dict[str, Any], path: Path) -> None:
    """First token per turn (raw engine, product) and decode rates, side by side."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    rows = report["product"]["turns"]
    turns = sorted({r["turn"] for r in rows})
    if report.get("raw"):
        raw = report["raw"]["turns"]
        left.plot([r["turn"] for r in raw], [r["first_token_ms"] / 1000 for r in raw], "o-",
                  label="llama-cpp-python alone: first token")  # fmt: skip
    for key, label in (
        ("model_first_token_ms", "worker's model: first token"),
        ("first_delta_ms", "visitor: first delta"),
    ):
        left.plot(
            turns,
            [statistics.median(r[key] for r in rows if r["turn"] == t and r[key]) / 1000
             for t in turns],
            "o-",
            label=label,
        )  # fmt: skip
    left.set_xlabel("turn")
    left.set_ylabel("seconds (median over conversations)")
    left.set_title(f"First token, {report['product']['conversations']} conversation(s)")
    left.legend(fontsize=8)
    rates = {
        "engine alone": [r["decode_tok_s"] for r in report.get("raw", {}).get("turns", [])],
        "worker's model": [r["model_decode_tok_s"] for r in rows],
        "visitor receives": [r["client_tok_s"] for r in rows],
    }
    names = [name for name, values in rates.items() if any(values)]
    right.bar(names, [statistics.median(v for v in rates[n] if v) for n in names])
    right.set_ylabel("tokens/s (median)")
    right.set_title("Decode rate")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def _product_logged(
    turns: int, conversations: int, keep: Path | None, *, in_turn: bool = False, cold: bool = False
) -> list[Row]:
    """`product`, with the processes' own output (Celery's banner, logs) in a file the worker's
    figures are read from, so that stdout stays the result; `keep` keeps the file."""
    with (
        open(keep, "w+b")
        if keep
        else tempfile.NamedTemporaryFile(prefix="salesbot-bench-", suffix=".log")
    ) as log:
        stdout, stderr = os.dup(1), os.dup(2)
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            return product(turns, conversations, Path(log.name), in_turn=in_turn, cold=cold)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(stdout, 1)
            os.dup2(stderr, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=8)
    parser.add_argument("--conversations", type=int, default=1)
    parser.add_argument("--raw", action="store_true", help="first, the engine alone")
    parser.add_argument(
        "--pairs", type=int, default=1, help="with --raw: engine, product, N times in turn"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--plot", type=Path, help="write a PNG of the figures here")
    parser.add_argument("--log", type=Path, help="keep the processes' output in this file")
    parser.add_argument(
        "--in-turn",
        action="store_true",
        help="the conversations take turns, one message at a time, instead of all at once",
    )
    parser.add_argument(
        "--cold",
        action="store_true",
        help="create the Site after the workers have warmed the model: first turns read the "
        "Site's system prompt whole (the cold figure later turns are compared with)",
    )
    args = parser.parse_args()
    report: dict[str, Any] = {"pairs": []}
    # With --pairs N, the engine alone and the product take turns N times: the machine's speed
    # drifts between runs, so each product run is compared with the engine run just before it.
    for _ in range(args.pairs if args.raw else 1):
        if args.raw:
            raw = raw_engine(args.turns)
            report["raw"] = {"turns": raw, "summary": summary(raw)}
        rows = _product_logged(
            args.turns, args.conversations, args.log, in_turn=args.in_turn, cold=args.cold
        )
        report["product"] = {
            "conversations": args.conversations,
            "in_turn": args.in_turn,
            "cold": args.cold,
            "turns": rows,
            "summary": summary(rows),
        }
        if args.raw:
            engine = report["raw"]["summary"]["decode_tok_s"]["p50"]
            received = report["product"]["summary"]["client_tok_s"]["p50"]
            report["pairs"].append(
                {"engine_tok_s": engine, "received_tok_s": received, "ratio": received / engine}
            )
    if args.plot:
        plot(report, args.plot)
    if args.json:
        print(json.dumps(report))
        return
    if "raw" in report:
        _print_table("llama-cpp-python alone", report["raw"]["turns"],
                     ["turn", "first_token_ms", "decode_tok_s", "tokens"])  # fmt: skip
    rows = report["product"]["turns"]
    _print_table(
        f"salesbot, {args.conversations} conversation(s) at once",
        rows,
        ["conversation", "turn", "ack_ms", "first_delta_ms", "model_first_token_ms",
         "model_decode_tok_s", "client_tok_s", "model_tokens", "prompt_tokens",
         "reused_tokens", "queued_ms", "task_wait_ms", "reply_ms"],
    )  # fmt: skip
    for pair in report["pairs"]:
        print(
            f"engine {pair['engine_tok_s']:.1f} tok/s, the visitor received "
            f"{pair['received_tok_s']:.1f}: {pair['ratio']:.2f}"
        )


if __name__ == "__main__":
    main()
