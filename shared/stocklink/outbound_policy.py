"""Where a request out of StockLink may go: the one outbound policy, as pure decisions (no sockets, no DNS).

`stocklink.outbound.send` applies it to every request, and the API applies `check_url` to the URLs a seller
stores (PUT /shops, chat subscriptions) so a refused URL is a 400 at once, not a failure at the first sync.

The rules:
- https only; no credentials in the URL; the host in plain ASCII.
- the host is on the request's allowlist (`HostRule`): each platform adapter declares its API hosts
  (`api_hosts`) and alerts/chat.py its chat providers' webhook hosts; WooCommerce, whose API is the
  seller's own store, allows any public host.
- every address the host resolves to is public: loopback, private, link-local (cloud metadata at
  169.254.169.254 and fd00:ec2::254), carrier-grade NAT, multicast, documentation, benchmarking and
  reserved ranges are refused, for IPv4 and IPv6 alike, including IPv4 addresses carried inside IPv6
  (IPv4-mapped, NAT64, 6to4). A numeric host in any form but a dotted quad (`2130706433`, `0x7f.1`,
  `0177.0.0.1`) is refused: resolvers read such forms differently, so no check of it could be trusted.
- loopback is allowed, over http or https, only where the process runs in the local runtime, which talks
  to its marketplace simulators on 127.0.0.1 (`Settings.allow_loopback_http`, set by infra/local/workers.py
  and never by the CDK stack).
- no redirects, and error texts are capped (`error_text`): see stocklink.outbound.
"""
from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2048
ERROR_TEXT_LIMIT = 200

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class OutboundRefused(Exception):
    """The policy refuses the request: nothing was sent (or, for a redirect, nothing more is followed)."""


@dataclass(frozen=True)
class HostRule:
    """The hosts one kind of request may reach: exact names, any subdomain of a suffix, or any public host."""

    name: str                                             # for messages: "Shopify Admin API"
    hosts: frozenset[str] = frozenset()
    suffixes: tuple[str, ...] = ()                        # ".myshopify.com" matches "x.myshopify.com"
    any_public_host: bool = False                         # the seller's own host (WooCommerce)

    def allows(self, host: str) -> bool:
        return self.any_public_host or host in self.hosts or any(host.endswith(s) for s in self.suffixes)


@dataclass(frozen=True)
class Destination:
    """A URL the policy accepted before resolution: what to connect to and what to ask for."""

    scheme: str
    host: str                                             # lower case, no trailing dot, no brackets
    port: int
    target: str                                           # path and query, as sent in the request line
    address: IPAddress | None = None                      # the host is a literal address
    loopback: bool = False                                # a local-runtime simulator (only with the flag)


# IANA special-purpose ranges no platform API or chat webhook lives in. Spelled out rather than left to
# ipaddress.is_global, whose answer for some of them changed between Python patch releases.
_V4_REFUSED = [(ipaddress.ip_network(net), why) for net, why in (
    ("0.0.0.0/8", "a 'this network' address"),
    ("10.0.0.0/8", "a private address"),
    ("100.64.0.0/10", "a carrier-grade NAT address"),
    ("127.0.0.0/8", "a loopback address"),
    ("169.254.0.0/16", "a link-local address (cloud metadata)"),
    ("172.16.0.0/12", "a private address"),
    ("192.0.0.0/24", "a reserved address"),
    ("192.0.2.0/24", "a documentation address"),
    ("192.88.99.0/24", "a reserved address"),
    ("192.168.0.0/16", "a private address"),
    ("198.18.0.0/15", "a benchmarking address"),
    ("198.51.100.0/24", "a documentation address"),
    ("203.0.113.0/24", "a documentation address"),
    ("224.0.0.0/4", "a multicast address"),
    ("240.0.0.0/4", "a reserved address"),
)]
_V6_REFUSED = [(ipaddress.ip_network(net), why) for net, why in (
    ("::1/128", "a loopback address"),
    ("::/128", "the unspecified address"),
    ("64:ff9b:1::/48", "a local-use NAT64 address"),
    ("100::/64", "a discard address"),
    ("2001::/32", "a Teredo address"),
    ("2001:db8::/32", "a documentation address"),
    ("fc00::/7", "a unique-local (private) address"),
    ("fe80::/10", "a link-local address"),
    ("fec0::/10", "a site-local address"),
    ("ff00::/8", "a multicast address"),
)]
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_LOOPBACK_NAMES = ("localhost",)
_HOST_CHARS = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*")
# Whitespace (Unicode's, as str.isspace), control characters and backslashes: parsers disagree on URLs holding
# them. One regex search: every platform call is checked, and a character-by-character loop was ~1 % of a push.
_UNSAFE_URL_CHARS = re.compile(r"[\s\x00-\x1f\x7f\\]")


def forbidden_reason(address: IPAddress) -> str | None:
    """Why `address` may not be reached, or None for a public address."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            reason = forbidden_reason(embedded)
            return f"{reason} inside an IPv6 address" if reason else None
        for network, why in _V6_REFUSED:
            if address in network:
                return why
    else:
        for network, why in _V4_REFUSED:
            if address in network:
                return why
    return None if address.is_global else "not a public address"


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for: IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d,
    deprecated), NAT64 (64:ff9b::a.b.c.d) and 6to4 (2002:aabb:ccdd::)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64 or (int(address) >> 32 == 0 and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_loopback(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def _literal_address(host: str) -> IPAddress | None:
    """The address a numeric host names, or None for a name. Non-canonical IPv4 forms are refused."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if host.replace(".", "").isalnum() and not host.rsplit(".", 1)[-1].isalpha():
        try:
            decoded = ipaddress.IPv4Address(socket.inet_aton(host))   # the C resolver's reading of it
        except OSError:
            return None
        reason = forbidden_reason(decoded)
        raise OutboundRefused(f"host {host} is {reason} ({decoded})" if reason else
                              f"host {host} is a numeric address not written as a dotted quad")
    return None


def check_url(url: str, rule: HostRule | None, *, loopback_allowed: bool) -> Destination:
    """The URL as a Destination, or OutboundRefused saying why. Static: resolving the host and vetting
    its addresses is `check_addresses`' job, at the moment of connecting."""
    if rule is None:
        raise OutboundRefused("the request names no allowed hosts")
    if not isinstance(url, str) or not url:
        raise OutboundRefused("no URL")
    if len(url) > MAX_URL_LENGTH:
        raise OutboundRefused(f"URL longer than {MAX_URL_LENGTH} characters")
    if _UNSAFE_URL_CHARS.search(url):
        raise OutboundRefused("URL contains whitespace, control characters or backslashes")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise OutboundRefused(f"scheme {scheme or 'missing'}: only https is allowed")
    if "@" in parts.netloc:
        raise OutboundRefused("credentials in the URL are not allowed")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise OutboundRefused("invalid port") from None
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise OutboundRefused("URL has no host")
    if not host.isascii():
        raise OutboundRefused(f"host {host} must be written in ASCII (punycode)")
    address = _literal_address(host)
    loopback = (is_loopback(address) if address is not None
                else host in _LOOPBACK_NAMES or host.endswith(".localhost"))
    if loopback and loopback_allowed:
        return Destination(scheme, host, port, _target(parts), address, True)
    if loopback:
        raise OutboundRefused(f"host {host} is a loopback address")
    reason = forbidden_reason(address) if address is not None else None
    if reason:
        raise OutboundRefused(f"host {host} is {reason}")
    if scheme != "https":
        raise OutboundRefused(f"scheme {scheme}: only https is allowed")
    if address is None and not _HOST_CHARS.fullmatch(host):
        raise OutboundRefused(f"host {host} is not a valid host name")
    if not rule.allows(host) or (address is not None and not rule.any_public_host):
        raise OutboundRefused(f"host {host} is not an allowed {rule.name} host")
    return Destination(scheme, host, port, _target(parts), address)


def vet_url(url: str, rule: HostRule | None) -> Destination:
    """`check_url` with this process's loopback flag: what the transport applies to every request, and
    the API to every URL a seller stores (a 400 at once, not a refused call at the first sync)."""
    from stocklink.config import settings

    return check_url(url, rule, loopback_allowed=settings().allow_loopback_http)


def _target(parts) -> str:
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def check_addresses(destination: Destination, addresses: list[str]) -> list[IPAddress]:
    """The resolved addresses to connect to, if every one of them may be reached: a name that answers
    with one private address among public ones is refused whole (the connect could pick either)."""
    vetted: list[IPAddress] = []
    for text in addresses:
        address = ipaddress.ip_address(text.split("%", 1)[0])
        if destination.loopback:
            if not is_loopback(address):
                raise OutboundRefused(f"host {destination.host} resolves to {address}, not to loopback")
        else:
            reason = forbidden_reason(address)
            if reason:
                raise OutboundRefused(f"host {destination.host} resolves to {reason}")
        vetted.append(address)
    if not vetted:
        raise OutboundRefused(f"host {destination.host} did not resolve")
    return vetted


def error_text(text: str | bytes, limit: int = ERROR_TEXT_LIMIT) -> str:
    """An error text fit to store, log or answer with: printable characters only, whitespace collapsed,
    at most `limit` characters. Platform answers end up in these texts; a cap keeps a misbehaving or
    hostile host from filling GET /sync/failures or an API answer with its pages."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    cleaned = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return cleaned if len(cleaned) <= limit else cleaned[:limit - 1] + "…"
