"""User-configured URLs (HTTP connector, webhook, CRM base URL) must not reach loopback,
private, link-local or cloud-metadata addresses after DNS resolution, unless an administrator
allow-lists them (DATAGRAN_URL_ALLOWLIST: host names or CIDR networks)."""
from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from .base import OperatorError


def _allowed(host: str, addresses: list[ipaddress._BaseAddress], allowlist: list[str]) -> bool:
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


def check_url(url: str, *, allowlist: list[str], field: str) -> None:
    """Raise OperatorError(field=...) unless ``url`` is http(s) to a public address or to an
    allow-listed host."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OperatorError(f"{url!r} is not an http:// or https:// URL.", field=field)
    host = parts.hostname
    try:
        infos = socket.getaddrinfo(host, parts.port or 443, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise OperatorError(f"Cannot resolve host {host!r}: {exc.strerror}.", field=field) from None
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    if _allowed(host, addresses, allowlist):
        return
    for address in addresses:
        if not address.is_global or address.is_multicast:
            raise OperatorError(
                f"{host} resolves to {address}, a private, loopback or link-local address; "
                "ask an administrator to add it to DATAGRAN_URL_ALLOWLIST.", field=field)
