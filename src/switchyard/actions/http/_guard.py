"""Refuse link-local and cloud metadata addresses (DESIGN.md, "Security model").

The check sits in the network backend, at the moment a TCP connection is
opened: the host is resolved once, every resolved address is checked, and the
connection is made to a checked address (never re-resolved). So the check
covers redirects, the OAuth2 token request and any later request on the same
client, and a DNS answer that changes between check and connect (rebinding)
cannot slip through. A refused request sends no packet to the target.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from typing import Any

import httpcore

from switchyard import errors
from switchyard.errors import StepFailure

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Link-local ranges: cloud metadata services and other host-local services live here.
BLOCKED_NETWORKS = (
    ipaddress.ip_network("169.254.0.0/16"),
    ipaddress.ip_network("fe80::/10"),
)
#: Metadata endpoints outside the link-local ranges (AWS IPv6, Alibaba Cloud).
METADATA_ADDRESSES = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),
        ipaddress.ip_address("fd00:ec2::254"),
        ipaddress.ip_address("100.100.100.200"),
    }
)
#: Names of metadata services, refused before any DNS lookup.
METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata.goog"})
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def blocked_reason(address: IPAddress) -> str | None:
    """Why `address` is refused, or None when it is allowed."""
    candidates: list[IPAddress] = [address]
    if isinstance(address, ipaddress.IPv6Address):
        # The same IPv4 target reached through IPv6 notations.
        if address.ipv4_mapped is not None:
            candidates.append(address.ipv4_mapped)
        if address in _NAT64:
            candidates.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    for a in candidates:
        if a in METADATA_ADDRESSES:
            return f"{a} is a cloud metadata address"
        if any(a in net for net in BLOCKED_NETWORKS):
            return f"{a} is a link-local address"
    return None


def _refuse(host: str, reason: str) -> StepFailure:
    return StepFailure(
        errors.PERMISSION_DENIED,
        f"refused to connect to {host}: {reason} (a connection with "
        "allow_private_metadata: true allows it)",
        {"host": host},
        retryable=False,
    )


def check_addresses(host: str, addresses: Iterable[str]) -> list[str]:
    """Raise PermissionDenied when any resolved address is refused.

    Every address is checked, not only the first: a name resolving to one
    public and one metadata address is refused as a whole.
    """
    out: list[str] = []
    for text in addresses:
        reason = blocked_reason(ipaddress.ip_address(text.split("%", 1)[0]))
        if reason is not None:
            raise _refuse(host, reason)
        out.append(text)
    return out


async def resolve_checked(host: str, port: int, timeout: float | None) -> list[str]:
    """Resolve `host` and return its addresses, all checked.

    Raises:
        StepFailure: PermissionDenied for a refused name or address.
        httpcore.ConnectError / ConnectTimeout: the name does not resolve.
    """
    name = host.strip("[]").rstrip(".").lower()
    if name in METADATA_HOSTS:
        raise _refuse(host, "it is a cloud metadata host name")
    try:
        ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        pass
    else:
        return check_addresses(host, [name])
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(name, port, type=socket.SOCK_STREAM), timeout
        )
    except TimeoutError as exc:
        raise httpcore.ConnectTimeout(f"resolving {host} timed out") from exc
    except OSError as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise httpcore.ConnectError(f"cannot resolve {host}")
    return check_addresses(host, addresses)


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """A network backend that connects only to checked addresses."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend) -> None:
        self._inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await resolve_checked(host, port, timeout)
        last: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, OSError) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise _refuse(path, "unix sockets are not reachable from http.request")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)
