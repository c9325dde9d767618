"""What a kept connection saves per platform call: stocklink.outbound.send over TLS to a local server, each
call on a new connection (DNS lookup, TCP connect, TLS handshake: what every call paid before) against calls
reusing the connection kept from the last one (stocklink.outbound's default). Interleaved A/B in one run.

    PYTHONPATH=shared:. python -m tests.bench.outbound_reuse [--calls 300] [--rounds 3]

The server is a loopback HTTPS server with a throwaway self-signed certificate (ECDSA P-256, as the platforms'
CDNs mostly serve); the client trusts just that certificate. Only the client thread's CPU is counted (the
server runs in other threads, its CPU left out). Loopback has no round-trip time: on AWS each new connection
also waits one round trip for TCP and one for TLS 1.3 (two for TLS 1.2) to the platform's region, which this
does not show. Prints figures; asserts nothing.
"""
from __future__ import annotations

import argparse
import datetime
import os
import ssl
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Mapping

from stocklink.config import LOOPBACK_FLAG, settings
from stocklink.outbound_policy import HostRule

BODY = b'{"data": {"inventorySetQuantities": {"userErrors": []}}}'


@dataclass(frozen=True)
class Call:
    url: str
    hosts: HostRule = HostRule("bench", any_public_host=True)
    method: str = "POST"
    headers: Mapping[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})
    body: bytes = b'{"query": "mutation { inventorySetQuantities }"}'


def _certificate(folder: str) -> tuple[str, str]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
    with open(cert_file, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_file, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return cert_file, key_file


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True      # headers and body are two writes: Nagle would hold the body for an ACK

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *args):
        pass


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    os.environ[LOOPBACK_FLAG] = "1"
    settings.cache_clear()
    from stocklink import outbound

    with tempfile.TemporaryDirectory() as folder:
        cert, key = _certificate(folder)
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_tls.load_cert_chain(cert, key)
        server.socket = server_tls.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        client_tls = ssl.create_default_context(cafile=cert)
        client_tls.set_alpn_protocols(["http/1.1"])
        outbound.tls_context = lambda: client_tls       # trust the throwaway certificate, verify as ever
        url = f"https://localhost:{server.server_address[1]}/admin/api/graphql.json"

        def run(new_connection_each_call: bool) -> tuple[float, float]:
            """(client CPU ms per call, wall ms per call)."""
            outbound.forget_connections()
            assert outbound.send(Call(url))[0] == 200      # warm: the kept run starts with its connection open
            cpu, wall = time.thread_time(), time.perf_counter()
            for _ in range(args.calls):
                if new_connection_each_call:
                    outbound.forget_connections()
                status, _, _ = outbound.send(Call(url))
                assert status == 200
            return ((time.thread_time() - cpu) / args.calls * 1000, (time.perf_counter() - wall) / args.calls * 1000)

        results: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
        for _ in range(args.rounds):
            for new in (True, False):
                results[new].append(run(new))
        server.shutdown()
        server.server_close()
    print(f"stocklink.outbound.send over TLS to a loopback server, {args.calls} calls x {args.rounds} rounds "
          f"(interleaved), client thread CPU and wall per call, median of rounds [min-max]:")
    for new, label in ((True, "new connection each call (before)"), (False, "kept connection (now)")):
        cpus, walls = [r[0] for r in results[new]], [r[1] for r in results[new]]
        print(f"  {label:<34} CPU {statistics.median(cpus):6.2f} ms [{min(cpus):.2f}-{max(cpus):.2f}]   "
              f"wall {statistics.median(walls):6.2f} ms [{min(walls):.2f}-{max(walls):.2f}]")
    print("  (loopback: no round-trip time; on AWS a new connection also waits 2-3 round trips to the platform)")


if __name__ == "__main__":
    main()
