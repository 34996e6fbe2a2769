"""Outbound connections that users configure (HTTP connector, webhook, CRM base URL, database
hosts) must not reach loopback, private, link-local, multicast or cloud-metadata addresses,
however they are spelled, unless an administrator allow-lists them (DATAGRAN_URL_ALLOWLIST:
host names or CIDR networks).

A host is resolved once and the connection is made to the address that was checked
(``resolve``): resolving again to connect would let a DNS server answer a public address to
the check and a private one to the connection (DNS rebinding)."""
from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from .base import OperatorError

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# IPv6 addresses that carry an IPv4 address in their last 32 bits: the well-known NAT64
# prefix (RFC 6052) and the deprecated IPv4-compatible form (::a.b.c.d). A gateway or the
# kernel may turn them into a connection to that IPv4 address, which must be checked too.
_EMBEDS_V4_LOW_BITS = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("::/96"))
# The local-use NAT64 prefix (RFC 8215) may embed an IPv4 address anywhere: never public.
_LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")


class UnresolvableHost(OperatorError):
    """The host name has no address (or is not a host name at all)."""


def _embedded_v4(address: Address) -> ipaddress.IPv4Address | None:
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if any(address in network for network in _EMBEDS_V4_LOW_BITS):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: Address) -> bool:
    """A global unicast address, and so is any IPv4 address it embeds (NAT64, 6to4,
    IPv4-mapped or -compatible)."""
    if address in _LOCAL_NAT64:
        return False
    return all(a.is_global and not a.is_multicast
               for a in (address, _embedded_v4(address)) if a is not None)


def _allowed(host: str, addresses: list[Address], allowlist: list[str]) -> bool:
    for entry in allowlist:
        if entry.lower() == host.lower():
            return True
        try:
            network = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            continue
        if addresses and all(a in network for a in addresses):
            return True
    return False


def resolve(host: str, port: int, *, allowlist: list[str], field: str) -> str:
    """The address to connect to for ``host``: resolved once, every address it has checked.
    Raises UnresolvableHost, or OperatorError(field=...) if the host has an address that is
    not public and the host is not allow-listed."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or "not a host name"
        raise UnresolvableHost(f"Cannot resolve host {host!r}: {reason}.", field=field) from None
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    if not addresses:
        raise UnresolvableHost(f"Cannot resolve host {host!r}.", field=field)
    if not _allowed(host, addresses, allowlist):
        for address in addresses:
            if not is_public(address):
                raise OperatorError(
                    f"{host} resolves to {address}, a private, loopback or link-local address; "
                    "ask an administrator to add it to DATAGRAN_URL_ALLOWLIST.", field=field)
    return str(infos[0][4][0])


def check_url(url: str, *, allowlist: list[str], field: str) -> str:
    """Raise OperatorError(field=...) unless ``url`` is http(s) to a public address or to an
    allow-listed host; return the checked address to connect to."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OperatorError(f"{url!r} is not an http:// or https:// URL.", field=field)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise OperatorError(f"{url!r} has an invalid port.", field=field) from None
    return resolve(parts.hostname, port, allowlist=allowlist, field=field)
