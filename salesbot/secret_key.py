"""The signing key when DJANGO_SECRET_KEY is unset: made once per installation, kept private.

Never a key shipped in the source, which anyone could use to forge sessions. A deployment with
several hosts sets DJANGO_SECRET_KEY, so that they all sign alike (docs/deployment.md).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def secret_key_kept(path: Path) -> str:
    """The key stored at `path`; a new random one written there (mode 0600) the first time."""
    try:
        key = path.read_text().strip()
    except FileNotFoundError:
        key = ""
    if key:
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    # O_EXCL: when two processes start at once, one writes and the other reads its key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return secret_key_kept(path)
    with os.fdopen(fd, "w") as out:
        out.write(key)
    return key
