"""Catalogue import through the API: dry run, apply in chunks through the bus, progress, idempotence, bad
sheets writing nothing, proposed adjustments, exports that import back unchanged, sales history uploads."""
from __future__ import annotations

import pytest

from functions.imports_api.handler import handler as imports_handler
from functions.imports_run.handler import handler as run_handler
from stocklink import events
from stocklink.store.models import LedgerEntry, StockItem
from tests.integration.apigw import ApiClient, LambdaContext
from tests.integration.conftest import STAFF_TOKEN, VIEWER_TOKEN

WAREHOUSES = ("wh-a", "wh-b", "wh-c")


@pytest.fixture
def api(staff):
    for n, wid in enumerate(WAREHOUSES):
        staff.put(f"/warehouses/{wid}", {"name": f"Warehouse {wid[-1].upper()}", "priority": n})
    return ApiClient(imports_handler, STAFF_TOKEN)


class ShortContext(LambdaContext):
    """A Lambda that has time for `chunks` chunks, then runs low (the apply must continue on the bus)."""

    def __init__(self, chunks: int):
        super().__init__()
        self.left = chunks

    def get_remaining_time_in_millis(self) -> int:
        self.left -= 1
        return 60_000 if self.left >= 0 else 1_000


def drive(aws, chunks_per_run: int = 40) -> list[dict]:
    """Deliver import.requested events to imports_run until none is left; GET progress seen between runs."""
    runs = []
    while True:
        pending = [e for e in aws.drain() if e["detail-type"] == events.IMPORT_REQUESTED]
        if not pending:
            return runs
        for event in pending:
            runs.append(run_handler(event, ShortContext(chunks_per_run)))


def sheet(n: int, qty=lambda i, w: (i + w) % 7 + 1, name="SKU") -> str:
    rows = ["sku,name,barcode,category,price,unit cost,supplier," + ",".join(WAREHOUSES)]
    rows += [f"S{i:05d},{name} {i},69{i:011d},cat{i % 5},{10 + i % 9}.5,{3 + i % 4},Acme,"
             + ",".join(str(qty(i, w)) for w in range(3)) for i in range(n)]
    return "\n".join(rows) + "\n"


def ledger_count() -> int:
    return sum(1 for _ in LedgerEntry.scan())


def api_stock(aws, sku: str) -> dict:
    return {item.warehouse_id: int(item.on_hand) for item in StockItem.query(sku)}


def test_apply_continues_itself_with_rising_progress_and_twice_changes_nothing(aws, api):
    """Small enough for moto (whose transactions cost seconds each); the 2,000 x 3 sheet runs on DynamoDB Local
    (tests/concurrency/test_catalog_import_scale.py)."""
    job = api.post("/imports/catalog", raw=sheet(120).encode()).body
    assert job["status"] == "ready" and job["progress"]["chunks"] == 8
    assert ledger_count() == 0 and not list(StockItem.scan())          # a dry run writes nothing
    assert api.post(f"/imports/{job['import_id']}/apply", {}).status == 202
    seen = []
    while pending := [e for e in aws.drain() if e["detail-type"] == events.IMPORT_REQUESTED]:
        for event in pending:
            run_handler(event, ShortContext(3))
        seen.append(api.get(f"/imports/{job['import_id']}").body["progress"]["chunks_done"])
    assert seen == [3, 6, 8]
    assert api.get(f"/imports/{job['import_id']}").body["status"] == "applied"
    assert ledger_count() == 360 and {e.reason for e in LedgerEntry.scan()} == {"opening"}
    assert api_stock(aws, "S00011") == {w: (11 + n) % 7 + 1 for n, w in enumerate(WAREHOUSES)}
    assert api.post(f"/imports/{job['import_id']}/apply", {}).body["status"] == "applied"
    run_handler({"detail": {"import_id": job["import_id"]}}, ShortContext(1000))
    assert ledger_count() == 360


def test_a_sheet_with_bad_rows_writes_nothing_and_cannot_be_applied(aws, api):
    text = sheet(30) + "BAD SKU,x,,,,,,1,1,1\nS99999,ok,,,abc,,,1,1,-3\n"
    dry = api.post("/imports/catalog", raw=text.encode())
    assert dry.status == 201 and dry.body["status"] == "invalid" and dry.body["error_count"] == 2
    assert [e["line"] for e in dry.body["errors"]] == [32, 33]
    assert "price: 'abc' is not an amount" in dry.body["errors"][1]["message"]
    refused = api.post(f"/imports/{dry.body['import_id']}/apply", {"accept_adjustments": "all"})
    assert refused.status == 400 and "bad row" in refused.body["message"]
    assert all(e["detail-type"] != events.IMPORT_REQUESTED for e in aws.drain())
    assert ledger_count() == 0 and not list(StockItem.scan())
    assert ApiClient(imports_handler, STAFF_TOKEN).get("/exports/catalog").body["csv"].count("\n") == 1


def test_parts_make_one_dry_run_with_file_line_numbers(aws, api):
    lines = sheet(100).splitlines()
    header, rows = lines[0], lines[1:]
    rows[70] = rows[70].rsplit(",", 1)[0] + ",x"      # file line 72: a count that is no number
    first = api.post("/imports/catalog", raw=("\n".join([header, *rows[:50]]) + "\n").encode(),
                     query={"parts": "2", "part": "1"})
    assert first.status == 202 and first.body["status"] == "receiving" and first.body["parts_received"] == 1
    import_id = first.body["import_id"]
    assert api.post(f"/imports/{import_id}/apply", {}).status == 409
    last = api.post("/imports/catalog", raw=("\n".join([header, *rows[50:]]) + "\n").encode(),
                    query={"parts": "2", "part": "2", "import_id": import_id, "first_line": "52"})
    assert last.status == 201 and last.body["status"] == "invalid"
    assert [e["line"] for e in last.body["errors"]] == [72]       # the file's line, not the part's


def test_changed_counts_are_proposed_adjustments_applied_only_when_accepted(aws, api):
    first = api.post("/imports/catalog", raw=sheet(3).encode()).body
    api.post(f"/imports/{first['import_id']}/apply", {})
    drive(aws)
    later = sheet(3, qty=lambda i, w: 20 if (i, w) in ((0, 0), (1, 1)) else (i + w) % 7 + 1, name="Renamed")
    dry = api.post("/imports/catalog", raw=later.encode()).body
    assert dry["summary"]["updated_skus"] == 3 and dry["summary"]["opening_lines"] == 0
    assert dry["preview"]["updated_skus"][0]["changes"] == {"name": {"from": "SKU 0", "to": "Renamed 0"}}
    proposed = {a["key"]: a["delta"] for a in dry["preview"]["proposed_adjustments"]}
    assert proposed == {"S00000@wh-a": 19, "S00001@wh-b": 17}
    assert api.post(f"/imports/{dry['import_id']}/apply", {"accept_adjustments": ["nope@wh-a"]}).status == 400
    assert api.post(f"/imports/{dry['import_id']}/apply", {"accept_adjustments": ["S00001@wh-b"]}).status == 202
    drive(aws)
    assert api_stock(aws, "S00000")["wh-a"] == 1          # not accepted: left as it was
    assert api_stock(aws, "S00001")["wh-b"] == 20
    adjust = [e for e in LedgerEntry.scan() if e.movement == "adjust"]
    assert [(e.sku, e.qty, e.reason) for e in adjust] == [("S00001", 17, "opening")]


def test_export_imports_back_unchanged_in_both_languages(aws, api):
    job = api.post("/imports/catalog", raw=sheet(40).encode()).body
    api.post(f"/imports/{job['import_id']}/apply", {})
    drive(aws)
    for lang in ("en", "zh"):
        exported = api.get("/exports/catalog", query={"lang": lang, "limit": "1000"}).body["csv"]
        assert exported.count("\n") == 41
        back = api.post("/imports/catalog", raw=exported.encode()).body
        assert back["status"] == "ready", back["errors"]
        assert back["summary"]["unchanged_skus"] == 40 and back["summary"]["proposed_adjustments"] == 0
        assert back["summary"]["new_skus"] == 0 and back["summary"]["opening_lines"] == 0
    stock = api.get("/exports/stock").body["csv"]
    back = api.post("/imports/catalog", raw=stock.encode()).body
    assert back["status"] == "ready" and back["summary"]["proposed_adjustments"] == 0
    viewer = ApiClient(imports_handler, VIEWER_TOKEN)
    assert viewer.get("/imports/template", query={"lang": "zh"}).body["csv"].startswith("\ufeff商品编码,商品名称")
    assert viewer.post("/imports/catalog", raw=b"sku\n").status == 403


def test_sales_history_upload_is_all_or_nothing(aws, api):
    bad = api.post("/imports/sales", raw=b"sku,date,qty\nA,2025-01-01,1\nA,2025-13-01,2\n")
    assert bad.status == 400 and bad.body["problems"] == [
        {"line": 3, "message": "date '2025-13-01' is not a valid YYYY-MM-DD date"}]
    good = api.post("/imports/sales", raw=b"sku,date,qty,channel\nA,2025-01-01,1,web\nA,2025-01-01,2,web\n")
    assert good.status == 200 and good.body == {"rows": 2, "skus": 1, "counters": 2}
    from stocklink.logic.sales_history import daily_series
    import datetime as dt
    assert daily_series("A", dt.date(2025, 1, 1), dt.date(2025, 1, 1)) == [3.0]
