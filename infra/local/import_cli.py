"""`stocklink import sales FILE.csv|.xlsx`: sales history into the daily sales counters.

Columns: sku, date, qty and optionally channel, warehouse (see stocklink.forecasting.importer). The whole
file is validated first: any bad row → every problem printed with its line number, exit 1, nothing
written. Otherwise the rows are summed per (sku, day) (and per warehouse / channel) and batch-written;
the file's values replace the counters of the days it names, so importing it again changes nothing.

It talks only to the HTTP API (POST /imports/sales, in parts under the body limit, each SKU's rows in one
part): the local runtime's by default, a deployed stack's with --api URL --token T (infra/local/api_cli.py).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from typing import TextIO

MAX_PRINTED_ERRORS = 50


class ProgressBar:
    """A one-line bar on a terminal stream, redrawn with \\r; throttled so large files stay fast."""

    def __init__(self, stream: TextIO, label: str, width: int = 30, min_interval: float = 0.1):
        self.stream, self.label, self.width, self.min_interval = stream, label, width, min_interval
        self._last = -1.0
        self._drawn = False

    def __call__(self, done: int, total: int | None) -> None:
        now = time.monotonic()
        final = total is not None and done >= total
        if not final and now - self._last < self.min_interval:
            return
        self._last = now
        if total:
            frac = min(done / total, 1.0)
            filled = int(frac * self.width)
            text = f"\r{self.label} [{'#' * filled}{'.' * (self.width - filled)}] {frac * 100:5.1f}%"
        else:
            text = f"\r{self.label} {done}"
        self.stream.write(text)
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False


def parser(prog: str = "stocklink import sales") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description="import daily sales history (CSV or XLSX)")
    add_arguments(p)
    return p


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", help="CSV or XLSX with columns sku, date, qty[, channel, warehouse]")
    from infra.local import api_cli
    api_cli.add_common(p)
    p.add_argument("--dry-run", action="store_true", help="validate only, write nothing")


def configure_endpoint(endpoint: str | None) -> None:
    """Before the store models are imported: pynamodb/botocore read these at client creation."""
    if endpoint:
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint
    if os.environ.get("AWS_ENDPOINT_URL_DYNAMODB"):
        for key, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                           ("AWS_DEFAULT_REGION", "us-east-1")):
            os.environ.setdefault(key, value)


def run(args, *, stderr: TextIO | None = None, stdout: TextIO | None = None, api=None) -> int:
    """Validate the whole file, then send it through the HTTP API (api_cli.import_sales); `api` for tests."""
    from infra.local import api_cli
    return api_cli.import_sales(args, api=api, stderr=stderr or sys.stderr, stdout=stdout or sys.stdout)


def main(argv: list[str] | None = None) -> int:
    return run(parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
