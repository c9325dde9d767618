"""The local gateway's console files: content types, client-route fallback, generated config, no traversal."""
from __future__ import annotations

import json

import pytest

from infra.local.console_files import LOCAL_CONFIG, ConsoleFiles


@pytest.fixture()
def dist(tmp_path):
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><title>StockLink</title>")
    (root / "assets" / "index-abc123.js").write_text("console.log(1)")
    (root / "assets" / "index-abc123.css").write_text("body{}")
    (tmp_path / "secret.txt").write_text("outside")
    return root


def headers(answer):
    return {k.lower(): v for k, v in answer[1]}


def test_paths_outside_the_console_are_not_its_own(dist):
    files = ConsoleFiles(dist)
    assert files.page("GET", "/warehouses") is None
    assert files.page("GET", "/consoles") is None


def test_files_are_served_with_their_content_types_and_cache_rules(dist):
    files = ConsoleFiles(dist)
    js = files.page("GET", "/console/assets/index-abc123.js")
    css = files.page("GET", "/console/assets/index-abc123.css")
    index = files.page("GET", "/console/")
    assert js[0] == 200 and js[2] == b"console.log(1)"
    assert headers(js)["content-type"].startswith("text/javascript")
    assert "immutable" in headers(js)["cache-control"]
    assert headers(css)["content-type"].startswith("text/css")
    assert index[0] == 200 and headers(index)["content-type"].startswith("text/html")
    assert headers(index)["cache-control"] == "no-cache"
    assert "default-src 'self'" in headers(index)["content-security-policy"]


def test_client_routes_get_index_html_but_missing_assets_are_404(dist):
    files = ConsoleFiles(dist)
    index = (dist / "index.html").read_bytes()
    for route in ("/console/skus/TEE-RED-M", "/console/alerts", "/console/reports/turnover"):
        status, _, body = files.page("GET", route)
        assert (status, body) == (200, index)
    assert files.page("GET", "/console/assets/gone-123.js")[0] == 404
    assert files.page("GET", "/console/favicon.ico")[0] == 404


def test_config_json_is_generated_for_this_origin(dist):
    status, hdrs, body = ConsoleFiles(dist).page("GET", "/console/config.json")
    assert status == 200 and json.loads(body) == LOCAL_CONFIG
    assert dict(hdrs)["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["/console/../secret.txt", "/console/assets/../../secret.txt",
                                  "/console/%2e%2e/secret.txt", "/console/assets/%2E%2E/%2E%2E/secret.txt",
                                  "/console//etc/passwd"])
def test_no_file_outside_dist_can_be_read(dist, path):
    status, _, body = ConsoleFiles(dist).page("GET", path)
    assert b"outside" not in body and b"root:" not in body
    assert status in (400, 404) or body == (dist / "index.html").read_bytes()


def test_writes_are_refused_and_the_bare_prefix_redirects(dist):
    files = ConsoleFiles(dist)
    assert files.page("POST", "/console/index.html")[0] == 405
    status, hdrs, _ = files.page("GET", "/console")
    assert status == 308 and dict(hdrs)["Location"] == "/console/"


def test_an_unbuilt_console_says_how_to_build_it(tmp_path):
    status, _, body = ConsoleFiles(tmp_path / "missing").page("GET", "/console/")
    assert status == 503 and b"make run" in body
