"""Helpers that drive the console the way a person does (kept apart from the tests that assert)."""
from __future__ import annotations

import csv
import io
import json
import urllib.request
from pathlib import Path

from tests.browser.conftest import AXE, SCREENSHOTS

DOWNLOADS = SCREENSHOTS.parent / "downloads"


def url(runtime, path: str = "") -> str:
    return f"{runtime.url}/console/{path.lstrip('/')}"


def api_get(runtime, path: str) -> tuple[int, dict]:
    req = urllib.request.Request(runtime.url + path, headers=runtime.headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def route_missing(runtime, path: str) -> bool:
    status, body = api_get(runtime, path)
    # 404 "No route", or 405 where another method has the path (GET /warehouses/summary vs PUT /warehouses/{id})
    return (status == 404 and str(body.get("message", "")).startswith("No route for")) or status == 405


def settle(page) -> None:
    """Waits until the app has drawn the view and it shows no 'Loading…' state (every request of the view has
    answered: each one shows that state from the first render until its answer is in)."""
    page.wait_for_function("() => document.querySelector('main, .signin')"
                           " && !document.querySelector('.state[role=status]')")


def set_language(page, lang: str) -> None:
    page.get_by_test_id("language").first.select_option(lang)


def ensure_signed_in(page, runtime) -> None:
    page.goto(url(runtime))
    # Ask the stored session, not the page: the app's redirect to sign-in may not have happened yet.
    signed_in = page.evaluate("""() => { const s = JSON.parse(localStorage.getItem('stocklink.session') || 'null');
                                         return !!s && s.expiresAt > Date.now(); }""")
    if not signed_in:
        page.goto(url(runtime, "signin"))
        page.fill("#token", runtime.token)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda u: "/signin" not in u)
    if page.evaluate("document.documentElement.lang") != "en":
        set_language(page, "en")
    settle(page)


def axe_violations(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    return page.evaluate("""async () => (await axe.run(document, {resultTypes: ['violations']})).violations
        .map(v => ({id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))""")


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def export(page, table: str, kind: str) -> Path:
    """Clicks a table's export button; the downloaded file, kept under .stocklink/artifacts/downloads."""
    with page.expect_download() as info:
        page.locator(f"[data-table='{table}'] [data-export='{kind}']").click()
    download = info.value
    assert download.suggested_filename.endswith(f".{kind}"), download.suggested_filename
    DOWNLOADS.mkdir(parents=True, exist_ok=True)
    path = DOWNLOADS / download.suggested_filename
    download.save_as(str(path))
    return path


def read_csv(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))


def read_xlsx(path: Path) -> list[list]:
    from openpyxl import load_workbook

    sheet = load_workbook(path, read_only=True).worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def cell_texts(page, table: str, column: str) -> list[str]:
    return page.locator(f"[data-table='{table}'] td[data-col='{column}']").all_inner_texts()
