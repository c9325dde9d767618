"""The one way a request leaves StockLink: platform API calls (channel sync, reconciliation, order detail)
and chat notifications (alerting). Adapters and chat builders only build signed requests; this module
sends them, under the one outbound policy (stocklink.outbound_policy):

- the URL must pass `check_url` against the request's own allowlist (`request.hosts`);
- the host is resolved once, every address it resolves to must be public, and the socket connects to one
  of those vetted addresses: no second lookup between the check and the connect (DNS rebinding);
- TLS still names the host (SNI) and verifies its certificate against it;
- a 3xx answer is refused, never followed; an answer larger than MAX_RESPONSE_BYTES is refused;
- a connection whose answer was read whole is kept for the next request to the same host (per container):
  a push no longer pays a DNS lookup, a TCP connect and a TLS handshake (one to two round trips to the
  platform, and the handshake's CPU) per call. A kept connection still goes to the address vetted when it
  was opened; it is dropped after KEEP_IDLE_S idle (under the common servers' keep-alive timeouts) or
  KEEP_FOR_S after it was opened (the host's DNS answer is followed within that time), and one the server
  has closed meanwhile is seen closed before it is used. A request is never sent twice by this module: what a
  failed call may have done is its caller's to judge (the last-units guard sends some raises exactly once).

Standard library only (http.client, ssl): the layer stays small and cold starts short.
"""
from __future__ import annotations

import http.client
import select
import socket
import ssl
import threading
import time
from dataclasses import dataclass
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
KEEP_IDLE_S = 4.0          # below the shortest common keep-alive timeout (Apache's and Node's 5 s)
KEEP_FOR_S = 60.0          # a connection is not reused longer than this after it was opened
KEEP_PER_HOST = 8          # idle connections kept per (scheme, host, port)

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
    kept = _idle.take(destination)
    if kept is None:
        try:
            addresses = check_addresses(destination, resolve(destination.host, destination.port))
        except OSError as exc:                     # the name does not resolve (now): like a refused connect
            return 0, {}, error_text(f"cannot resolve {destination.host}: {exc}").encode()
        kept = _Kept(_connection(destination, addresses, timeout), _wall())
    return _exchange(kept, destination, request, timeout)


def _exchange(kept: _Kept, destination: Destination, request: OutboundRequest, timeout: float) -> Response:
    """The request on `kept`'s connection, which is kept again if its answer was read whole and the server
    keeps it open."""
    connection, keep = kept.connection, False
    try:
        connection.timeout = timeout
        if connection.sock is not None:           # a kept connection: its socket has the last call's timeout
            connection.sock.settimeout(timeout)
        connection.request(request.method, destination.target, body=request.body or None,
                           headers=dict(request.headers))
        response = connection.getresponse()
        if 300 <= response.status < 400:
            raise OutboundRefused(f"HTTP {response.status} from {destination.host}: redirects are not followed")
        body = response.read(MAX_RESPONSE_BYTES + 1)
        if len(body) > MAX_RESPONSE_BYTES:
            raise OutboundRefused(f"answer from {destination.host} larger than {MAX_RESPONSE_BYTES} bytes")
        keep = response.isclosed() and not response.will_close
        return response.status, dict(response.getheaders()), body
    except (OSError, http.client.HTTPException) as exc:
        return 0, {}, error_text(f"{type(exc).__name__}: {exc}").encode()
    finally:
        if keep:
            _idle.put(destination, kept)
        else:
            connection.close()


def _wall() -> float:
    """Wall time, not monotonic: a Lambda container's clock is set right after a freeze, so a connection left
    idle across invocations is seen as idle that long."""
    return time.time()


@dataclass(eq=False)
class _Kept:
    connection: http.client.HTTPConnection
    opened_at: float
    idle_since: float = 0.0

    def recent(self, now: float) -> bool:
        """Idle less than KEEP_IDLE_S and opened less than KEEP_FOR_S ago."""
        return now - self.idle_since < KEEP_IDLE_S and now - self.opened_at < KEEP_FOR_S


def _closed_by_peer(sock: socket.socket | None) -> bool:
    """Whether an idle connection's socket has anything to read: between answers only the server's close
    (or a stray byte, as bad) can be there. Checked without waiting, before the connection is used again."""
    if sock is None:
        return True
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


class _IdleConnections:
    """Connections whose last answer was read whole, per (scheme, host, port), last used first out."""

    def __init__(self):
        self.lock = threading.Lock()
        self.by_destination: dict[tuple[str, str, int], list[_Kept]] = {}

    def take(self, destination: Destination) -> _Kept | None:
        """The most recently used connection still fit for reuse: recent, and not closed by the server (polled
        for the one about to be used only); the unfit ones met are closed."""
        now, found = _wall(), None
        with self.lock:
            idle = self.by_destination.get(_key(destination), [])
            unfit = [k for k in idle if not k.recent(now)]
            idle[:] = [k for k in idle if k.recent(now)]
            while idle and found is None:
                kept = idle.pop()
                if _closed_by_peer(kept.connection.sock):
                    unfit.append(kept)
                else:
                    found = kept
        for kept in unfit:
            kept.connection.close()
        return found

    def put(self, destination: Destination, kept: _Kept) -> None:
        kept.idle_since = _wall()
        with self.lock:
            idle = self.by_destination.setdefault(_key(destination), [])
            idle.append(kept)
            dropped = idle[:-KEEP_PER_HOST]
            del idle[:-KEEP_PER_HOST]
        for old in dropped:
            old.connection.close()

    def close_all(self) -> None:
        with self.lock:
            kept = [k for idle in self.by_destination.values() for k in idle]
            self.by_destination.clear()
        for k in kept:
            k.connection.close()


def _key(destination: Destination) -> tuple[str, str, int]:
    return destination.scheme, destination.host, destination.port


_idle = _IdleConnections()


def forget_connections() -> None:
    """Close every kept connection (a fresh container: tests)."""
    _idle.close_all()


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
