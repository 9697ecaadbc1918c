"""Matching a browser's Origin header against a Site's allowed origins."""

from __future__ import annotations

_DEFAULT_PORTS = {"http": 80, "https": 443}


def _split(origin: str) -> tuple[str, str, str] | None:
    """(scheme, host, port) with the port as text ("*" allowed), or None if malformed."""
    scheme, sep, rest = origin.strip().lower().partition("://")
    if not sep or scheme not in _DEFAULT_PORTS or not rest or "/" in rest.rstrip("/"):
        return None
    rest = rest.rstrip("/")
    if rest.startswith("["):  # IPv6 literal
        host, _, port = rest[1:].partition("]")
        port = port.removeprefix(":")
    else:
        host, _, port = rest.partition(":")
    if not host:
        return None
    return scheme, host, port or str(_DEFAULT_PORTS[scheme])


def origin_allowed(origin: str | None, patterns: list[str]) -> bool:
    """Whether `origin` matches one of the patterns.

    A pattern is an origin (`https://example.com`), optionally with `*.` before the host to allow
    any subdomain, or `:*` as the port to allow any port.
    """
    if not origin or origin == "null":
        return False
    actual = _split(origin)
    if actual is None:
        return False
    scheme, host, port = actual
    for pattern in patterns:
        wanted = _split(pattern)
        if wanted is None or wanted[0] != scheme:
            continue
        w_host, w_port = wanted[1], wanted[2]
        if w_port != "*" and w_port != port:
            continue
        if w_host == host or (w_host.startswith("*.") and host.endswith(w_host[1:])):
            return True
    return False
