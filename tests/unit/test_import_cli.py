"""`stocklink import sales`: progress on stderr, line-numbered errors, nothing written on a bad file."""
from __future__ import annotations

import io
from types import SimpleNamespace

from infra.local import import_cli
from infra.local.cli import _parser


def _args(path, dry_run=False):
    return SimpleNamespace(file=str(path), api="http://127.0.0.1:9", token=None, dry_run=dry_run)


class Recorder:
    """The HTTP API as api_cli.Api speaks to it: records each CSV part POSTed to /imports/sales."""

    def __init__(self):
        self.calls = []

    def json(self, method, path, *, body=None, content_type=None, **kw):
        assert (method, path, content_type) == ("POST", "/imports/sales", "text/csv")
        rows = body.decode().splitlines()[1:]
        self.calls.append(rows)
        return {"counters": len(rows)}


def test_bad_rows_print_line_numbers_and_nothing_is_written(tmp_path):
    f = tmp_path / "sales.csv"
    f.write_text('sku,date,qty\nA,2025-01-01,1\n,2025-01-02,1\nA,"2025-01-03\n",x\nA,01/02/2025,2\n')
    err, out, write = io.StringIO(), io.StringIO(), Recorder()
    assert import_cli.run(_args(f), stderr=err, stdout=out, api=write) == 1
    text = err.getvalue()
    assert f"{f}:3: sku is empty" in text
    assert f"{f}:4:" in text and "qty 'x' is not a number" in text
    assert f"{f}:6: date '01/02/2025'" in text          # the quoted line break does not shift numbering
    assert "3 error(s); nothing was imported" in text
    assert write.calls == [] and out.getvalue() == ""


def test_missing_column_is_reported_on_the_header_line(tmp_path):
    f = tmp_path / "sales.csv"
    f.write_text("sku,day,qty\nA,2025-01-01,1\n")
    err = io.StringIO()
    assert import_cli.run(_args(f), stderr=err, stdout=io.StringIO(), api=Recorder()) == 1
    assert f"{f}:1: header is missing column(s): date" in err.getvalue()


def test_good_file_shows_progress_and_writes_every_row(tmp_path):
    f = tmp_path / "sales.csv"
    f.write_text("sku,date,qty,channel\n" + "".join(f"S{i % 7},2025-01-{1 + i % 28:02d},{i % 5},web\n"
                                                    for i in range(12_000)))
    err, out, write = io.StringIO(), io.StringIO(), Recorder()
    assert import_cli.run(_args(f), stderr=err, stdout=out, api=write) == 0
    rows = [row for part in write.calls for row in part]
    assert len(rows) == 12_000 and all(row.endswith(",web,") for row in rows)
    # each SKU's rows travel in one part (the API replaces a (sku, day)'s counter with the part's sum)
    for part in write.calls:
        assert not {r.split(",")[0] for r in part} & {r.split(",")[0] for other in write.calls if other is not part
                                                         for r in other}
    progress = err.getvalue()
    assert "reading [" in progress and "writing [" in progress and progress.count("100.0%") == 2
    assert "\r" in progress and progress.endswith("\n")
    assert "imported 12000 rows for 7 SKUs" in out.getvalue(), out.getvalue()


def test_xlsx_errors_and_dry_run(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["SKU", "Date", "Qty"])
    ws.append(["A", "2025-02-01", 3])
    ws.append(["A", "2025-02-02", -2])
    f = tmp_path / "sales.xlsx"
    wb.save(f)
    err = io.StringIO()
    assert import_cli.run(_args(f), stderr=err, stdout=io.StringIO(), api=Recorder()) == 1
    assert f"{f}:3: qty -2 is negative" in err.getvalue()
    ws.delete_rows(3)
    wb.save(f)
    out = io.StringIO()
    assert import_cli.run(_args(f, dry_run=True), stderr=io.StringIO(), stdout=out, api=Recorder()) == 0
    assert "1 rows for 1 SKUs are valid (dry run" in out.getvalue()


def test_progress_bar_draws_partial_and_final_state():
    s = io.StringIO()
    bar = import_cli.ProgressBar(s, "reading", width=10, min_interval=0)
    bar(25, 100)
    bar(100, 100)
    bar.close()
    assert s.getvalue() == "\rreading [##........]  25.0%\rreading [##########] 100.0%\n"


def test_cli_has_import_sales_subcommand(tmp_path):
    args = _parser().parse_args(["import", "sales", "x.csv", "--api", "https://api.example", "--token", "t"])
    assert (args.command, args.what, args.file, args.api, args.token) == ("import", "sales", "x.csv",
                                                                          "https://api.example", "t")
    missing = import_cli.run(_args(tmp_path / "none.csv"), stderr=io.StringIO(), stdout=io.StringIO())
    assert missing == 2
