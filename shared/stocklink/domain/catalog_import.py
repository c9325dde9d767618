"""The dry run of a catalogue import: what a sheet would change, against what the catalogue and stock hold now.

Pure (no I/O). For each SKU of the sheet: new (created with the sheet's fields; it needs a name), updated
(the fields the sheet gives that differ) or unchanged. For each SKU x warehouse count:
- no stock item yet: an **opening** balance (a receipt of the counted units, ledger reason `opening`);
- a stock item already there: the difference counted - on hand as a **proposed adjustment**, applied only if
  the apply request accepts it (never a silent overwrite). Applying it later adds the same difference: the
  count corrects the book by that much, whatever sold in between.
Cross-row problems (a component that names no SKU, a bundle given stock, a new SKU without a name) are
reported on the line of the SKU they concern, like the row problems; a sheet with any is never applied.

The plan is cut into chunks that each fit one stock transaction (its marker, and a counter update plus a
ledger entry per stock line) and a bounded number of SKU writes; the apply books them one at a time.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from stocklink.domain.catalog_sheet import RowError, Sheet

OPENING = "opening"
# one transaction: the chunk's marker + 2 items (counter update, ledger entry) per stock line
CHUNK_STOCK_LINES = 49
CHUNK_SKUS = 25                     # a BatchWriteItem takes 25 items: a chunk's SKUs in one request
PREVIEW_ITEMS = 100                 # new / updated SKUs shown in the preview (the counts are always whole)
MAX_LISTED_ADJUSTMENTS = 2000       # proposed adjustments listed one by one (beyond: accepted with "all")


@dataclass(frozen=True)
class Adjustment:
    sku: str
    warehouse_id: str
    on_hand: int
    counted: int

    @property
    def delta(self) -> int:
        return self.counted - self.on_hand

    @property
    def key(self) -> str:
        return f"{self.sku}@{self.warehouse_id}"

    def as_dict(self) -> dict:
        return {"key": self.key, "sku": self.sku, "warehouse_id": self.warehouse_id, "on_hand": self.on_hand,
                "counted": self.counted, "delta": self.delta}


@dataclass
class Chunk:
    skus: list[dict] = field(default_factory=list)          # full SKU documents to write
    openings: list[dict] = field(default_factory=list)      # {sku, warehouse_id, qty}
    adjustments: list[dict] = field(default_factory=list)   # Adjustment.as_dict()

    @property
    def stock_lines(self) -> int:
        return len(self.openings) + len(self.adjustments)

    def as_dict(self) -> dict:
        return {"skus": self.skus, "openings": self.openings, "adjustments": self.adjustments}


@dataclass
class Plan:
    new: list[str] = field(default_factory=list)
    updated: list[dict] = field(default_factory=list)         # {sku, changes: {field: {from, to}}}
    unchanged: int = 0
    openings: list[dict] = field(default_factory=list)
    adjustments: list[Adjustment] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    chunks: list[Chunk] = field(default_factory=list)

    def summary(self) -> dict:
        per_warehouse: dict[str, int] = {}
        for line in self.openings:
            per_warehouse[line["warehouse_id"]] = per_warehouse.get(line["warehouse_id"], 0) + line["qty"]
        return {"new_skus": len(self.new), "updated_skus": len(self.updated), "unchanged_skus": self.unchanged,
                "opening_lines": len(self.openings), "opening_units": per_warehouse,
                "proposed_adjustments": len(self.adjustments), "chunks": len(self.chunks)}

    def preview(self) -> dict:
        return {"new_skus": self.new[:PREVIEW_ITEMS], "updated_skus": self.updated[:PREVIEW_ITEMS],
                "openings": self.openings[:PREVIEW_ITEMS],
                "proposed_adjustments": [a.as_dict() for a in self.adjustments[:MAX_LISTED_ADJUSTMENTS]]}


def plan_import(sheet: Sheet, existing: dict[str, dict], on_hand: dict[tuple[str, str], int]) -> Plan:
    """`existing`: the catalogue's documents of the sheet's SKUs (and of the SKUs its bundles name) that
    exist; `on_hand`: on-hand units of each (sku, warehouse) of the sheet that has a stock item."""
    plan = Plan(errors=list(sheet.errors))
    docs: dict[str, dict] = {}
    for sku, row in sheet.skus.items():
        before = existing.get(sku)
        problems = []
        if before is None and "name" not in row.fields:
            problems.append("a new SKU needs a name")
        components = row.fields.get("components") or []
        for component in components:
            if component["sku"] == sku:
                problems.append("a bundle cannot contain itself")
            elif component["sku"] not in sheet.skus and component["sku"] not in existing:
                problems.append(f"component {component['sku']} is no SKU (in the sheet or the catalogue)")
        if components and row.stock:
            problems.append("a bundle has no stock of its own (its components do): leave its stock empty")
        if problems:
            plan.errors.append(RowError(row.line, f"sku {sku}: " + "; ".join(problems)))
            continue
        if before is None:
            plan.new.append(sku)
            docs[sku] = {"sku": sku, **row.fields}
        else:
            changes = {name: {"from": before.get(name), "to": value} for name, value in row.fields.items()
                       if before.get(name) != value}
            if changes:
                plan.updated.append({"sku": sku, "changes": changes})
                docs[sku] = {**before, **row.fields, "sku": sku}
            else:
                plan.unchanged += 1
        for wid, counted in row.stock.items():
            if (sku, wid) in on_hand:
                if counted != on_hand[(sku, wid)]:
                    plan.adjustments.append(Adjustment(sku, wid, on_hand[(sku, wid)], counted))
            elif counted > 0:
                plan.openings.append({"sku": sku, "warehouse_id": wid, "qty": counted})
    plan.errors.sort(key=lambda e: e.line)
    if not plan.errors:
        plan.chunks = chunk_plan(docs, plan.openings, plan.adjustments)
    return plan


def chunk_plan(docs: dict[str, dict], openings: list[dict], adjustments: list[Adjustment]) -> list[Chunk]:
    """SKU documents in order with their stock lines, cut where a chunk would pass either bound. A SKU's
    stock lines follow its document in the same chunk (a SKU has at most as many as there are warehouses)."""
    lines_of: dict[str, list[tuple[str, dict]]] = {}
    for line in openings:
        lines_of.setdefault(line["sku"], []).append(("opening", line))
    for adjustment in adjustments:
        lines_of.setdefault(adjustment.sku, []).append(("adjustment", adjustment.as_dict()))
    order = list(dict.fromkeys([*docs, *lines_of]))
    chunks: list[Chunk] = []
    current = Chunk()
    for sku in order:
        lines = lines_of.get(sku, [])
        pieces = [lines[i:i + CHUNK_STOCK_LINES] for i in range(0, len(lines), CHUNK_STOCK_LINES)] or [[]]
        for number, piece in enumerate(pieces):
            has_doc = number == 0 and sku in docs
            if (current.stock_lines + len(piece) > CHUNK_STOCK_LINES
                    or len(current.skus) + has_doc > CHUNK_SKUS):
                chunks.append(current)
                current = Chunk()
            if has_doc:
                current.skus.append(docs[sku])
            for kind, line in piece:
                (current.openings if kind == "opening" else current.adjustments).append(line)
    if current.skus or current.stock_lines:
        chunks.append(current)
    return chunks


def accepted(chunk_adjustments: list[dict], accept: str | list[str]) -> list[dict]:
    """The chunk's adjustments the apply request accepted: `"all"` or a list of keys (sku@warehouse)."""
    if accept == "all":
        return list(chunk_adjustments)
    wanted = set(accept)
    return [a for a in chunk_adjustments if a["key"] in wanted]
