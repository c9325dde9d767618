"""The catalogue sheet: its columns in English or Chinese, and each row read into a SKU and its opening stock.

Pure: text in, rows and line-numbered problems out (no I/O, no clock). One sheet, two shapes of stock:
- wide: one column per warehouse (its header is the warehouse's id or its name), the count in each cell;
- long: `warehouse` and `qty` columns, one row per SKU x warehouse (a SKU's other fields may repeat on each
  of its rows, or be given once and left blank on the others; they may not disagree).
A blank cell leaves that field as it is in the catalogue (never clears it). Line numbers are those a person
sees in the file: the header is line 1 (a part sent alone says where its first data row was: `first_line`).

HEADERS below is the mapping the README documents; matching ignores case, spaces, `_`, `-` and brackets'
contents such as units ("售价(元)").
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from dataclasses import dataclass, field

# field -> accepted headers (English first: what the English template and the export write; then Chinese,
# the first of which the Chinese template writes)
HEADERS: dict[str, tuple[str, ...]] = {
    "sku": ("sku", "sku code", "seller sku", "item code", "商品编码", "sku编码", "货号", "商家编码", "编码"),
    "name": ("name", "product name", "title", "商品名称", "名称", "品名", "商品名"),
    "barcode": ("barcode", "ean", "upc", "gtin", "条码", "条形码", "商品条码"),
    "category": ("category", "类目", "分类", "商品分类", "品类"),
    "price": ("price", "sale price", "retail price", "售价", "销售价", "零售价", "价格"),
    "unit_cost": ("unit cost", "cost", "unit_cost", "cost price", "成本价", "成本", "进价", "采购价"),
    "supplier": ("supplier", "vendor", "供应商", "供货商"),
    "components": ("components", "bundle", "bundle components", "组合", "套装", "组合明细", "套装明细", "组件"),
    "launch_date": ("launch date", "launch_date", "launched", "listed since", "上市日期", "上架日期", "首发日期"),
    "warehouse": ("warehouse", "warehouse id", "仓库", "仓库编码", "仓库名称"),
    "qty": ("qty", "quantity", "stock", "on hand", "opening stock", "数量", "库存", "期初库存", "库存数量"),
}
# columns an export writes that an import reads past (counters the import does not set)
IGNORED = ("reserved", "available", "in transit", "in_transit", "预留", "可用", "在途")
SKU_FIELDS = ("name", "barcode", "category", "price", "unit_cost", "supplier", "components", "launch_date")
MAX_ERRORS = 1000
MAX_QTY = 1_000_000
MAX_COMPONENTS = 20
_LIMITS = {"name": 300, "barcode": 64, "category": 100, "supplier": 200}
_SKU = re.compile(r"^[A-Za-z0-9._:@/+\-]{1,128}$")
_BARCODE = re.compile(r"^[A-Za-z0-9\-]{1,64}$")
_COMPONENT = re.compile(r"^\s*([A-Za-z0-9._:@/+\-]{1,128})\s*(?:[*xX×]\s*(\d+))?\s*$")
_UNIT = re.compile(r"[(（\[【].*?[)）\]】]")


def normalise(header: str) -> str:
    text = _UNIT.sub("", str(header or "")).strip().casefold()
    return re.sub(r"[\s_\-]+", "", text)


_ALIASES = {normalise(alias): name for name, aliases in HEADERS.items() for alias in aliases}
_IGNORED = {normalise(name) for name in IGNORED}


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def as_dict(self) -> dict:
        return {"line": self.line, "message": self.message}


@dataclass
class SheetSku:
    """What the sheet says of one SKU: only the fields it gives (a blank cell is absent)."""
    sku: str
    line: int                                    # where it first appears
    fields: dict = field(default_factory=dict)   # name, barcode, category, price, unit_cost, supplier, components
    stock: dict = field(default_factory=dict)    # warehouse id -> counted units


@dataclass
class Sheet:
    skus: dict[str, SheetSku] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    rows: int = 0

    def error(self, line: int, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(RowError(line, message))


@dataclass(frozen=True)
class Columns:
    fields: dict[str, int]           # field -> column index
    warehouses: dict[str, int]       # warehouse id -> column index (wide stock)


def map_header(cells: list[str], warehouses: dict[str, str]) -> tuple[Columns | None, list[str]]:
    """Columns of a header row, or None and the problems. `warehouses`: id -> name of the known warehouses;
    a header that is no field must name one of them (its id or its name, case-insensitive)."""
    by_name: dict[str, str] = {}
    for wid, name in warehouses.items():
        by_name.setdefault(normalise(name), wid)
    by_id = {normalise(wid): wid for wid in warehouses}
    fields: dict[str, int] = {}
    stock: dict[str, int] = {}
    problems: list[str] = []
    for index, cell in enumerate(cells):
        text = str(cell or "").strip()
        if not text:
            continue
        key = normalise(text)
        if key in _IGNORED:
            continue
        name = _ALIASES.get(key)
        wid = by_id.get(key) or by_name.get(key)
        if name is not None and name not in fields:
            fields[name] = index
        elif wid is not None and wid not in stock:
            stock[wid] = index
        elif name is not None or wid is not None:
            problems.append(f"column {text!r} appears twice")
        else:
            problems.append(f"column {text!r} is neither a known field nor a warehouse id or name")
    if "sku" not in fields:
        problems.append("no SKU column (sku / 商品编码)")
    if ("warehouse" in fields) != ("qty" in fields):
        problems.append("stock as rows needs both a warehouse (仓库) and a qty (数量) column")
    if "warehouse" in fields and stock:
        problems.append("stock is given both as rows (warehouse, qty) and as warehouse columns: use one")
    if problems:
        return None, problems
    return Columns(fields, stock), []


def parse_money(text: str) -> float:
    cleaned = re.sub(r"^[¥￥$€£]|元$", "", text.strip()).replace(",", "").strip()
    try:
        value = float(cleaned)
    except ValueError:
        raise ValueError(f"{text!r} is not an amount") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{text!r} is not an amount of 0 or more")
    return round(value, 4)


def parse_launch_date(text: str) -> str:
    """A launch date as ISO `YYYY-MM-DD`: also `YYYY/MM/DD`, `YYYY.MM.DD` and a spreadsheet date cell read as
    `YYYY-MM-DD 00:00:00`. The forecast starts a SKU's demand history there (not at its first sale)."""
    cleaned = text.strip().split(" ")[0].split("T")[0].replace("/", "-").replace(".", "-")
    try:
        return dt.date.fromisoformat("-".join(part.zfill(2) for part in cleaned.split("-"))).isoformat()
    except ValueError:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def parse_qty(text: str) -> int:
    cleaned = text.strip().replace(",", "")
    try:
        value = float(cleaned)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value != int(value):
        raise ValueError(f"{text!r} is not a whole number of units")
    if not 0 <= value <= MAX_QTY:
        raise ValueError(f"{text!r} is outside 0-{MAX_QTY:,}")
    return int(value)


def parse_components(text: str) -> list[dict]:
    """"A*2; B" (also x, ×, and , ， ； | as separators) -> [{sku: A, qty: 2}, {sku: B, qty: 1}]."""
    parts = [p for p in re.split(r"[;,，；|]", text) if p.strip()]
    if len(parts) > MAX_COMPONENTS:
        raise ValueError(f"more than {MAX_COMPONENTS} components")
    found: dict[str, int] = {}
    for part in parts:
        match = _COMPONENT.match(part)
        if not match:
            raise ValueError(f"component {part.strip()!r} is not SKU or SKU*qty")
        qty = int(match.group(2) or 1)
        if not 0 < qty <= MAX_QTY:
            raise ValueError(f"component {part.strip()!r}: qty must be 1-{MAX_QTY:,}")
        found[match.group(1)] = found.get(match.group(1), 0) + qty
    return [{"sku": sku, "qty": qty} for sku, qty in found.items()]


def format_components(components: list[dict] | None) -> str:
    return "; ".join(f"{c['sku']}*{c['qty']}" for c in components or [])


def _field_value(name: str, text: str):
    if name in ("price", "unit_cost"):
        return parse_money(text)
    if name == "components":
        return parse_components(text)
    if name == "launch_date":
        return parse_launch_date(text)
    if len(text) > _LIMITS[name]:
        raise ValueError(f"longer than {_LIMITS[name]} characters")
    if name == "barcode" and not _BARCODE.match(text):
        raise ValueError(f"{text!r} is not a barcode (letters, digits, -)")
    return text


def read_rows(sheet: Sheet, columns: Columns, rows, *, warehouse_ids: dict[str, str]) -> None:
    """Add (line, cells) rows to `sheet`. `warehouse_ids`: normalised id or name -> warehouse id (long stock)."""
    for line, cells in rows:
        if all(not str(c or "").strip() for c in cells):
            continue                                     # a blank line is not data
        sheet.rows += 1

        def cell(index: int | None) -> str:
            return str(cells[index]).strip() if index is not None and index < len(cells) and cells[index] is not None \
                else ""

        problems: list[str] = []
        sku = cell(columns.fields["sku"])
        if not sku:
            problems.append("sku is empty")
        elif not _SKU.match(sku):
            problems.append(f"sku {sku!r}: 1-128 of A-Z a-z 0-9 . _ : @ / + -")
        given: dict = {}
        for name in SKU_FIELDS:
            text = cell(columns.fields.get(name))
            if text:
                try:
                    given[name] = _field_value(name, text)
                except ValueError as exc:
                    problems.append(f"{name}: {exc}")
        counts: dict[str, int] = {}
        for wid, index in columns.warehouses.items():
            text = cell(index)
            if text:
                try:
                    counts[wid] = parse_qty(text)
                except ValueError as exc:
                    problems.append(f"{wid}: {exc}")
        if "warehouse" in columns.fields:
            where, qty = cell(columns.fields["warehouse"]), cell(columns.fields["qty"])
            if where or qty:
                wid = warehouse_ids.get(normalise(where))
                if not where:
                    problems.append("qty given without a warehouse")
                elif wid is None:
                    problems.append(f"warehouse {where!r} is unknown (create it first, or use its id)")
                if not qty:
                    problems.append("warehouse given without a qty")
                else:
                    try:
                        number = parse_qty(qty)
                        if wid is not None:
                            counts[wid] = number
                    except ValueError as exc:
                        problems.append(f"qty: {exc}")
        if problems:
            sheet.error(line, "; ".join(problems))
            continue
        merge_row(sheet, line, sku, given, counts)


def merge_row(sheet: Sheet, line: int, sku: str, given: dict, counts: dict[str, int]) -> None:
    """Add one row's SKU to `sheet`: a SKU seen before takes the fields it lacked; a field or a count that
    differs from what an earlier row gave is an error on this row."""
    seen = sheet.skus.get(sku)
    if seen is None:
        sheet.skus[sku] = SheetSku(sku, line, given, counts)
        return
    clashes = [name for name, value in given.items() if name in seen.fields and seen.fields[name] != value]
    twice = [wid for wid in counts if wid in seen.stock]
    if clashes or twice:
        parts = [f"{name} differs from line {seen.line}" for name in clashes]
        parts += [f"stock for {wid} given twice (line {seen.line} too)" for wid in twice]
        sheet.error(line, f"sku {sku}: " + "; ".join(parts))
        return
    seen.fields.update(given)
    seen.stock.update(counts)


def read_csv_text(text: str, warehouses: dict[str, str], *, first_line: int = 2, sheet: Sheet | None = None) -> Sheet:
    """A CSV (header row first) into `sheet` (a new one unless given: parts of one file add to one sheet).
    `first_line`: the file's line number of the first row after this text's header."""
    sheet = sheet if sheet is not None else Sheet()
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        sheet.error(1, "file is empty")
        return sheet
    except csv.Error as exc:
        sheet.error(1, f"malformed CSV: {exc}")
        return sheet
    if header and header[0].startswith("\ufeff"):
        header[0] = header[0][1:]
    columns, problems = map_header(header, warehouses)
    if columns is None:
        for problem in problems:
            sheet.error(1, f"header: {problem}")
        return sheet
    ids = {normalise(wid): wid for wid in warehouses}
    for wid, name in warehouses.items():
        ids.setdefault(normalise(name), wid)
    offset = first_line - 2        # the text's own line 2 is the file's line first_line

    def numbered():
        start = reader.line_num + 1
        try:
            for cells in reader:
                yield start + offset, cells
                start = reader.line_num + 1
        except csv.Error as exc:
            sheet.error(start + offset, f"malformed CSV: {exc}")
    read_rows(sheet, columns, numbered(), warehouse_ids=ids)
    return sheet


def header_line(lang: str, warehouses: list[str]) -> list[str]:
    """The template's / export's header: every field, then one column per warehouse (wide stock)."""
    index = 0 if lang == "en" else None
    names = []
    for name in ("sku", *SKU_FIELDS):
        aliases = HEADERS[name]
        names.append(aliases[0] if index == 0 else next(a for a in aliases if not a.isascii()))
    return names + list(warehouses)


def to_csv(rows: list[list]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows(rows)
    return out.getvalue()


def template(lang: str, warehouses: list[str]) -> str:
    """A CSV to fill in: the header and one example row."""
    example = ["TEE-RED-M", "Red tee M" if lang == "en" else "红色T恤 M", "6901234567892", "tees", "19.9", "6.5",
               "Acme", "", "", *(["0"] * len(warehouses))]
    return "\ufeff" + to_csv([header_line(lang, warehouses), example])


def sku_row(doc: dict, warehouses: list[str], stock: dict[str, int]) -> list:
    """One export row in the header_line order: a SKU's fields and its on-hand units per warehouse."""
    values = [doc.get("sku"), doc.get("name")]
    for name in SKU_FIELDS[1:]:
        value = doc.get(name)
        values.append(format_components(value) if name == "components" else value)
    values += [stock.get(wid, "") for wid in warehouses]
    return ["" if v is None else v for v in values]
