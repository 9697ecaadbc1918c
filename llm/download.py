"""Download a model file over HTTP(S) into the models folder: resumable, checksum-verified.

For real deployments (e.g. a Mistral GGUF); nothing in the default run or the tests downloads
from a model hub. `python -m llm download URL --sha256 HEX`.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlsplit

from llm.bundled import sha256_of
from llm.errors import BackendUnavailable

# Well-known files, by a short name. Their publishers give no checksum we could pin, so pass
# --sha256 from a source you trust, or record the digest this command prints.
PRESETS: dict[str, str] = {
    "mistral-7b-instruct-v0.2-q4_k_m": "https://huggingface.co/TheBloke/"
    "Mistral-7B-Instruct-v0.2-GGUF/resolve/main/mistral-7b-instruct-v0.2.Q4_K_M.gguf",
}
CHUNK = 1 << 20

Progress = Callable[[int, int | None], None]


def filename_for(url: str) -> str:
    name = Path(unquote(urlsplit(url).path)).name
    if not name:
        raise BackendUnavailable(f"cannot tell a file name from {url}; pass --name")
    return name


def download(
    url: str,
    models_dir: Path,
    *,
    sha256: str | None = None,
    name: str | None = None,
    progress: Progress | None = None,
    timeout: float = 60.0,
) -> Path:
    """Fetch `url` to `models_dir/name`, resuming a `.partial` file left by an interrupted run.

    The file appears under its final name only once complete (and, with `sha256`, verified).
    """
    url = PRESETS.get(url, url)
    target = models_dir / (name or filename_for(url))
    if target.exists() and (sha256 is None or sha256_of(target) == sha256.lower()):
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    have = partial.stat().st_size if partial.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "salesbot-model-download"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # already complete
            response = None
        else:
            raise BackendUnavailable(f"download of {url} failed: HTTP {exc.code}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise BackendUnavailable(f"download of {url} failed: {exc}") from exc
    if response is not None:
        with response:
            resumed = response.status == 206
            length = response.headers.get("Content-Length")
            total = (int(length) + (have if resumed else 0)) if length else None
            done = have if resumed else 0
            with partial.open("ab" if resumed else "wb") as out:
                while block := response.read(CHUNK):
                    out.write(block)
                    done += len(block)
                    if progress:
                        progress(done, total)
            if total is not None and done != total:
                raise BackendUnavailable(
                    f"download of {url} stopped at {done} of {total} bytes; run it again to resume"
                )
    actual = sha256_of(partial)
    if sha256 and actual != sha256.lower():
        partial.unlink()
        raise BackendUnavailable(
            f"checksum mismatch for {target.name}: expected {sha256.lower()}, got {actual}; "
            "the partial file was removed"
        )
    partial.replace(target)
    return target
