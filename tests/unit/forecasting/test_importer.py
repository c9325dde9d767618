import datetime as dt

import openpyxl
import pytest

from stocklink.forecasting import importer as I


def test_csv_all_rows():
    r = I.read_csv(b"SKU,Date,Qty,channel,warehouse\nA,2024-01-01,3,shopify,SZ\nB,2024-01-02,2.5,,\n")
    assert r.ok
    assert r.rows == [I.SalesRow("A", dt.date(2024, 1, 1), 3.0, "shopify", "SZ"),
                      I.SalesRow("B", dt.date(2024, 1, 2), 2.5, None, None)]


def test_csv_bad_rows_reported_with_line_numbers_and_nothing_returned():
    data = (b"sku,date,qty\n"
            b"A,2024-01-01,3\n"          # line 2 fine
            b"B,2024-13-01,x\n"          # line 3: bad date and qty
            b"\n"                        # line 4 blank: ignored
            b",2024-01-02,1\n"           # line 5: no sku
            b"C,2024-01-03,-2\n")        # line 6: negative
    r = I.read_csv(data)
    assert r.rows == []
    assert [e.line for e in r.errors] == [3, 5, 6]
    assert "2024-13-01" in r.errors[0].message and "'x' is not a number" in r.errors[0].message
    assert r.errors[1].message == "sku is empty"
    assert "negative" in r.errors[2].message
    assert r.error_count == 3


def test_quoted_multiline_field_keeps_later_line_numbers():
    r = I.read_csv(b'sku,date,qty\n"A\nB",2024-01-01,1\nC,bad,1\n')
    assert [e.line for e in r.errors] == [4]


def test_missing_header_column():
    r = I.read_csv(b"sku,day,qty\nA,2024-01-01,1\n")
    assert r.errors[0].line == 1 and "date" in r.errors[0].message
    assert r.rows == []


def test_csv_path_and_progress(tmp_path):
    p = tmp_path / "s.csv"
    p.write_text("sku,date,qty\n" + "".join(f"S{i},2024-01-01,{i}\n" for i in range(25)))
    calls = []
    r = I.read_file(p, progress=lambda done, total: calls.append((done, total)))
    assert len(r.rows) == 25
    assert calls[-1] == (p.stat().st_size, p.stat().st_size)


def _xlsx(path, rows):
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    wb.save(path)


def test_xlsx_good(tmp_path):
    p = tmp_path / "s.xlsx"
    _xlsx(p, [["sku", "date", "qty", "channel"], ["A", dt.datetime(2024, 1, 1), 3, "tiktok"],
              ["B", "2024-01-02", 1.0, None]])
    seen = []
    r = I.read_file(p, progress=lambda d, t: seen.append((d, t)))
    assert r.rows == [I.SalesRow("A", dt.date(2024, 1, 1), 3.0, "tiktok"), I.SalesRow("B", dt.date(2024, 1, 2), 1.0)]
    assert seen[-1] == (3, 3)


def test_xlsx_bad_rows(tmp_path):
    p = tmp_path / "s.xlsx"
    _xlsx(p, [["qty", "sku", "date"], [1, "A", "2024-01-01"], ["many", "B", "2024-01-02"],
              [2, "C", "01/02/2024"]])
    r = I.read_xlsx(p)
    assert r.rows == []
    assert [(e.line, e.message) for e in r.errors] == [
        (3, "qty 'many' is not a number"), (4, "date '01/02/2024' is not a valid YYYY-MM-DD date")]


def test_not_an_xlsx(tmp_path):
    p = tmp_path / "x.xlsx"
    p.write_bytes(b"not a zip")
    r = I.read_file(p)
    assert not r.ok and r.errors[0].line == 1


@pytest.mark.parametrize("data", [b"", b"sku,date,qty\n"])
def test_empty_inputs_are_errors(data):
    assert not I.read_csv(data).ok
