"""Where a request may go: IP literals in every spelling, address classes, and the site boundary.

A hostile page (or a hijacked one) can send the crawler anywhere with a 301/302 or a meta
refresh: to another host, to a cloud metadata address (`169.254.169.254`), or to the operator's
own network. The rules, applied to every request (spiders/boundary.py):

- only `http` and `https`;
- never a link-local, multicast, unspecified or reserved address (`169.254.0.0/16`, `fe80::/10`,
  `224.0.0.0/4`, `0.0.0.0`, `240.0.0.0/4`);
- a private or loopback address (`10/8`, `192.168/16`, `127/8`, `::1`, …) only when that same
  address is written in the site's own `allowed_domains` (the tests' `127.0.0.1` sites);
- page requests (and their redirects) only to hosts in the site's `allowed_domains`.

IP literals are read the way the C resolver reads them (`inet_aton`), so `http://2852039166/`,
`http://0xA9FEA9FE/`, `http://0251.0376.0251.0376/` and `http://169.254.43518/` are all
169.254.169.254; IPv6 literals include IPv4-mapped ones (`[::ffff:169.254.169.254]`).

Host names are judged by name: what they resolve to is not checked. The names a page request
may reach are the operator's own `allowed_domains`; a DNS answer pointing one of them at a
private address is outside what a URL check can see (and re-checking at resolve time would
not survive DNS rebinding either). Run the crawler where the network, not the URL, keeps it
out of metadata services if that matters (README "Faults").
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
SCHEMES = ("http", "https")
_NUMERIC_HOST = re.compile(r"^[0-9a-fx.]+$", re.I)


def parse_ip(host: str) -> IPAddress | None:
    """The address an IP literal host names, in any spelling the resolver accepts; None for names."""
    host = host.strip().strip("[]").rstrip(".").lower()
    if not host:
        return None
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        if not _NUMERIC_HOST.match(host) or not any(c.isdigit() for c in host):
            return None
        try:  # decimal, hex, octal, and 1–3 part forms, as inet_aton (and getaddrinfo) read them
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def never_reachable(address: IPAddress) -> bool:
    """Addresses no crawl may request: link-local (cloud metadata), multicast, unspecified, reserved."""
    if address.is_loopback:  # ::1 lies in IPv6's reserved ::/8
        return False
    return address.is_link_local or address.is_multicast or address.is_unspecified or address.is_reserved


def internal(address: IPAddress) -> bool:
    """Private and loopback addresses: requested only when the site names that address itself."""
    return address.is_private or address.is_loopback


def is_local_host(host: str) -> bool:
    """`localhost` and loopback or private address literals: a crawl of these reaches no webmaster."""
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    address = parse_ip(host)
    return address is not None and internal(address)


def host_allowed(host: str, domains: Iterable[str]) -> bool:
    """True if `host` is one of `domains` or a subdomain of one (IP literals: the same address)."""
    host = host.lower().rstrip(".")
    address = parse_ip(host)
    for domain in domains:
        if address is not None:
            if parse_ip(domain) == address:
                return True
        elif host == domain or host.endswith("." + domain):
            return True
    return False


def blocked_reason(url: str, domains: Iterable[str], check_domain: bool = True) -> str | None:
    """Why a request for `url` must not be made (a short reason), or None if it may.

    `domains` are the site's `allowed_domains`; with `check_domain=False` (attachments, which
    may live on another public host) only the scheme and address rules apply.
    """
    domains = tuple(domains)
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        _ = parts.port  # raises on a port outside 0–65535
    except ValueError:
        return "bad_url"
    if parts.scheme.lower() not in SCHEMES:
        return "scheme"
    if not host:
        return "bad_url"
    address = parse_ip(host)
    if address is not None:
        if never_reachable(address):
            return "forbidden_address"
        if internal(address) and not any(parse_ip(d) == address for d in domains):
            return "internal_address"
    if check_domain and not host_allowed(host, domains):
        return "offsite"
    return None
