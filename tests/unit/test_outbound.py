"""The outbound policy (stocklink.outbound_policy) and the transport that applies it (stocklink.outbound):
https only, per-destination host allowlists, no loopback / private / link-local / CGNAT / multicast /
reserved addresses in any spelling, a connect to the vetted address only, no redirects."""
from __future__ import annotations

import ipaddress
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Mapping

import pytest

from stocklink import outbound
from stocklink.config import LOOPBACK_FLAG, settings
from stocklink.outbound_policy import (
    HostRule,
    OutboundRefused,
    check_url,
    error_text,
    forbidden_reason,
)

SHOPIFY = HostRule("Shopify Admin API", suffixes=(".myshopify.com",))
ANY_PUBLIC = HostRule("WooCommerce store", any_public_host=True)


@dataclass(frozen=True)
class Call:
    url: str
    hosts: HostRule | None = ANY_PUBLIC
    method: str = "GET"
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""


@pytest.fixture
def no_loopback(monkeypatch):
    monkeypatch.delenv(LOOPBACK_FLAG, raising=False)
    settings.cache_clear()
    yield
    settings.cache_clear()


@pytest.fixture
def local_runtime_flag(monkeypatch):
    monkeypatch.setenv(LOOPBACK_FLAG, "1")
    settings.cache_clear()
    yield
    settings.cache_clear()


def refused(url: str, rule: HostRule = ANY_PUBLIC, loopback_allowed: bool = False) -> str:
    with pytest.raises(OutboundRefused) as caught:
        check_url(url, rule, loopback_allowed=loopback_allowed)
    return str(caught.value)


# --- the URL ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://shop.example.com/x", "gopher://shop.example.com/",
                                 "http://shop.example.com/wp-json", "//shop.example.com/x", "shop.example.com"])
def test_only_https_is_allowed(url):
    assert "scheme" in refused(url)


@pytest.mark.parametrize("url, why", [
    ("https://127.0.0.1:9001/2018-06-01/runtime/invocation/next", "loopback"),   # the Lambda runtime API
    ("https://localhost/x", "loopback"),
    ("https://api.localhost/x", "loopback"),
    ("https://169.254.169.254/latest/meta-data/", "link-local"),                  # instance metadata
    ("https://169.254.170.2/v2/credentials", "link-local"),                       # container credentials
    ("https://10.0.0.8/", "private"),
    ("https://172.16.5.4/", "private"),
    ("https://192.168.1.1/", "private"),
    ("https://100.100.100.200/latest/meta-data", "carrier-grade NAT"),
    ("https://0.0.0.0:8080/", "this network"),
    ("https://224.0.0.251/", "multicast"),
    ("https://240.0.0.1/", "reserved"),
    ("https://255.255.255.255/", "reserved"),
    ("https://192.0.2.10/", "documentation"),
    ("https://198.18.0.1/", "benchmarking"),
    ("https://[::1]/", "loopback"),
    ("https://[::]/", "unspecified"),
    ("https://[fe80::1]/", "link-local"),
    ("https://[fd00:ec2::254]/latest/meta-data/", "unique-local"),               # EC2's IPv6 metadata
    ("https://[fc00::5]/", "unique-local"),
    ("https://[ff02::1]/", "multicast"),
    ("https://[2001:db8::1]/", "documentation"),
    ("https://[::ffff:127.0.0.1]/", "loopback"),                                  # IPv4-mapped
    ("https://[::ffff:169.254.169.254]/", "link-local"),
    ("https://[::ffff:a9fe:a9fe]/", "link-local"),
    ("https://[64:ff9b::a9fe:a9fe]/", "link-local"),                              # NAT64
    ("https://[2002:a9fe:a9fe::]/", "link-local"),                                # 6to4
    ("https://[::127.0.0.1]/", "loopback"),                                       # IPv4-compatible
])
def test_every_forbidden_address_class_is_refused(url, why):
    assert why in refused(url)


@pytest.mark.parametrize("url, why", [
    ("https://2130706433/", "loopback"),            # 127.0.0.1 as one decimal number
    ("https://0x7f000001/", "loopback"),            # ... in hex
    ("https://0177.0.0.1/", "loopback"),            # ... with an octal first part
    ("https://127.1/", "loopback"),                 # ... short form
    ("https://0xa9.0xfe.0xa9.0xfe/", "link-local"),  # 169.254.169.254 in hex parts
    ("https://2852039166/latest/meta-data", "link-local"),
    ("https://134744072/", "not written as a dotted quad"),   # 8.8.8.8: public, but ambiguous
])
def test_numeric_hosts_in_any_other_form_are_decoded_and_refused(url, why):
    assert why in refused(url)


def test_credentials_control_characters_and_non_ascii_hosts_are_refused():
    assert "credentials" in refused("https://a.myshopify.com@169.254.169.254/", SHOPIFY)
    assert "credentials" in refused("https://user:pw@shop.example.com/")
    assert "control" in refused("https://shop.example.com/\r\nX-Injected: 1")
    assert "backslash" in refused("https://shop.example.com\\@evil.example/")
    assert "ASCII" in refused("https://shöp.example.com/")
    assert "port" in refused("https://shop.example.com:99999/")
    assert "no allowed hosts" in refused("https://shop.example.com/", None)


@pytest.mark.parametrize("char", ["\t", "\x00", "\x1f", "\x7f", " ", "\u00a0", "\u2028", "\u3000", "\\"])
def test_any_whitespace_control_character_or_backslash_anywhere_in_the_url_is_refused(char):
    for url in (f"https://shop.example.com/p{char}x", f"https://shop{char}.example.com/", f"https://shop.example.com/?q={char}"):
        assert "whitespace, control characters or backslashes" in refused(url), repr(url)


def test_a_platform_allowlist_admits_its_hosts_only():
    assert check_url("https://demo.myshopify.com/admin/api/2026-04/graphql.json", SHOPIFY,
                     loopback_allowed=False).host == "demo.myshopify.com"
    assert check_url("https://DEMO.myshopify.com./x", SHOPIFY, loopback_allowed=False).host == "demo.myshopify.com"
    for url in ("https://evilmyshopify.com/", "https://myshopify.com.evil.example/", "https://93.184.216.34/",
                "https://evil.example/#.myshopify.com", "https://evil.example?.myshopify.com"):
        assert "not an allowed Shopify Admin API host" in refused(url, SHOPIFY), url


def test_the_sellers_own_host_may_be_any_public_host():
    dest = check_url("https://shop.example.com:8443/wp-json/wc/v3/products?x=1", ANY_PUBLIC, loopback_allowed=False)
    assert (dest.scheme, dest.host, dest.port, dest.target) == ("https", "shop.example.com", 8443,
                                                               "/wp-json/wc/v3/products?x=1")
    assert check_url("https://93.184.216.34/", ANY_PUBLIC, loopback_allowed=False).address is not None


def test_loopback_only_with_the_local_runtime_flag_and_nothing_else_private():
    assert "loopback" in refused("http://127.0.0.1:8765/shopify/s1", SHOPIFY)
    dest = check_url("http://127.0.0.1:8765/shopify/s1", SHOPIFY, loopback_allowed=True)
    assert dest.loopback and dest.scheme == "http" and dest.port == 8765
    assert check_url("http://localhost:8765/x", SHOPIFY, loopback_allowed=True).loopback
    assert "private" in refused("http://10.0.0.8/x", ANY_PUBLIC, loopback_allowed=True)
    assert "link-local" in refused("https://169.254.169.254/", ANY_PUBLIC, loopback_allowed=True)
    assert "scheme" in refused("http://shop.example.com/x", ANY_PUBLIC, loopback_allowed=True)


def test_forbidden_reason_accepts_public_addresses():
    for text in ("93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"):
        assert forbidden_reason(ipaddress.ip_address(text)) is None, text


def test_error_text_is_printable_and_capped():
    assert error_text(b"line1\r\n\x00line2\t  end") == "line1 line2 end"
    long = error_text("x" * 5000)
    assert len(long) == 200 and long.endswith("…")


# --- the transport ------------------------------------------------------------------------------------

def test_a_host_resolving_to_a_private_address_is_refused_before_any_connect(monkeypatch, no_loopback):
    connects = []
    monkeypatch.setattr(outbound, "resolve", lambda host, port: ["93.184.216.34", "10.0.0.7"])
    monkeypatch.setattr(outbound, "open_socket", lambda *a: connects.append(a))
    with pytest.raises(OutboundRefused, match="resolves to a private address"):
        outbound.send(Call("https://shop.example.com/wp-json"))
    monkeypatch.setattr(outbound, "resolve", lambda host, port: ["169.254.169.254"])
    with pytest.raises(OutboundRefused, match="link-local"):
        outbound.send(Call("https://metadata.google.internal/computeMetadata/v1/"))
    monkeypatch.setattr(outbound, "resolve", lambda host, port: ["::ffff:127.0.0.1"])
    with pytest.raises(OutboundRefused, match="loopback"):
        outbound.send(Call("https://rebind.example.com/"))
    assert connects == []


def test_the_socket_connects_to_the_vetted_address_resolved_once(monkeypatch, no_loopback):
    """DNS rebinding: a second lookup could answer 127.0.0.1; there is none, the connect goes to the
    address that was checked."""
    answers = iter([["93.184.216.34"], ["127.0.0.1"]])
    lookups, connects = [], []

    def resolve(host, port):
        lookups.append((host, port))
        return next(answers)

    def open_socket(address, port, timeout):
        connects.append((str(address), port))
        raise ConnectionRefusedError("stop here")

    monkeypatch.setattr(outbound, "resolve", resolve)
    monkeypatch.setattr(outbound, "open_socket", open_socket)
    status, _, body = outbound.send(Call("https://shop.example.com:8443/wp-json"))
    assert status == 0 and b"stop here" in body
    assert lookups == [("shop.example.com", 8443)]
    assert connects == [("93.184.216.34", 8443)]


def test_tls_names_and_verifies_the_host_not_the_address(monkeypatch, no_loopback):
    seen = {}

    class Context:
        verify_mode, check_hostname = ssl.CERT_REQUIRED, True

        def wrap_socket(self, sock, server_hostname):
            seen["server_hostname"] = server_hostname
            raise OSError("handshake stopped by the test")

    class Sock:
        def close(self):
            seen["closed"] = True

    monkeypatch.setattr(outbound, "resolve", lambda host, port: ["93.184.216.34"])
    monkeypatch.setattr(outbound, "open_socket", lambda address, port, timeout: Sock())
    monkeypatch.setattr(outbound, "tls_context", lambda: Context())
    status, _, _ = outbound.send(Call("https://demo.myshopify.com/admin", SHOPIFY))
    assert status == 0 and seen == {"server_hostname": "demo.myshopify.com", "closed": True}
    monkeypatch.undo()
    context = outbound.tls_context()
    assert context.check_hostname and context.verify_mode.name == "CERT_REQUIRED"


def test_a_request_without_an_allowlist_or_off_its_allowlist_is_never_sent(monkeypatch, no_loopback):
    monkeypatch.setattr(outbound, "resolve", lambda *a: pytest.fail("resolved a refused host"))
    with pytest.raises(OutboundRefused, match="no allowed hosts"):
        outbound.send(Call("https://demo.myshopify.com/", None))
    with pytest.raises(OutboundRefused, match="not an allowed Shopify"):
        outbound.send(Call("https://evil.example/", SHOPIFY))
    with pytest.raises(OutboundRefused, match="scheme file"):
        outbound.send(Call("file:///etc/passwd"))


class _Server:
    """A loopback HTTP server answering every GET with `answer` (status, headers, body). `keep_alive`: HTTP/1.1,
    connections stay open between requests (else HTTP/1.0: closed after each answer); `drop_after_answer`: it
    closes each connection after answering without saying so (as a keep-alive timeout does later)."""

    def __init__(self, answer, keep_alive: bool = False, drop_after_answer: bool = False):
        outer = self
        self.hits = 0
        self.connections: set[tuple[str, int]] = set()     # client (address, port) of every connection seen

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"
            disable_nagle_algorithm = True      # a kept connection's next answer is not held for an ACK

            def do_GET(self):  # noqa: N802
                outer.hits += 1
                outer.connections.add(self.client_address)
                status, headers, body = answer
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()
                if drop_after_answer:
                    self.close_connection = True

            def log_message(self, *args):
                pass

        self.closed = threading.Semaphore(0)      # released each time the server has closed a connection

        class Server(ThreadingHTTPServer):
            def shutdown_request(self, request):
                super().shutdown_request(request)
                outer.closed.release()

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_loopback_simulators_answer_in_the_local_runtime_only(local_runtime_flag, monkeypatch):
    server = _Server((200, {"Content-Type": "application/json"}, b'{"ok": true}'))
    try:
        status, headers, body = outbound.send(Call(f"{server.url}/shopify/s1", SHOPIFY))
        assert (status, body) == (200, b'{"ok": true}') and headers["Content-Type"] == "application/json"
        monkeypatch.delenv(LOOPBACK_FLAG)
        settings.cache_clear()
        with pytest.raises(OutboundRefused, match="loopback"):
            outbound.send(Call(f"{server.url}/shopify/s1", SHOPIFY))
        assert server.hits == 1
    finally:
        server.close()


def test_a_redirect_is_refused_not_followed(local_runtime_flag):
    target = _Server((200, {}, b"metadata secrets"))
    server = _Server((302, {"Location": f"{target.url}/latest/meta-data"}, b""))
    try:
        with pytest.raises(OutboundRefused, match="HTTP 302 .*redirects are not followed"):
            outbound.send(Call(f"{server.url}/x", SHOPIFY))
        assert server.hits == 1 and target.hits == 0
    finally:
        server.close()
        target.close()


def _self_signed(tmp_path, name: str) -> tuple[str, str]:
    """A certificate for `name` (and its key), files under tmp_path."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_file), str(key_file)


@pytest.mark.parametrize("served_name, ok", [("localhost", True), ("other.example", False)])
def test_https_to_the_vetted_address_verifies_the_certificate_for_the_host_name(
        tmp_path, local_runtime_flag, monkeypatch, served_name, ok):
    """A real TLS handshake over the pinned connection: the socket goes to 127.0.0.1, the handshake names
    `localhost`, and a certificate for any other name is refused."""
    cert, key = _self_signed(tmp_path, served_name)
    server = _Server((200, {}, b"over tls"))
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)
    server.server.socket = server_tls.wrap_socket(server.server.socket, server_side=True)
    client_tls = ssl.create_default_context(cafile=cert)
    monkeypatch.setattr(outbound, "tls_context", lambda: client_tls)
    port = server.server.server_address[1]
    try:
        status, _, body = outbound.send(Call(f"https://localhost:{port}/x", SHOPIFY))
    finally:
        server.close()
    if ok:
        assert (status, body) == (200, b"over tls")
    else:
        assert status == 0 and b"certificate verify failed" in body


# --- kept connections -----------------------------------------------------------------------------------

def test_a_connection_whose_answer_was_read_whole_is_reused_for_the_next_request_to_the_host(
        local_runtime_flag, monkeypatch):
    """No DNS lookup, TCP connect or TLS handshake per platform call once a connection is open."""
    lookups = []
    real_resolve = outbound.resolve
    monkeypatch.setattr(outbound, "resolve", lambda host, port: lookups.append(host) or real_resolve(host, port))
    server = _Server((200, {}, b"ok"), keep_alive=True)
    try:
        answers = [outbound.send(Call(f"{server.url}/p/{i}", SHOPIFY))[::2] for i in range(3)]
    finally:
        server.close()
    assert answers == [(200, b"ok")] * 3 and server.hits == 3
    assert len(server.connections) == 1 and lookups == ["127.0.0.1"]


def test_a_connection_the_server_closes_after_answering_is_not_reused(local_runtime_flag):
    server = _Server((200, {}, b"ok"))                  # HTTP/1.0: "Connection: close" after every answer
    try:
        assert [outbound.send(Call(f"{server.url}/p", SHOPIFY))[0] for _ in range(2)] == [200, 200]
    finally:
        server.close()
    assert len(server.connections) == 2


def test_a_connection_idle_too_long_or_opened_too_long_ago_is_closed_not_reused(local_runtime_flag, monkeypatch):
    """Idle past KEEP_IDLE_S the server may be closing it; opened more than KEEP_FOR_S ago, the host's
    addresses are looked up and vetted again."""
    clock = [1_000_000.0]
    monkeypatch.setattr(outbound, "_wall", lambda: clock[0])
    server = _Server((200, {}, b"ok"), keep_alive=True)
    try:
        def call():
            assert outbound.send(Call(f"{server.url}/p", SHOPIFY))[0] == 200
            return len(server.connections)

        assert call() == 1
        clock[0] += outbound.KEEP_IDLE_S - 0.5
        assert call() == 1                               # idle less than KEEP_IDLE_S: reused
        clock[0] += outbound.KEEP_IDLE_S
        assert call() == 2                               # idle KEEP_IDLE_S: a new connection
        for _ in range(int(outbound.KEEP_FOR_S / 2)):    # busy, never idle long, but open for KEEP_FOR_S
            clock[0] += 2.0
            call()
        assert len(server.connections) == 3
    finally:
        server.close()


def test_a_kept_connection_the_server_closed_meanwhile_is_replaced_and_the_request_sent_once(local_runtime_flag):
    """The server closed it while it was idle (its keep-alive timeout): that is seen before the request is
    written, so the request goes out once, on a new connection, instead of failing as a network error."""
    server = _Server((200, {}, b"ok"), keep_alive=True, drop_after_answer=True)
    try:
        first = outbound.send(Call(f"{server.url}/p", SHOPIFY))
        assert server.closed.acquire(timeout=5)          # closed while ours sits idle, as a timeout does
        time.sleep(0.05)                                 # its FIN is in before the next call (loopback)
        second = outbound.send(Call(f"{server.url}/p", SHOPIFY))
    finally:
        server.close()
    assert first[0] == second[0] == 200
    assert server.hits == 2 and len(server.connections) == 2


def test_an_answer_not_read_whole_closes_its_connection(local_runtime_flag, monkeypatch):
    monkeypatch.setattr(outbound, "MAX_RESPONSE_BYTES", 4)
    server = _Server((200, {}, b"far too long"), keep_alive=True)
    try:
        with pytest.raises(OutboundRefused, match="larger than 4 bytes"):
            outbound.send(Call(f"{server.url}/p", SHOPIFY))
        monkeypatch.setattr(outbound, "MAX_RESPONSE_BYTES", 100)
        assert outbound.send(Call(f"{server.url}/p", SHOPIFY))[2] == b"far too long"
    finally:
        server.close()
    assert len(server.connections) == 2


def test_kept_connections_are_per_host_and_port(local_runtime_flag):
    one, other = _Server((200, {}, b"one"), keep_alive=True), _Server((200, {}, b"other"), keep_alive=True)
    try:
        bodies = [outbound.send(Call(f"{server.url}/p", SHOPIFY))[2] for server in (one, other, one, other)]
    finally:
        one.close()
        other.close()
    assert bodies == [b"one", b"other", b"one", b"other"]
    assert len(one.connections) == len(other.connections) == 1
