"""Two model processes on the same cores (the reply and the extraction workers), measured.

    .venv/bin/python bench/concurrent_models.py [--replies 3]

Runs the configured model (the bundled one by default) through llama.cpp alone and then in two
processes at once, with libgomp's default spin (300000) and with the short spin the llama_cpp
backend sets (1000), and prints tokens/s per process with the ratio to running alone.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROMPT = "Hi there, tell me about your product, number {}."


def child(replies: int) -> None:
    sys.path.insert(0, str(ROOT))
    import llm

    model = llm.get_llm()
    model.complete([llm.ChatMessage("user", "warm up")])
    tokens, start = 0, time.perf_counter()
    for i in range(replies):
        tokens += model.complete(
            [llm.ChatMessage("user", PROMPT.format(i))]
        ).usage.completion_tokens
    print(tokens / (time.perf_counter() - start))


def run(processes: int, spin: str, replies: int) -> list[float]:
    env = dict(os.environ, GOMP_SPINCOUNT=spin)
    command = [sys.executable, __file__, "--child", "--replies", str(replies)]
    children = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        for _ in range(processes)
    ]
    return [float(c.communicate()[0]) for c in children]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replies", type=int, default=3)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.replies)
        return
    print(f"{'spin':>8} {'processes':>9} {'tokens/s each':>14} {'vs alone':>9}")
    for spin in ("300000", "1000"):
        alone = run(1, spin, args.replies)[0]
        print(f"{spin:>8} {1:>9} {alone:>14.1f} {1.0:>9.2f}")
        pair = run(2, spin, args.replies)
        each = sum(pair) / len(pair)
        print(f"{spin:>8} {2:>9} {each:>14.1f} {each / alone:>9.2f}")


if __name__ == "__main__":
    main()
