"""Which webhook URLs are acceptable: https (http outside production), and in production
never an address inside the network (loopback, private, link-local, cloud metadata)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

# metadata services that do not sit in a private or link-local range
_METADATA_HOSTS = {"metadata.google.internal", "metadata", "instance-data"}
_METADATA_ADDRESSES = {ipaddress.ip_address("100.100.100.200"), ipaddress.ip_address("fd00:ec2::254")}


class UnsafeUrl(ValueError):
    """The URL may not receive webhooks; the message says why."""


def check_shape(url: str, production: bool) -> tuple[str, int]:
    """The URL's host and port, if its scheme and shape are acceptable."""
    parts = urlsplit(url)
    allowed = ("https",) if production else ("https", "http")
    if parts.scheme not in allowed:
        raise UnsafeUrl("url must use https" + ("" if production else " (or http)"))
    if not parts.hostname:
        raise UnsafeUrl("url must name a host")
    if parts.username or parts.password:
        raise UnsafeUrl("url must not carry credentials")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UnsafeUrl("url has an invalid port") from None
    return parts.hostname.lower(), port


def _is_internal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or address in _METADATA_ADDRESSES
    )


async def check_url(url: str, production: bool) -> None:
    """Raise UnsafeUrl unless `url` may receive webhooks; in production, resolve and check it."""
    host, port = check_shape(url, production)
    if not production:
        return
    if host in _METADATA_HOSTS:
        raise UnsafeUrl("url points at a cloud metadata service")
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise UnsafeUrl(f"url host {host} does not resolve") from None
    for info in infos:
        if _is_internal(ipaddress.ip_address(info[4][0])):
            raise UnsafeUrl("url resolves to a loopback, private, link-local or metadata address")


def check_resolved(host: str, addresses: list[str]) -> None:
    """Raise UnsafeUrl unless `host` and every address it resolved to may receive webhooks.

    The worker's resolver (worker/resolver.py) calls this on the one lookup it makes for a
    connection, and the connection goes to those addresses only: no second lookup can swap in
    an internal address between the check and the connect."""
    if host in _METADATA_HOSTS:
        raise UnsafeUrl("url points at a cloud metadata service")
    for address in addresses:
        if _is_internal(ipaddress.ip_address(address)):
            raise UnsafeUrl("url resolves to a loopback, private, link-local or metadata address")
