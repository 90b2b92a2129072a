"""Which webhook URLs are acceptable.

Everywhere: https (or http outside production), a host, no credentials of any shape
(`https://user@host`, `https://:@host`), a port from 1 to 65535.

In production, only globally routable destinations: the host is resolved and every address
it resolves to must be public (`is_public`), and the port must be one of
PIVOTAL_WEBHOOK_ALLOWED_PORTS (443 and 80 by default). Outside production any address and
port pass, so loopback receivers on ephemeral ports work in tests and under `make dev`.
The check runs at create, at PATCH and again before every delivery attempt.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from ipaddress import IPv4Address, IPv6Address
from urllib.parse import urlsplit

from app.settings import Settings

# metadata services reached by name; their addresses are link-local or private anyway
_METADATA_HOSTS = {"metadata.google.internal", "metadata", "instance-data"}
# ranges Python's is_global lets through (on some versions or all) that are no public unicast
# destination; multicast is refused separately
_NOT_PUBLIC = tuple(ipaddress.ip_network(network) for network in (
    "192.0.0.0/24",  # IETF protocol assignments (and some clouds' metadata, 192.0.0.192)
    "192.88.99.0/24",  # 6to4 relay anycast, deprecated (RFC 7526)
    "::/96",  # IPv4-compatible IPv6, deprecated (RFC 4291)
    "::ffff:0:0:0/96",  # IPv4-translated (RFC 2765)
    "64:ff9b:1::/48",  # local-use NAT64 (RFC 8215)
    "fec0::/10",  # IPv6 site-local, deprecated (RFC 3879)
))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # well-known NAT64: the last 32 bits (RFC 6052)
# characters parsers disagree on (urllib drops tabs and newlines, browsers read a backslash as
# a slash): a URL holding one, or any control character, is refused rather than read two ways
_AMBIGUOUS = frozenset(" \\")


def _ipv6_pattern() -> str:
    """RFC 3986's IPv6address as a regular expression (what urlsplit accepts in brackets)."""
    h16, dec = "[0-9A-Fa-f]{1,4}", "(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
    ls32 = f"(?:{h16}:{h16}|{dec}(?:\\.{dec}){{3}})"
    forms = [f"(?:{h16}:){{6}}{ls32}", f"::(?:{h16}:){{5}}{ls32}"]
    forms += [f"(?:(?:{h16}:){{0,{before}}}{h16})?::(?:{h16}:){{{after}}}{ls32}"
              for before, after in ((0, 4), (1, 3), (2, 2), (3, 1), (4, 0))]
    forms += [f"(?:(?:{h16}:){{0,5}}{h16})?::{h16}", f"(?:(?:{h16}:){{0,6}}{h16})?::"]
    return "(?:" + "|".join(forms) + ")"


# The shape the document states and check_shape enforces last (ECMA 262 and Python alike):
# http(s), a host name or a bracketed IPv6 address, a port from 1 to 65535 (leading zeros
# allowed, as urlsplit reads them), then printable ASCII without spaces or backslashes.
_PORT = "0*(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
_HOST_CHARS = "[!\"$%&'()*+,.0-9;<=>A-Z^_`a-z{|}~-]+"
URL_PATTERN = (f"^[Hh][Tt][Tt][Pp][Ss]?://(?:{_HOST_CHARS}|\\[{_ipv6_pattern()}\\])"
               f"(?::(?:{_PORT})?)?(?:[/?#][!-\\[\\]-~]*)?$")
_URL = re.compile(URL_PATTERN)


class UnsafeUrl(ValueError):
    """The URL may not receive webhooks; the message says why."""


def check_shape(url: str, production: bool) -> tuple[str, int]:
    """The URL's host and port, if its scheme and shape are acceptable."""
    if any(char in _AMBIGUOUS or not char.isprintable() for char in url):
        raise UnsafeUrl("url must not contain spaces, control characters or backslashes")
    try:
        parts = urlsplit(url)
    except ValueError:  # brackets that hold no IPv6 address
        raise UnsafeUrl("url is not a valid URL") from None
    allowed = ("https",) if production else ("https", "http")
    if parts.scheme not in allowed:
        raise UnsafeUrl("url must use https" + ("" if production else " (or http)"))
    if "@" in parts.netloc:  # also an empty user and password: https://:@host
        raise UnsafeUrl("url must not carry credentials")
    if not parts.hostname:
        raise UnsafeUrl("url must name a host")
    try:
        port = parts.port
    except ValueError:
        raise UnsafeUrl("url has an invalid port") from None
    if port is None:
        port = 443 if parts.scheme == "https" else 80
    if port == 0:
        raise UnsafeUrl("url has an invalid port")
    if not _URL.fullmatch(url):
        raise UnsafeUrl("url must be an http(s) URL of printable ASCII characters: a host "
                        "name or a bracketed IPv6 address, a port, a path")
    return parts.hostname.lower(), port


def embedded_ipv4(address: IPv6Address) -> list[IPv4Address]:
    """The IPv4 addresses an IPv6 address carries: 6to4, NAT64, Teredo (server and client)."""
    found = []
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)
    if address in _NAT64:
        found.append(IPv4Address(int(address) & 0xFFFF_FFFF))
    return found


def is_public(address: IPv4Address | IPv6Address) -> bool:
    """Whether `address` is a globally routable unicast address, and so is every IPv4 address
    it embeds: an IPv6 form must not lead to an address refused in IPv4 form."""
    if isinstance(address, IPv6Address):
        if address.ipv4_mapped is not None:  # the IPv4 host itself, written as IPv6
            return is_public(address.ipv4_mapped)
        if not all(is_public(inner) for inner in embedded_ipv4(address)):
            return False
    return (
        address.is_global
        and not address.is_multicast
        and not any(address in network for network in _NOT_PUBLIC)
    )


async def check_url(url: str, settings: Settings) -> None:
    """Raise UnsafeUrl unless `url` may receive webhooks; in production, resolve and check it."""
    host, port = check_shape(url, settings.production)
    if not settings.production:
        return
    if port not in settings.webhook_allowed_ports:
        allowed = ", ".join(str(p) for p in settings.webhook_allowed_ports)
        raise UnsafeUrl(f"url port must be one of {allowed}")
    if host in _METADATA_HOSTS:
        raise UnsafeUrl("url points at a cloud metadata service")
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UnsafeUrl(f"url host {host} does not resolve") from None
    for info in infos:
        if not is_public(ipaddress.ip_address(info[4][0])):
            raise UnsafeUrl("url must resolve to public addresses only (not loopback, private, "
                            "link-local, shared, reserved, multicast or metadata)")


def check_resolved(host: str, addresses: list[str]) -> None:
    """Raise UnsafeUrl unless `host` and every address it resolved to may receive webhooks.

    The worker's resolver (worker/resolver.py) calls this on the one lookup it makes for a
    connection, and the connection goes to those addresses only: no second lookup can swap in
    an internal address between the check and the connect."""
    if host in _METADATA_HOSTS:
        raise UnsafeUrl("url points at a cloud metadata service")
    for address in addresses:
        if not is_public(ipaddress.ip_address(address)):
            raise UnsafeUrl("url must resolve to public addresses only (not loopback, private, "
                            "link-local, shared, reserved, multicast or metadata)")
