"""HMAC signatures salesbot makes and checks: a host page's identity, a webhook's body.

Pure: the services sign and verify with these, and the docs show receivers the same recipe.
"""

from __future__ import annotations

import hashlib
import hmac
import time


def token_digest(token: str) -> str:
    """What is stored of a visitor's browser token: its SHA-256 (hex). The token itself lives
    in the browser alone, so a copy of the database cannot resume anyone's conversation."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def identity_signature(*, secret: str, email: str, user_id: str, expires: int) -> str:
    """What the host's server passes as `signature`: HMAC-SHA256 (hex) of the lowercased email,
    the host's own id for its logged-in user and the expiry (unix seconds), one per line."""
    signed = f"{email.strip().lower()}\n{user_id}\n{expires}".encode()
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def identity_verify(*, secret: str, email: str, user_id: str, expires: int, signature: str) -> bool:
    """Whether `signature` is the host's signature of these under `secret` (expiry not judged)."""
    expected = identity_signature(secret=secret, email=email, user_id=user_id, expires=expires)
    # As bytes: compare_digest refuses a str with non-ASCII characters (TypeError).
    return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))


def webhook_signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """HMAC-SHA256 (hex) of "<timestamp>." followed by the exact body."""
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def webhook_verify(
    *, secret: str, header: str, body: bytes, tolerance: int = 300, now: float | None = None
) -> bool:
    """Whether an X-Salesbot-Signature header signs `body` with `secret` within `tolerance` s."""
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            signatures.append(value)
    if timestamp is None or not signatures:
        return False
    # An old timestamp means a replayed request; a far-future one a forged or broken clock.
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = webhook_signature(secret=secret, timestamp=timestamp, body=body)
    # Several v1 values are allowed so that a secret can be rotated without downtime.
    return any(hmac.compare_digest(expected, candidate) for candidate in signatures)
