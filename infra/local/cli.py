"""`python -m infra.local.cli local` (what `make run` calls): all of StockLink on this machine, no AWS
account, no Docker. See infra/local/README.md.
"""
from __future__ import annotations

import argparse
import errno
import logging
import os
import signal
import sys
import threading


def _say(line: str) -> None:
    """One line to stdout in a single write: the runtime's worker and log threads write to the same stream,
    and print() writes the text and its newline separately, so another line could land between them."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stocklink", description="StockLink command line")
    sub = parser.add_subparsers(dest="command", required=True)
    local = sub.add_parser("local", help="run StockLink locally (DynamoDB Local + moto + worker pools)")
    local.add_argument("--port", type=int, default=int(os.environ.get("STOCKLINK_PORT", "8080")),
                       help="gateway port on 127.0.0.1 (default $STOCKLINK_PORT or 8080)")
    local.add_argument("--in-memory", action="store_true", help="throwaway run: keep no data")
    local.add_argument("--data-dir", default=None, help="where data is kept (default .stocklink/data)")
    local.add_argument("--demo", action="store_true", help="load demo data and run the marketplace simulators")
    local.add_argument("--exit", action="store_true", help="with --demo: stop after the demo's report (scripts)")
    local.add_argument("--story", choices=("flash", "cn"), default="flash",
                       help="with --demo: flash (default: a TikTok Shop flash sale beside Shopify, Shopee, Lazada "
                            "and WooCommerce) or cn (Taobao, JD, Pinduoduo and Douyin Shop from two warehouses, "
                            "orders pushed, queued and pulled; ~5 min: Pinduoduo's orders are read 3 min late)")
    local.add_argument("--sandbox-port", type=int, default=int(os.environ.get("STOCKLINK_SANDBOX_PORT", "8765")),
                       help="with --demo: simulators' port on 127.0.0.1 (default 8765, a free one if taken)")
    local.add_argument("--flash-units", type=int, default=120, help="with --demo: units of the flash-sale SKU")
    local.add_argument("--flash-orders", type=int, default=200, help="with --demo: TikTok Shop flash-sale orders")
    local.add_argument("--side-orders", type=int, default=None,
                       help="with --demo: Shopee and Lazada orders each during the sale (default flash-orders/10)")
    local.add_argument("--demo-skus", type=int, default=20, help="with --demo: SKUs in the demo catalogue")
    local.add_argument("--buyers", type=int, default=16, help="with --demo: buyers ordering at once")
    local.add_argument("--webhook-delay", type=_webhook_delay, default="0-3", metavar="S|MIN-MAX",
                       help="with --demo: every simulator delivers its webhooks this late, fixed (1) or uniform "
                            "random in a range (0-3, the default, as marketplaces do); 0: at once")
    local.add_argument("--reorder", action="store_true",
                       help="with --demo: webhooks may overtake each other (each after its own random delay)")
    local.add_argument("--allocation", choices=("both", "guarded", "shared"), default="both",
                       help="with --demo: guarded (the sale declared ahead, each unit offered on one platform at "
                            "a time), shared (every platform shows the whole pool) or both (default: the same "
                            "sale of two SKUs, one after the other, printed side by side)")
    local.add_argument("--sale-seconds", type=float, default=30.0,
                       help="with --demo: the sale's orders arrive over this many seconds (both stories); flash: buyers who find a "
                            "listing sold out look again until it ends (0: every order at once)")
    local.add_argument("--schedule-interval", type=float, default=None,
                       help="run every schedule at this many seconds instead of its own rate (tests)")
    local.add_argument("--order-poll-interval", type=float, default=None, metavar="SECONDS",
                       help="run the order poller (pulled platforms: Taobao, JD, Pinduoduo...) every SECONDS "
                            "instead of its schedule's 30 s; this runtime only, the deployed schedule stays")
    local.add_argument("--health-timeout", type=float, default=60.0,
                       help="seconds to wait for GET /health before giving up")
    local.add_argument("--verbose", action="store_true",
                       help="print the functions' structured logs and metrics here too (always in "
                            ".stocklink/logs/functions.log)")
    alerts = sub.add_parser("alerts", help="alerts of a running StockLink")
    alerts_sub = alerts.add_subparsers(dest="what", required=True)
    tail = alerts_sub.add_parser("tail", help="print alerts as they are raised, repeated, acknowledged or cleared")
    tail.add_argument("--url", default=os.environ.get("STOCKLINK_URL", "http://127.0.0.1:8080"))
    tail.add_argument("--token", default=os.environ.get("STOCKLINK_DEV_TOKEN"),
                      help="bearer token (default $STOCKLINK_DEV_TOKEN)")
    tail.add_argument("--interval", type=float, default=2.0)
    tail.add_argument("--once", action="store_true", help="print the open alerts and exit")
    sandbox = sub.add_parser("sandbox", help="run the marketplace simulators alone (Shopify, TikTok Shop, "
                                              "Shopee, Lazada, WooCommerce) on one loopback port")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=int(os.environ.get("STOCKLINK_SANDBOX_PORT", "8765")),
                         help="default $STOCKLINK_SANDBOX_PORT or 8765; 0 picks a free port")
    imp = sub.add_parser("import", help="import data files")
    imp_sub = imp.add_subparsers(dest="what", required=True)
    from infra.local import import_cli
    import_cli.add_arguments(imp_sub.add_parser("sales", help="daily sales history (CSV or XLSX)"))
    from infra.local import api_cli
    catalog = imp_sub.add_parser("catalog", help="catalogue and opening stock (CSV or XLSX): a dry run, then "
                                                 "--apply; through the HTTP API")
    catalog.add_argument("file", help="CSV or XLSX, headers in English or Chinese (see the README's table)")
    api_cli.add_common(catalog)
    catalog.add_argument("--apply", action="store_true", help="apply the dry run (default: show it only)")
    catalog.add_argument("--accept-adjustments", default="", metavar="all|SKU@WH,...",
                         help="with --apply: the proposed adjustments to make ('all', or keys sku@warehouse)")
    export = sub.add_parser("export", help="the catalogue, stock or ledger to a file (CSV or XLSX)")
    export.add_argument("what", choices=("catalog", "stock", "ledger"))
    export.add_argument("file", help="FILE.csv or FILE.xlsx")
    export.add_argument("--lang", choices=("en", "zh"), default="en", help="catalogue headers' language")
    api_cli.add_common(export)
    disc = sub.add_parser("discover", help="discover a shop's listings and map them to SKUs (through the HTTP API)")
    disc.add_argument("platform")
    disc.add_argument("shop")
    disc.add_argument("--mapping", help="JSON file: listing id or seller SKU -> [{sku, qty}] (bundles, odd codes)")
    disc.add_argument("--apply", action="store_true", help="write the mapped listings (pending their first sync)")
    disc.add_argument("--choice", choices=("push", "opening"), help="with --apply: the first sync of every listing")
    disc.add_argument("--warehouse", help="with --choice opening: the warehouse the platform's numbers open")
    api_cli.add_common(disc)
    suppliers = sub.add_parser("suppliers", help="supplier records")
    suppliers_sub = suppliers.add_subparsers(dest="what", required=True)
    migrate = suppliers_sub.add_parser("migrate", help="turn every SKU's supplier settings that name a supplier "
                                                       "into supplier records now (the forecast run does it "
                                                       "page by page otherwise); safe to run again")
    migrate.add_argument("--endpoint", default=None,
                         help="DynamoDB endpoint URL (default $AWS_ENDPOINT_URL_DYNAMODB, else AWS)")
    return parser


def _webhook_delay(text: str) -> str:
    from infra.sandbox.delivery import parse_delay
    try:
        parse_delay(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _order_poll_interval(seconds: float | None) -> dict[str, float]:
    """{the order poller's schedule name: seconds} for LocalRuntime's schedule_intervals (none: its own rate)."""
    if seconds is None:
        return {}
    if seconds <= 0:
        raise SystemExit("--order-poll-interval must be above 0")
    from infra.topology import SCHEDULES
    return {s.name: seconds for s in SCHEDULES if s.function == "order_poll"}


def run_local(args) -> int:
    from infra.local import profiling
    from infra.local.runtime import LocalRuntime
    from infra.local.terminal import FunctionOutput
    from infra.local.workers import REPO_ROOT

    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    # Both Ctrl-C and SIGTERM end in the same orderly stop; a second Ctrl-C during start-up interrupts it.
    signal.signal(signal.SIGTERM, on_signal)
    if args.demo and not args.data_dir and not args.in_memory:
        # Demo data is throwaway: seeding it into .stocklink/data would add its stock again on every run.
        args.in_memory = True
        _say("demo: using an in-memory database (pass --data-dir to keep it)")
    output = FunctionOutput(sys.stderr, REPO_ROOT / ".stocklink" / "logs" / "functions.log", verbose=args.verbose)
    runtime = LocalRuntime(port=args.port, data_dir=args.data_dir, in_memory=args.in_memory,
                           schedule_interval=args.schedule_interval,
                           schedule_intervals=_order_poll_interval(args.order_poll_interval),
                           dev_token=os.environ.get("STOCKLINK_DEV_TOKEN") or None, relay=output)
    try:
        try:
            runtime.start()
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                print(f"port {args.port} is in use: pass --port or set STOCKLINK_PORT", file=sys.stderr)
                return 1
            raise
        except RuntimeError as exc:  # clear start-up errors (Java missing, data dir in use, ...)
            print(f"cannot start StockLink: {exc}", file=sys.stderr)
            return 1
        profiling.start()   # after start-up: the profile is of serving, not of provisioning
        healthy, detail = runtime.wait_healthy(args.health_timeout)
        if not healthy:
            logging.getLogger("stocklink.local").error(
                "GET /health did not answer 200 within %.0f s (last: %s); stopping", args.health_timeout, detail)
            return 1
        _say(f"StockLink ready at {runtime.url}")
        _say(f"Dev token: {runtime.dev_token}")
        _say(f"Console: {runtime.url}/console/ (sign in with the dev token)")
        if not args.verbose:
            _say(f"Functions' logs and metrics: {output.log_path} (--verbose prints them here)")
        _say(f'  try: curl -H "Authorization: Bearer {runtime.dev_token}" {runtime.url}/warehouses')
        if args.demo:
            code = _run_demo(args, runtime)
            if args.exit or code:
                return code
            _say("demo: still running; Ctrl-C to stop")
        signal.signal(signal.SIGINT, on_signal)
        # Wake up twice a second: a signal the kernel hands to another thread (there are many) only sets
        # a flag, and the main thread runs Python's handler when it next runs bytecode, never while it is
        # blocked in an untimed wait. That left the runtime running after SIGTERM in one CI run.
        while not stop.wait(0.5):
            pass
        _say("StockLink stopping")
        return 0
    except KeyboardInterrupt:
        return 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # finish the stop even if Ctrl-C is pressed again
        runtime.stop()
        output.close()
        profiling.write()


def _run_demo(args, runtime) -> int:
    """Simulators + demo data + the flash-sale story (infra/local/demo/); the simulators keep running
    in this process until StockLink stops."""
    from infra.local.demo.client import start_sandbox
    from infra.local.demo.report import result_line
    from infra.local.demo.run import run_demo

    server, base = start_sandbox(args.sandbox_port)
    runtime.sandbox_server = server   # stays up with the runtime; a daemon thread, gone with the process
    if args.story == "cn":
        return _run_cn_story(args, runtime, base)
    try:
        summary = run_demo(runtime.url, runtime.dev_token, base, flash_units=args.flash_units,
                           flash_orders_n=args.flash_orders, side_orders=args.side_orders,
                           n_skus=args.demo_skus, threads=args.buyers, webhook_delay=args.webhook_delay,
                           reorder=args.reorder, allocation=args.allocation, sale_s=args.sale_seconds, out=_say)
    except Exception as exc:  # noqa: BLE001 - report and stop rather than leave a half-seeded demo running
        logging.getLogger("stocklink.local").exception("demo failed: %s", exc)
        return 1
    _say(result_line(summary))
    _say('demo: another story: Taobao, JD, Pinduoduo and Douyin Shop, orders pushed, queued and pulled: '
         'make demo ARGS="--story cn"')
    return 0


def _run_cn_story(args, runtime, sandbox_base: str) -> int:
    """The Chinese-marketplace story (infra/local/demo/cn.py) against the simulators already started."""
    from infra.local.demo.cn import run_cn_story
    from infra.local.demo.report import result_line

    poll_s = runtime.scheduler.interval(runtime.scheduler.schedule(
        next(s.name for s in runtime.scheduler.schedules if s.function == "order_poll")))
    _say(f"demo: story cn; simulators at {sandbox_base}; the order poller runs every {poll_s:g} s "
         "(--order-poll-interval to change it here)")
    try:
        summary = run_cn_story(runtime.url, runtime.dev_token, sandbox_base, sale_s=args.sale_seconds,
                               poll_s=poll_s, out=_say)
    except Exception as exc:  # noqa: BLE001 - report and stop rather than leave a half-seeded demo running
        logging.getLogger("stocklink.local").exception("demo failed: %s", exc)
        return 1
    _say(result_line(summary))
    return 0


def alerts_tail(args, out=sys.stdout) -> int:
    """Polls GET /alerts on a running StockLink and prints each alert once per change."""
    import json
    import time
    import urllib.parse
    import urllib.request

    if not args.token:
        print("pass --token or set STOCKLINK_DEV_TOKEN", file=sys.stderr)
        return 2
    seen: dict[str, tuple] = {}
    while True:
        alerts, cursor = [], ""
        while True:   # every page of open alerts
            req = urllib.request.Request(f"{args.url}/alerts?status=open&limit=1000" + (
                f"&cursor={urllib.parse.quote(cursor)}" if cursor else ""),
                headers={"Authorization": f"Bearer {args.token}"})
            with urllib.request.urlopen(req, timeout=10) as resp:
                page = json.loads(resp.read())
            alerts += page["alerts"]
            if not (cursor := page.get("next")):
                break
        current = set()
        for a in sorted(alerts, key=lambda a: a.get("updated_at") or 0):
            current.add(a["id"])
            mark = (a["level"], a["status"], a.get("last_alert_id"))
            if seen.get(a["id"]) != mark:
                seen[a["id"]] = mark
                print(f"{a['level'].upper():6} {a['status']:5} {a.get('title') or a['id']} — {a.get('action') or ''}",
                      file=out, flush=True)
        for gone in set(seen) - current:
            print(f"CLEAR  {gone}", file=out, flush=True)
            seen.pop(gone)
        if args.once:
            return 0
        time.sleep(args.interval)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S",
                        stream=sys.stderr)
    for noisy in ("botocore", "boto3", "urllib3", "werkzeug"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if args.command == "local":
        return run_local(args)
    if args.command == "alerts" and args.what == "tail":
        try:
            return alerts_tail(args)
        except KeyboardInterrupt:
            return 130
    if args.command == "sandbox":
        from infra.sandbox.__main__ import main as sandbox_main
        sandbox_main(["--host", args.host, "--port", str(args.port)])
        return 0
    if args.command == "import" and args.what == "sales":
        from infra.local import import_cli
        return import_cli.run(args)
    if args.command == "import" and args.what == "catalog":
        from infra.local import api_cli
        return _api_errors(lambda: api_cli.import_catalog(args))
    if args.command == "export":
        from infra.local import api_cli
        return _api_errors(lambda: api_cli.export(args))
    if args.command == "discover":
        from infra.local import api_cli
        return _api_errors(lambda: api_cli.discover(args))
    if args.command == "suppliers" and args.what == "migrate":
        return migrate_suppliers(args)
    return 2


def _api_errors(run) -> int:
    """An API refusal or an unreachable API as one line and exit 1, not a traceback."""
    import urllib.error

    from infra.local.api_cli import ApiError
    try:
        return run()
    except ApiError as exc:
        print(f"refused ({exc.status}): {exc}", file=sys.stderr)
    except urllib.error.URLError as exc:
        print(f"cannot reach the API: {exc.reason} (is `make run` up? else pass --api URL)", file=sys.stderr)
    return 1


def migrate_suppliers(args) -> int:
    import json

    from infra.local import import_cli
    import_cli.configure_endpoint(args.endpoint)
    from stocklink.logic import suppliers
    from stocklink.time import now_ms
    print(json.dumps(suppliers.migrate_all(now_ms())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
