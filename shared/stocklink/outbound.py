"""The one way a request leaves StockLink: platform API calls (channel sync, reconciliation, order detail)
and chat notifications (alerting). Adapters and chat builders only build signed requests; this module
sends them, under the one outbound policy (stocklink.outbound_policy):

- the URL must pass `check_url` against the request's own allowlist (`request.hosts`);
- the host is resolved once, every address it resolves to must be public, and the socket connects to one
  of those vetted addresses: no second lookup between the check and the connect (DNS rebinding);
- TLS still names the host (SNI) and verifies its certificate against it;
- a 3xx answer is refused, never followed; an answer larger than MAX_RESPONSE_BYTES is refused.

Standard library only (http.client, ssl): the layer stays small and cold starts short.
"""
from __future__ import annotations

import http.client
import socket
import ssl
from functools import lru_cache
from typing import Mapping, Protocol

from stocklink.outbound_policy import (
    Destination,
    HostRule,
    IPAddress,
    OutboundRefused,
    check_addresses,
    error_text,
    vet_url,
)

HTTP_TIMEOUT_S = 10.0
MAX_RESPONSE_BYTES = 8 * 1024 * 1024

__all__ = ["OutboundRefused", "Response", "send"]


class OutboundRequest(Protocol):
    """What every built request has (channels.base.HttpCall, alerts.chat.HttpRequest)."""
    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes
    hosts: HostRule | None      # where this kind of request may go; None is refused


Response = tuple[int, dict, bytes]


def send(request: OutboundRequest, timeout: float = HTTP_TIMEOUT_S) -> Response:
    """One request with a timeout: (status, headers, body). A network failure (refused, reset, timed out,
    TLS) comes back as status 0 with the reason as body: callers treat it as retryable. A request the
    policy refuses, and a redirect, raise OutboundRefused: nothing is worth retrying there."""
    destination = vet_url(request.url, getattr(request, "hosts", None))
    try:
        addresses = check_addresses(destination, resolve(destination.host, destination.port))
    except OSError as exc:                     # the name does not resolve (now): like a refused connect
        return 0, {}, error_text(f"cannot resolve {destination.host}: {exc}").encode()
    connection = _connection(destination, addresses, timeout)
    try:
        connection.request(request.method, destination.target, body=request.body or None,
                           headers=dict(request.headers))
        response = connection.getresponse()
        if 300 <= response.status < 400:
            raise OutboundRefused(f"HTTP {response.status} from {destination.host}: redirects are not followed")
        body = response.read(MAX_RESPONSE_BYTES + 1)
        if len(body) > MAX_RESPONSE_BYTES:
            raise OutboundRefused(f"answer from {destination.host} larger than {MAX_RESPONSE_BYTES} bytes")
        return response.status, dict(response.getheaders()), body
    except (OSError, http.client.HTTPException) as exc:
        return 0, {}, error_text(f"{type(exc).__name__}: {exc}").encode()
    finally:
        connection.close()


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (a seam: tests answer for DNS here)."""
    return list(dict.fromkeys(info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)))


def open_socket(address: IPAddress, port: int, timeout: float) -> socket.socket:
    """A TCP connection to exactly this address (a seam: tests watch where connections go)."""
    sock = socket.create_connection((str(address), port), timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


@lru_cache(maxsize=1)
def tls_context() -> ssl.SSLContext:
    """Certificate and host name verification on (the defaults), built once per container."""
    context = ssl.create_default_context()
    context.set_alpn_protocols(["http/1.1"])
    return context


def _connect(addresses: list[IPAddress], port: int, timeout: float) -> socket.socket:
    error: OSError = OSError("no address to connect to")
    for address in addresses:
        try:
            return open_socket(address, port, timeout)
        except OSError as exc:
            error = exc
    raise error


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Plain HTTP, loopback only (the local runtime's simulators), to the vetted address."""

    def __init__(self, destination: Destination, addresses: list[IPAddress], timeout: float):
        super().__init__(destination.host, destination.port, timeout=timeout)
        self.addresses = addresses

    def connect(self) -> None:
        self.sock = _connect(self.addresses, self.port, self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """TLS to the vetted address; the handshake names the host (SNI) and verifies its certificate."""

    def __init__(self, destination: Destination, addresses: list[IPAddress], timeout: float):
        super().__init__(destination.host, destination.port, timeout=timeout, context=tls_context())
        self.addresses = addresses

    def connect(self) -> None:
        sock = _connect(self.addresses, self.port, self.timeout)
        try:
            self.sock = tls_context().wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


def _connection(destination: Destination, addresses: list[IPAddress], timeout: float) -> http.client.HTTPConnection:
    if destination.scheme == "https":
        return _PinnedHTTPSConnection(destination, addresses, timeout)
    return _PinnedHTTPConnection(destination, addresses, timeout)
