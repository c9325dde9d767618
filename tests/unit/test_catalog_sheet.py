"""Catalogue sheet: headers in English and Chinese, row validation with line numbers, the dry-run diff."""
from __future__ import annotations

from stocklink.domain import catalog_import as ci
from stocklink.domain import catalog_sheet as cs

WAREHOUSES = {"wh-a": "Shenzhen A", "wh-b": "Dongguan B"}


def test_english_headers_map_to_fields_and_warehouse_columns():
    sheet = cs.read_csv_text("SKU,Product Name,Barcode,Category,Price,Unit Cost,Supplier,wh-a,Dongguan B\n"
                             "TEE-1,Red tee,6901234567892,tees,19.9,6.5,Acme,12,0\n", WAREHOUSES)
    assert sheet.error_count == 0
    row = sheet.skus["TEE-1"]
    assert row.fields == {"name": "Red tee", "barcode": "6901234567892", "category": "tees", "price": 19.9,
                          "unit_cost": 6.5, "supplier": "Acme"}
    assert row.stock == {"wh-a": 12, "wh-b": 0}


def test_chinese_headers_with_units_and_currency_and_stock_as_rows():
    text = ("商品编码,商品名称,条码,分类,售价(元),成本价,供应商,组合,仓库,数量\n"
            "A,红色T恤,123,上衣,¥19.90,\"1,200\",甲,,Shenzhen A,5\n"
            "A,,,,,,,,wh-b,7\n"
            "SET,套装,,,,,,A*2；B,,\n"
            "B,蓝色,,,,,,,,\n")
    sheet = cs.read_csv_text(text, WAREHOUSES)
    assert sheet.errors == []
    assert sheet.skus["A"].fields == {"name": "红色T恤", "barcode": "123", "category": "上衣", "price": 19.9,
                                      "unit_cost": 1200.0, "supplier": "甲"}
    assert sheet.skus["A"].stock == {"wh-a": 5, "wh-b": 7}
    assert sheet.skus["SET"].fields["components"] == [{"sku": "A", "qty": 2}, {"sku": "B", "qty": 1}]


def test_header_problems_are_reported_on_line_one():
    sheet = cs.read_csv_text("名称,Colour,仓库\nx,red,wh-a\n", WAREHOUSES)
    messages = [e.message for e in sheet.errors]
    assert all(e.line == 1 for e in sheet.errors)
    assert any("'Colour' is neither a known field nor a warehouse" in m for m in messages)
    assert any("no SKU column" in m for m in messages)
    assert any("needs both a warehouse" in m for m in messages)
    assert sheet.skus == {}


def test_bad_rows_carry_their_line_numbers_and_reasons():
    text = ("sku,name,price,wh-a\n"
            "OK-1,fine,1,3\n"
            ",no sku,1,1\n"
            "BAD SKU,x,1,1\n"
            "P,\"multi\nline\",-2,1.5\n"
            "Q,q,abc,x\n"
            "OK-1,other name,1,\n")
    sheet = cs.read_csv_text(text, WAREHOUSES, first_line=2)
    got = {e.line: e.message for e in sheet.errors}
    assert got[3] == "sku is empty"
    assert "sku 'BAD SKU'" in got[4]
    assert "price: '-2' is not an amount of 0 or more" in got[5] and "wh-a: '1.5' is not a whole number" in got[5]
    assert 7 in got and "'abc' is not an amount" in got[7] and "'x' is not a number" in got[7]   # after the 2-line row
    assert got[8] == "sku OK-1: name differs from line 2"
    assert sheet.error_count == 5


def test_a_part_numbers_its_lines_from_first_line():
    sheet = cs.read_csv_text("sku,name,wh-a\nA,a,1\nB,b,-1\n", WAREHOUSES, first_line=5001)
    assert [(e.line, e.message) for e in sheet.errors] == [(5002, "wh-a: '-1' is outside 0-1,000,000")]


def test_components_parsing():
    assert cs.parse_components("A x2, B ×3 | C") == [{"sku": "A", "qty": 2}, {"sku": "B", "qty": 3},
                                                     {"sku": "C", "qty": 1}]
    for bad in ("A*0", "A B", "A*x"):
        try:
            cs.parse_components(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} was accepted")


def _sheet(text: str) -> cs.Sheet:
    sheet = cs.read_csv_text(text, WAREHOUSES)
    assert sheet.errors == []
    return sheet


def test_dry_run_new_updated_unchanged_openings_and_proposed_adjustments():
    sheet = _sheet("sku,name,price,wh-a,wh-b\n"
                   "NEW,new one,5,10,0\n"
                   "OLD,old name,7,4,\n"
                   "SAME,same,1,3,2\n")
    existing = {"OLD": {"sku": "OLD", "name": "old name", "price": 6.0, "category": "x"},
                "SAME": {"sku": "SAME", "name": "same", "price": 1.0}}
    on_hand = {("OLD", "wh-a"): 9, ("SAME", "wh-a"): 3}
    plan = ci.plan_import(sheet, existing, on_hand)
    assert plan.errors == []
    assert plan.new == ["NEW"]
    assert plan.updated == [{"sku": "OLD", "changes": {"price": {"from": 6.0, "to": 7.0}}}]
    assert plan.unchanged == 1
    # a count of 0 where there is no stock item makes no opening line; SAME/wh-b has no item: an opening
    assert plan.openings == [{"sku": "NEW", "warehouse_id": "wh-a", "qty": 10},
                             {"sku": "SAME", "warehouse_id": "wh-b", "qty": 2}]
    assert [a.as_dict() for a in plan.adjustments] == [
        {"key": "OLD@wh-a", "sku": "OLD", "warehouse_id": "wh-a", "on_hand": 9, "counted": 4, "delta": -5}]
    summary = plan.summary()
    assert summary["opening_units"] == {"wh-a": 10, "wh-b": 2} and summary["proposed_adjustments"] == 1
    # the updated SKU's document keeps the fields the sheet does not name
    (chunk,) = plan.chunks
    assert {"sku": "OLD", "name": "old name", "price": 7.0, "category": "x"} in chunk.skus
    assert [d["sku"] for d in chunk.skus] == ["NEW", "OLD"]


def test_dry_run_cross_row_problems():
    sheet = _sheet("sku,name,components,wh-a\n"
                   "NONAME,,,\n"
                   "SET,set,A*1;GHOST*2,\n"
                   "SET2,set2,A,4\n"
                   "A,a,,1\n")
    plan = ci.plan_import(sheet, {}, {})
    assert [(e.line, e.message) for e in plan.errors] == [
        (2, "sku NONAME: a new SKU needs a name"),
        (3, "sku SET: component GHOST is no SKU (in the sheet or the catalogue)"),
        (4, "sku SET2: a bundle has no stock of its own (its components do): leave its stock empty")]
    assert plan.chunks == []


def test_chunks_fit_one_transaction_and_one_batch_write():
    header = "sku,name," + ",".join(f"w{i}" for i in range(3)) + "\n"
    rows = "".join(f"S{i:05d},n{i},1,2,3\n" for i in range(2000))
    sheet = cs.read_csv_text(header + rows, {f"w{i}": f"W {i}" for i in range(3)})
    plan = ci.plan_import(sheet, {}, {})
    assert len(plan.openings) == 6000
    assert all(c.stock_lines <= ci.CHUNK_STOCK_LINES and len(c.skus) <= ci.CHUNK_SKUS for c in plan.chunks)
    assert 1 + 2 * ci.CHUNK_STOCK_LINES <= 100
    assert sum(len(c.openings) for c in plan.chunks) == 6000
    assert sum(len(c.skus) for c in plan.chunks) == 2000
    # every SKU's lines sit in the chunk that writes its document
    for chunk in plan.chunks:
        assert {line["sku"] for line in chunk.openings} <= {d["sku"] for d in chunk.skus}


def test_accepted_adjustments():
    adjustments = [{"key": "A@w"}, {"key": "B@w"}]
    assert ci.accepted(adjustments, "all") == adjustments
    assert ci.accepted(adjustments, ["B@w", "C@w"]) == [{"key": "B@w"}]


def test_template_and_export_rows_read_back_as_the_same_fields():
    for lang in ("en", "zh"):
        sheet = _sheet(cs.template(lang, ["wh-a", "wh-b"]).lstrip("\ufeff"))
        assert list(sheet.skus) == ["TEE-RED-M"]
    header = cs.header_line("zh", ["wh-a"])
    assert header[:3] == ["商品编码", "商品名称", "条码"]
    doc = {"sku": "SET", "name": "Set", "components": [{"sku": "A", "qty": 2}], "price": 3.5}
    text = cs.to_csv([cs.header_line("en", ["wh-a"]), cs.sku_row(doc, ["wh-a"], {}),
                      cs.sku_row({"sku": "A", "name": "a"}, ["wh-a"], {"wh-a": 4})])
    sheet = _sheet(text)
    assert sheet.skus["SET"].fields == {"name": "Set", "components": [{"sku": "A", "qty": 2}], "price": 3.5}
    assert sheet.skus["A"].stock == {"wh-a": 4}


def test_launch_dates_in_english_or_chinese_headers_and_common_spellings():
    sheet = cs.read_csv_text("sku,name,上市日期,wh-a\n"
                             "A,a,2026/3/1,1\nB,b,2026-11-20 00:00:00,1\nC,c,2026.02.30,1\nD,d,,1\n", WAREHOUSES)
    assert sheet.skus["A"].fields["launch_date"] == "2026-03-01"
    assert sheet.skus["B"].fields["launch_date"] == "2026-11-20"     # a spreadsheet date cell
    assert "launch_date" not in sheet.skus["D"].fields
    assert [(e.line, e.message) for e in sheet.errors] == [(4, "launch_date: '2026.02.30' is not a date (YYYY-MM-DD)")]
    assert cs.header_line("en", [])[-1] == "launch date" and cs.header_line("zh", [])[-1] == "上市日期"
