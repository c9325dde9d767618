"""Sales history import from CSV or XLSX: all rows or all errors, never half.

Columns (header row, any order, case-insensitive): sku, date, qty, and optionally channel, warehouse.
Dates are YYYY-MM-DD (or real date cells in XLSX); qty is a finite number ≥ 0 (whole units, or
decimals for weight-sold goods). Errors carry the line number as a person sees it in the file (the
header is line 1; for CSV the physical line, so quoted multi-line fields do not shift later numbers).
`progress(done, total)` is called every `every` rows and at the end: bytes for CSV, rows for XLSX.

openpyxl is imported only when an XLSX is read (it is not in the Lambda layer).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import math
import os
import re
from dataclasses import dataclass, field

REQUIRED = ("sku", "date", "qty")
OPTIONAL = ("channel", "warehouse")
MAX_ERRORS = 1000
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class SalesRow:
    sku: str
    date: dt.date
    qty: float
    channel: str | None = None
    warehouse: str | None = None


@dataclass(frozen=True)
class RowError:
    line: int
    message: str


@dataclass
class ImportResult:
    rows: list = field(default_factory=list)      # empty whenever errors is not
    errors: list = field(default_factory=list)    # first MAX_ERRORS problems
    error_count: int = 0

    @property
    def ok(self) -> bool:
        return self.error_count == 0


def _parse_date(v) -> dt.date:
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    s = str(v).strip()
    if len(s) > 10 and s[10] in " T":  # a timestamp: the day is what counts
        s = s[:10]
    try:
        if not _DATE.fullmatch(s):
            raise ValueError
        return dt.date.fromisoformat(s)
    except ValueError:
        raise ValueError(f"date {str(v).strip()!r} is not a valid YYYY-MM-DD date") from None


def _parse_qty(v) -> float:
    if isinstance(v, bool):
        raise ValueError(f"qty {v!r} is not a number")
    if isinstance(v, (int, float)):
        q = float(v)
    else:
        s = str(v).strip().replace(",", "")
        try:
            q = float(s)
        except ValueError:
            raise ValueError(f"qty {str(v).strip()!r} is not a number") from None
    if not math.isfinite(q):
        raise ValueError(f"qty {v!r} is not finite")
    if q < 0:
        raise ValueError(f"qty {v!r} is negative (returns are not sales)")
    return q


class _Collector:
    def __init__(self):
        self.result = ImportResult()

    def header(self, cells, line: int):
        names = [str(c).strip().lower() if c is not None else "" for c in cells]
        missing = [c for c in REQUIRED if c not in names]
        if missing:
            self.error(line, f"header is missing column(s): {', '.join(missing)} (found: {', '.join(n for n in names if n)})")
            return None
        return {c: names.index(c) for c in REQUIRED + OPTIONAL if c in names}

    def error(self, line: int, msg: str):
        self.result.error_count += 1
        if len(self.result.errors) < MAX_ERRORS:
            self.result.errors.append(RowError(line, msg))

    def row(self, cols, cells, line: int):
        def get(c):
            i = cols.get(c)
            return cells[i] if i is not None and i < len(cells) else None
        if all(c is None or str(c).strip() == "" for c in cells):
            return  # blank lines are not data
        problems = []
        sku = get("sku")
        sku = "" if sku is None else str(sku).strip()
        if not sku:
            problems.append("sku is empty")
        try:
            d = _parse_date(get("date")) if get("date") not in (None, "") else None
            if d is None:
                problems.append("date is empty")
        except ValueError as e:
            problems.append(str(e))
            d = None
        try:
            q = _parse_qty(get("qty")) if get("qty") not in (None, "") else None
            if q is None:
                problems.append("qty is empty")
        except ValueError as e:
            problems.append(str(e))
            q = None
        if problems:
            self.error(line, "; ".join(problems))
            return
        if self.result.error_count == 0:  # once anything is wrong, rows are not kept (all or nothing)
            ch, wh = get("channel"), get("warehouse")
            self.result.rows.append(SalesRow(sku, d, q, str(ch).strip() if ch not in (None, "") else None,
                                             str(wh).strip() if wh not in (None, "") else None))

    def finish(self) -> ImportResult:
        if self.result.error_count:
            self.result.rows = []
        return self.result


def read_csv(source, progress=None, every: int = 5000, encoding: str = "utf-8-sig") -> ImportResult:
    """Parse a CSV path, bytes, or text stream."""
    if isinstance(source, (bytes, bytearray)):
        total = len(source)
        raw = io.BytesIO(source)
    elif isinstance(source, (str, os.PathLike)):
        total = os.path.getsize(source)
        raw = open(source, "rb")
    else:
        total, raw = None, None
    text = io.TextIOWrapper(raw, encoding=encoding, newline="") if raw is not None else source
    col = _Collector()
    try:
        reader = csv.reader(text)
        start = 1
        try:
            first = next(reader)
        except StopIteration:
            col.error(1, "file is empty")
            return col.finish()
        cols = col.header(first, 1)
        if cols is None:
            return col.finish()
        start = reader.line_num + 1
        n = 0
        for cells in reader:
            col.row(cols, cells, start)
            start = reader.line_num + 1
            n += 1
            if progress and n % every == 0:
                progress(raw.tell() if raw is not None else n, total)
        if col.result.rows == [] and col.result.error_count == 0:
            col.error(start, "no data rows")
    except UnicodeDecodeError as e:
        col.error(start, f"not {encoding} text: {e.reason}")
    except csv.Error as e:
        col.error(start, f"malformed CSV: {e}")
    finally:
        if isinstance(source, (str, os.PathLike)):
            raw.close()
    if progress:
        progress(total if total is not None else n, total)
    return col.finish()


def read_xlsx(source, progress=None, every: int = 5000, sheet: str | None = None) -> ImportResult:
    """Parse the first (or named) sheet of an XLSX path or bytes."""
    import openpyxl  # lazy: only the CLI / import path needs it

    if isinstance(source, (bytes, bytearray)):
        source = io.BytesIO(source)
    col = _Collector()
    try:
        wb = openpyxl.load_workbook(source, read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises several unrelated types for a bad file
        col.error(1, f"not a readable XLSX file: {e}")
        return col.finish()
    try:
        ws = wb[sheet] if sheet else wb.worksheets[0]
        total = ws.max_row
        rows = ws.iter_rows(values_only=True)
        first = next(rows, None)
        if first is None:
            col.error(1, "sheet is empty")
            return col.finish()
        cols = col.header(first, 1)
        if cols is None:
            return col.finish()
        line = 1
        for line, cells in enumerate(rows, start=2):
            col.row(cols, list(cells), line)
            if progress and (line - 1) % every == 0:
                progress(line, total)
        if col.result.rows == [] and col.result.error_count == 0:
            col.error(line + 1, "no data rows")
        if progress:
            progress(total or line, total)
    finally:
        wb.close()
    return col.finish()


def read_file(path, progress=None) -> ImportResult:
    """By extension: .xlsx → read_xlsx, anything else → read_csv."""
    p = str(path).lower()
    return read_xlsx(path, progress) if p.endswith((".xlsx", ".xlsm")) else read_csv(path, progress)
