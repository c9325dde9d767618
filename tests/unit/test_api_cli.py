"""CLI file handling: parts under the body limit keep whole records and the file's line numbers; XLSX cells
become one CSV line per row; exports write XLSX a spreadsheet sums."""
from __future__ import annotations

import csv
import io

from infra.local import api_cli
from infra.local.cli import _parser


def test_parts_stay_under_the_limit_repeat_the_header_and_name_their_first_file_line():
    text = "sku,name,wh-a\n" + "".join(f"S{i:04d},\"name\n{i}\",{i}\n" for i in range(1000))
    parts = api_cli.split_parts(text, limit=2_000)
    assert len(parts) > 5 and all(len(p.encode()) <= 2_000 for p, _ in parts)
    rows, line = [], 2
    for part, first in parts:
        assert part.startswith("sku,name,wh-a\n") and first == line
        records = list(csv.reader(io.StringIO(part, newline="")))[1:]
        rows += records
        line += 2 * len(records)                    # every record spans two physical lines here
    assert [r[0] for r in rows] == [f"S{i:04d}" for i in range(1000)]


def test_sales_parts_keep_a_skus_rows_together():
    text = "sku,date,qty\n" + "".join(f"A,2025-01-{d:02d},1\n" for d in range(1, 29)) + "B,2025-01-01,1\n"
    parts = api_cli.split_parts(text, limit=100, group_by_first_column=True)
    assert [p.count("\nA,") for p, _ in parts] == [28, 0] and parts[1][0].endswith("B,2025-01-01,1\n")


def test_xlsx_is_read_as_csv_rows_and_written_back_with_numbers(tmp_path):
    path = tmp_path / "catalog.xlsx"
    api_cli.write_rows(str(path), [["sku", "name", "barcode", "wh-a"], ["A-1", "two\nlines", "0690", "12"]])
    import openpyxl
    sheet = openpyxl.load_workbook(path).worksheets[0]
    assert [c.value for c in sheet[2]] == ["A-1", "two\nlines", "0690", 12]     # leading-zero codes stay text
    assert api_cli.file_as_csv(str(path)) == "sku,name,barcode,wh-a\nA-1,two lines,0690,12\n"


def test_cli_parses_import_catalog_and_export():
    args = _parser().parse_args(["import", "catalog", "c.xlsx", "--api", "https://x", "--token", "t", "--apply",
                                 "--accept-adjustments", "all"])
    assert (args.what, args.file, args.api, args.apply, args.accept_adjustments) == (
        "catalog", "c.xlsx", "https://x", True, "all")
    args = _parser().parse_args(["export", "ledger", "l.xlsx"])
    assert (args.command, args.what, args.file) == ("export", "ledger", "l.xlsx") and args.api.startswith("http")
