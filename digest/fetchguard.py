"""Connections for URLs that came from feed content: public internet addresses only.

A feed's author chooses the article links and image URLs inside it, so fetching them for the
operator is a server-side request forgery risk: a link to ``http://127.0.0.1:6379/``, to the
cloud metadata service at ``169.254.169.254`` or to a router on the LAN must never be followed.
Sources the operator configured are not judged: they are fetched wherever they point.

Method. The check sits where the connection is made, not where the URL is read:
``GuardedBackend`` is an httpcore network backend whose ``connect_tcp``

1. resolves the host with ``socket.getaddrinfo`` (an IP literal resolves to itself);
2. refuses the connection when ANY resolved address is not a public unicast address
   (``ipaddress``: not ``is_global``, or multicast; an IPv4-mapped IPv6 address is judged as
   the IPv4 address it carries), naming the host and the address;
3. connects to the first checked address itself, so a DNS answer that changes between the
   check and the connection (DNS rebinding) cannot slip a private address through.

Every redirect hop opens its own connection (or reuses one to a host already checked), so
each hop is checked the same way. TLS is unaffected: httpcore passes the original host name
for SNI and certificate verification. The client ignores proxy settings from the
environment, since a proxy would make the check judge the proxy instead of the target.

``guarded_transport`` gives an httpx transport with this backend; ``httpclient.client`` uses it
for URLs from feed content unless ``fetch.allow_private_addresses`` is true (then any address is
allowed, as for a source).
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Iterable

import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRefused(httpcore.ConnectError):
    """A URL from feed content resolved to an address it may not reach (httpx reports it as ConnectError)."""


def is_public(address: IPAddress) -> bool:
    """True for a public unicast address; False for loopback, private, link-local, multicast, reserved..."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def refusal(host: str, address: IPAddress) -> str:
    """The one-line reason a connection to ``host`` at ``address`` is refused."""
    return f"{host} resolves to {address}, which is not a public internet address (refused)"


def resolve_public(host: str, port: int) -> list[str]:
    """The addresses of ``host``, every one of them public; AddressRefused otherwise."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as err:  # socket.gaierror included
        raise httpcore.ConnectError(f"{host}: cannot resolve ({err})") from err
    addresses: list[str] = []
    for info in infos:
        # The scope of an IPv6 link-local address ("fe80::1%eth0") is not part of the address.
        literal = str(info[4][0]).split("%", 1)[0]
        address = ipaddress.ip_address(literal)
        if not is_public(address):
            raise AddressRefused(refusal(host, address))
        if literal not in addresses:
            addresses.append(literal)
    if not addresses:
        raise httpcore.ConnectError(f"{host}: no address")
    return addresses


class GuardedBackend(httpcore.SyncBackend):
    """A network backend that connects only to public addresses (see the module docstring)."""

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = resolve_public(host, port)
        last_error: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as err:
                last_error = err
        assert last_error is not None  # resolve_public never returns an empty list
        raise last_error


def guarded_transport(limits: httpx.Limits, tls: ssl.SSLContext) -> httpx.HTTPTransport:
    """An httpx transport whose every connection goes through ``GuardedBackend``."""
    transport = httpx.HTTPTransport(verify=tls, limits=limits, retries=0)
    pool = transport._pool
    # httpx has no public way to choose the network backend; fail loudly if its insides change,
    # rather than fetch unguarded.
    if not isinstance(pool, httpcore.ConnectionPool) or not hasattr(pool, "_network_backend"):
        raise RuntimeError("httpx's transport no longer exposes its connection pool's network backend")
    pool._network_backend = GuardedBackend()
    return transport


__all__ = ["AddressRefused", "GuardedBackend", "guarded_transport", "is_public"]
