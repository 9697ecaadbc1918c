"""Where the server may send a request a Site configured (its webhook): never, by accident or by
design, to the machine itself or the network behind it (SSRF).

The URL's host is resolved at send time and every address it gives must be a public one, unless
it falls in a network the operator allowed (WEBHOOK_ALLOWED_NETWORKS, e.g. a CRM on the private
network). The request then goes to the address that was checked, so a DNS answer that changes in
between (rebinding) cannot send it elsewhere. Pure: no Django.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from leads.errors import InvalidInput

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class OutboundRefused(InvalidInput):
    """The URL may not be called from here; the message says why and what to set."""

    code = "outbound_refused"


@dataclass(frozen=True)
class Target:
    """A checked destination: connect to `address`, speak to `host` (Host header, TLS name)."""

    scheme: str
    host: str
    address: str
    port: int


def networks_parse(values: Sequence[str]) -> list[Network]:
    """CIDRs as networks; `OutboundRefused` naming one that is not."""
    try:
        return [ipaddress.ip_network(value.strip(), strict=False) for value in values if value]
    except ValueError as exc:
        raise OutboundRefused(f"WEBHOOK_ALLOWED_NETWORKS: {exc}") from None


def url_check(url: str, *, allow_http: bool) -> tuple[str, str, int]:
    """The scheme, host and port of `url` when its form may be called at all."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise OutboundRefused(f"{url!r} is not an http(s) URL")
    if parts.scheme == "http" and not allow_http:
        raise OutboundRefused(
            f"{url!r} is plain http: use https (WEBHOOK_ALLOW_HTTP=true allows http, for a "
            "receiver on a private network)"
        )
    if parts.username or parts.password:
        raise OutboundRefused(f"{url!r} carries a user and password: the signature authenticates")
    return parts.scheme, parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)


def target_resolve(url: str, *, allow_http: bool, allowed: Sequence[Network]) -> Target:
    """Resolve `url`'s host and check every address it gives; `OutboundRefused` if one is
    loopback, private, link-local or otherwise not public and not in `allowed`."""
    scheme, host, port = url_check(url, allow_http=allow_http)
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise OutboundRefused(f"cannot resolve {host!r}: {exc}") from None
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in found]
    for address in addresses:
        if not address.is_global and not any(address in network for network in allowed):
            raise OutboundRefused(
                f"{host} resolves to {address}, a {_kind(address)} address: webhooks may only "
                "reach public addresses (WEBHOOK_ALLOWED_NETWORKS allows a network of yours)"
            )
    return Target(scheme=scheme, host=host, address=str(addresses[0]), port=port)


def _kind(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_private:
        return "private"
    return "reserved"
