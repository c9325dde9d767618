"""python -m infra.sandbox --port P : run the marketplace simulators on loopback (see server.py)."""
from __future__ import annotations

import argparse
from http.server import ThreadingHTTPServer

from infra.sandbox.server import Sandbox, make_handler


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="StockLink marketplace simulators (Shopify, TikTok Shop, "
                                                 "Shopee, Lazada, WooCommerce) on one loopback port")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args(argv)
    server = ThreadingHTTPServer((args.host, args.port), make_handler(Sandbox()))
    server.daemon_threads = True
    print(f"sandbox listening on http://{args.host}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
