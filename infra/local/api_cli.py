"""`stocklink import catalog|sales` and `stocklink export catalog|stock|ledger`: files in and out through the
HTTP API only, with a token: the local runtime's by default (http://127.0.0.1:$STOCKLINK_PORT, token
$STOCKLINK_DEV_TOKEN), a deployed stack's with --api URL --token T. Never a database endpoint.

XLSX is read and written here (openpyxl, a dev dependency: it is not in the Lambda layer); the API takes and
gives CSV. A file larger than the API's body limit (1 MiB) is sent in parts, each with the header row and the
file line its first row has, so errors name the file's own lines.
"""
from __future__ import annotations

import csv
import io
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import TextIO

from infra.local.import_cli import MAX_PRINTED_ERRORS, ProgressBar

PART_BYTES = 900_000              # under the API's 1 MiB body limit, with room for multi-byte text


def add_common(p) -> None:
    p.add_argument("--api", default=os.environ.get("STOCKLINK_URL")
                   or f"http://127.0.0.1:{os.environ.get('STOCKLINK_PORT', '8080')}",
                   help="StockLink API URL (default $STOCKLINK_URL, else the local runtime's)")
    p.add_argument("--token", default=os.environ.get("STOCKLINK_TOKEN") or os.environ.get("STOCKLINK_DEV_TOKEN"),
                   help="API token (default $STOCKLINK_TOKEN, else $STOCKLINK_DEV_TOKEN, the local runtime's)")


class ApiError(Exception):
    def __init__(self, status: int, body: dict):
        super().__init__(body.get("message") or str(body))
        self.status, self.body = status, body


class Api:
    def __init__(self, base: str, token: str | None, timeout: float = 60.0):
        self.base, self.token, self.timeout = base.rstrip("/"), token, timeout
        self.requests = 0

    def call(self, method: str, path: str, *, query: dict | None = None, body: bytes | None = None,
             content_type: str = "application/json") -> tuple[int, bytes, dict]:
        url = self.base + path + ("?" + urllib.parse.urlencode(query) if query else "")
        request = urllib.request.Request(url, data=body, method=method, headers={"Content-Type": content_type})
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        self.requests += 1
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                answer = json.loads(raw)
            except ValueError:
                answer = {"message": raw.decode(errors="replace")[:300]}
            raise ApiError(exc.code, answer) from None

    def json(self, method: str, path: str, **kw) -> dict:
        return json.loads(self.call(method, path, **kw)[1])


# --- reading files into CSV parts -----------------------------------------------------------------------------

def file_as_csv(path: str) -> str:
    """The file as CSV text: a CSV as it is (UTF-8 or GB18030), an XLSX's first sheet converted (a cell's line
    breaks become spaces, so each row stays one line and line numbers are the sheet's row numbers)."""
    if path.lower().endswith((".xlsx", ".xlsm")):
        import openpyxl

        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            out = io.StringIO()
            writer = csv.writer(out, lineterminator="\n")
            for row in workbook.worksheets[0].iter_rows(values_only=True):
                writer.writerow(["" if v is None else _cell(v) for v in row])
            return out.getvalue()
        finally:
            workbook.close()
    raw = open(path, "rb").read()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("gb18030")


def _cell(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if hasattr(value, "date") and hasattr(value, "hour"):      # a datetime cell: its day
        value = value.date()
    return str(value).replace("\r", " ").replace("\n", " ")


def split_parts(text: str, limit: int = PART_BYTES, group_by_first_column: bool = False) -> list[tuple[str, int]]:
    """(CSV text with the header, file line of its first data row) parts of at most ~`limit` bytes. Rows are
    whole records (quoted line breaks included); with `group_by_first_column`, consecutive rows of one key
    (a SKU's sales) stay in one part."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        return [(text, 2)]
    header_text = _line(header)
    parts: list[tuple[str, int]] = []
    rows: list[str] = []
    size, first, line, last_key = len(header_text.encode()), 2, reader.line_num + 1, None
    for record in reader:
        text_row = _line(record)
        key = record[0] if record else None
        if rows and size + len(text_row.encode()) > limit and not (group_by_first_column and key == last_key):
            parts.append((header_text + "".join(rows), first))
            rows, size, first = [], len(header_text.encode()), line
        rows.append(text_row)
        size += len(text_row.encode())
        last_key = key
        line = reader.line_num + 1
    parts.append((header_text + "".join(rows), first))
    return parts


def _line(cells: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(cells)
    return out.getvalue()


# --- import catalog -------------------------------------------------------------------------------------------

def import_catalog(args, api: Api | None = None, stderr: TextIO = sys.stderr, stdout: TextIO = sys.stdout,
                   poll_s: float = 0.5) -> int:
    api = api or Api(args.api, args.token)
    if not os.path.isfile(args.file):
        print(f"{args.file}: no such file", file=stderr)
        return 2
    parts = split_parts(file_as_csv(args.file))
    bar = ProgressBar(stderr, "uploading")
    job: dict = {}
    try:
        for number, (text, first_line) in enumerate(parts, start=1):
            query = {"parts": len(parts), "part": number, "first_line": first_line}
            if job.get("import_id"):
                query["import_id"] = job["import_id"]
            job = api.json("POST", "/imports/catalog", query=query, body=text.encode(), content_type="text/csv")
            bar(number, len(parts))
    except ApiError as exc:
        bar.close()
        print(f"refused ({exc.status}): {exc}", file=stderr)
        return 1
    finally:
        bar.close()
    print(_summary(job), file=stdout)
    if job["status"] == "invalid":
        for error in job.get("errors", [])[:MAX_PRINTED_ERRORS]:
            print(f"{args.file}:{error['line']}: {error['message']}", file=stderr)
        more = job["error_count"] - min(len(job.get("errors", [])), MAX_PRINTED_ERRORS)
        if more > 0:
            print(f"... and {more} more", file=stderr)
        print(f"{job['error_count']} error(s); nothing was imported", file=stderr)
        return 1
    for adjustment in job.get("preview", {}).get("proposed_adjustments", [])[:MAX_PRINTED_ERRORS]:
        print(f"  proposed adjustment {adjustment['key']}: on hand {adjustment['on_hand']} -> counted "
              f"{adjustment['counted']} ({adjustment['delta']:+d})", file=stdout)
    if not args.apply:
        print(f"dry run {job['import_id']}: nothing written (--apply to apply it)", file=stdout)
        return 0
    accept = "all" if args.accept_adjustments == "all" else [k for k in (args.accept_adjustments or "").split(",") if k]
    job = api.json("POST", f"/imports/{job['import_id']}/apply",
                   body=json.dumps({"accept_adjustments": accept}).encode())
    bar = ProgressBar(stderr, "applying")
    try:
        while job["status"] == "applying":
            bar(job["progress"]["chunks_done"], job["progress"]["chunks"] or 1)
            time.sleep(poll_s)
            job = api.json("GET", f"/imports/{job['import_id']}")
        bar(1, 1)
    finally:
        bar.close()
    for refused in job.get("refused", []):
        print(f"  adjustment {refused['key']} not made: {refused['reason']}", file=stderr)
    print(f"applied {job['import_id']}: {job['summary']['new_skus']} new and {job['summary']['updated_skus']} "
          f"updated SKUs, {job['summary']['opening_lines']} opening balances", file=stdout)
    return 0


def _summary(job: dict) -> str:
    s = job.get("summary") or {}
    if job["status"] == "invalid":
        return f"import {job['import_id']}: {job.get('rows', 0)} rows, {job['error_count']} bad"
    units = ", ".join(f"{w} {q}" for w, q in sorted((s.get("opening_units") or {}).items())) or "none"
    return (f"import {job['import_id']}: {job.get('rows', 0)} rows; {s.get('new_skus', 0)} new SKUs, "
            f"{s.get('updated_skus', 0)} updated, {s.get('unchanged_skus', 0)} unchanged; opening units: {units}; "
            f"{s.get('proposed_adjustments', 0)} proposed adjustment(s)")


# --- import sales -------------------------------------------------------------------------------------------

def import_sales(args, api: Api | None = None, stderr: TextIO = sys.stderr, stdout: TextIO = sys.stdout) -> int:
    """Validated here in full first (all or nothing, every error with its line), then sent in parts that keep
    each SKU's rows together (the API replaces a (sku, day)'s counter with the part's sum)."""
    from stocklink.forecasting.importer import read_file

    if not os.path.isfile(args.file):
        print(f"{args.file}: no such file", file=stderr)
        return 2
    bar = ProgressBar(stderr, "reading")
    try:
        result = read_file(args.file, progress=bar)
    finally:
        bar.close()
    if not result.ok:
        for err in result.errors[:MAX_PRINTED_ERRORS]:
            print(f"{args.file}:{err.line}: {err.message}", file=stderr)
        more = result.error_count - min(len(result.errors), MAX_PRINTED_ERRORS)
        if more > 0:
            print(f"... and {more} more", file=stderr)
        print(f"{result.error_count} error(s); nothing was imported", file=stderr)
        return 1
    skus = len({r.sku for r in result.rows})
    if args.dry_run:
        print(f"{len(result.rows)} rows for {skus} SKUs are valid (dry run: nothing written)", file=stdout)
        return 0
    rows = sorted(result.rows, key=lambda r: r.sku)
    text = _line(["sku", "date", "qty", "channel", "warehouse"]) + "".join(
        _line([r.sku, r.date.isoformat(), repr(r.qty), r.channel or "", r.warehouse or ""]) for r in rows)
    api = api or Api(args.api, args.token)
    parts = split_parts(text, group_by_first_column=True)
    counters = 0
    bar = ProgressBar(stderr, "writing")
    try:
        for number, (part, _) in enumerate(parts, start=1):
            counters += api.json("POST", "/imports/sales", body=part.encode(), content_type="text/csv")["counters"]
            bar(number, len(parts))
    except ApiError as exc:
        bar.close()
        print(f"refused ({exc.status}): {exc}", file=stderr)
        return 1
    finally:
        bar.close()
    print(f"imported {len(result.rows)} rows for {skus} SKUs ({counters} daily counters)", file=stdout)
    return 0


# --- export -------------------------------------------------------------------------------------------------

def export(args, api: Api | None = None, stdout: TextIO = sys.stdout) -> int:
    api = api or Api(args.api, args.token)
    if args.what == "catalog":
        rows = []
        cursor = None
        while True:
            query = {"limit": 1000, "lang": args.lang, **({"cursor": cursor} if cursor else {})}
            _, body, headers = api.call("GET", "/exports/catalog", query=query)
            page = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))
            rows += page if not rows else page[1:]
            cursor = headers.get("X-Next-Cursor") or headers.get("x-next-cursor")
            if not cursor:
                break
    elif args.what == "stock":
        _, body, _ = api.call("GET", "/exports/stock")
        rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    else:
        rows = _ledger_rows(api)
    write_rows(args.file, rows)
    print(f"wrote {len(rows) - 1} rows to {args.file}", file=stdout)
    return 0


def _ledger_rows(api: Api) -> list[list]:
    """Every SKU's ledger entries (GET /skus pages, then GET /ledger pages per SKU)."""
    columns = ["sku", "warehouse", "movement", "qty", "on_hand_delta", "reserved_delta", "available_delta",
               "in_transit_delta", "reason", "actor", "source", "created_at"]
    rows: list[list] = [columns]
    for sku in _paged(api, "/skus", "skus", {}):
        for entry in _paged(api, "/ledger", "entries", {"sku": sku["sku"]}):
            rows.append([entry.get("sku"), entry.get("warehouse_id")] + [entry.get(c) for c in columns[2:]])
    return rows


def _paged(api: Api, path: str, key: str, query: dict):
    cursor = None
    while True:
        page = api.json("GET", path, query={**query, "limit": 1000, **({"cursor": cursor} if cursor else {})})
        yield from page[key]
        if not (cursor := page.get("next")):
            return


def write_rows(path: str, rows: list[list]) -> None:
    if path.lower().endswith(".xlsx"):
        import openpyxl

        workbook = openpyxl.Workbook(write_only=True)
        sheet = workbook.create_sheet()
        for row in rows:
            sheet.append([_number(v) for v in row])
        workbook.save(path)
        return
    with open(path, "w", encoding="utf-8-sig", newline="") as out:
        csv.writer(out, lineterminator="\n").writerows(rows)


def _number(value):
    """A CSV cell back to a number where it is one, so a spreadsheet sums it (SKUs and barcodes stay text)."""
    if isinstance(value, str) and value and value.lstrip("-").replace(".", "", 1).isdigit() and not value.startswith("0"):
        return float(value) if "." in value else int(value)
    return value


# --- discover listings ----------------------------------------------------------------------------------------

def discover(args, api: Api | None = None, stdout: TextIO = sys.stdout, stderr: TextIO = sys.stderr,
             poll_s: float = 0.5) -> int:
    """POST .../listings/discover, wait for the report and print it; --apply writes the mapped listings (pending
    their first sync) and prints the differences; --choice then settles the first sync of every pending one."""
    api = api or Api(args.api, args.token)
    base = f"/shops/{args.platform}/{args.shop}/listings/discover"
    mapping = {}
    if args.mapping:
        with open(args.mapping, encoding="utf-8") as handle:
            mapping = json.load(handle)
    job = api.json("POST", base, body=json.dumps({"mapping": mapping} if mapping else {}).encode())
    job = _wait(api, f"{base}/{job['discovery_id']}", job, ("discovering",), poll_s)
    if job["status"] == "failed":
        print(f"discovery {job['discovery_id']} failed: {job.get('error')}", file=stderr)
        return 1
    s = job.get("summary") or {}
    print(f"discovery {job['discovery_id']}: {s.get('listings', 0)} listings in {job['progress']['calls']} calls; "
          f"{s.get('mapped', 0)} mapped, {s.get('unmapped', 0)} unmapped, {s.get('conflicts', 0)} conflicts, "
          f"{s.get('already_mapped', 0)} already mapped", file=stdout)
    for entry in job.get("unmapped", [])[:MAX_PRINTED_ERRORS]:
        hint = f" (maybe {', '.join(entry['suggestions'])})" if entry.get("suggestions") else ""
        print(f"  unmapped {entry['listing_id']} {entry.get('seller_sku') or '-'}: {entry.get('title')}{hint}",
              file=stdout)
    for conflict in job.get("conflicts", [])[:MAX_PRINTED_ERRORS]:
        print(f"  conflict {conflict['kind']}: listings {', '.join(l['listing_id'] for l in conflict['listings'])} "
              f"/ SKUs {', '.join(conflict['skus'])}", file=stdout)
    if not args.apply:
        print("nothing written (--apply to write the mapped listings)", file=stdout)
        return 0
    job = api.json("POST", f"{base}/{job['discovery_id']}/apply", body=b"{}")
    job = _wait(api, f"{base}/{job['discovery_id']}", job, ("ready", "applying"), poll_s)
    for row in job.get("first_sync", [])[:MAX_PRINTED_ERRORS]:
        print(f"  {row['listing_id']}: platform {row['platform_qty']}, StockLink {row['stocklink_qty']}", file=stdout)
    if not args.choice:
        print(f"{len(job.get('first_sync', []))} listing(s) wait for their first-sync choice (--choice push|opening)",
              file=stdout)
        return 0
    body = {"choice": args.choice, **({"warehouse_id": args.warehouse} if args.warehouse else {})}
    job = api.json("POST", f"{base}/{job['discovery_id']}/first-sync", body=json.dumps(body).encode())
    job = _wait(api, f"{base}/{job['discovery_id']}", job, ("settling",), poll_s)
    print(f"first sync: {args.choice} for {sum(r['status'] != 'pending' for r in job.get('first_sync', []))} "
          f"listing(s); discovery {job['status']}", file=stdout)
    return 0


def _wait(api: Api, path: str, job: dict, busy: tuple[str, ...], poll_s: float) -> dict:
    while job["status"] in busy:
        time.sleep(poll_s)
        job = api.json("GET", path)
    return job
