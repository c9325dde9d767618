"""The terminal of `make run`: functions' structured logs and metrics go to the file, a person sees requests,
alerts, scheduled passes and a function's warnings, errors and tracebacks — one line each."""
from __future__ import annotations

import io
import json

from infra.local.terminal import FunctionOutput

EMF = json.dumps({"_aws": {"Timestamp": 1, "CloudWatchMetrics": []}, "service": "staff_api", "Reservations": [1]})
INFO = json.dumps({"level": "INFO", "message": "reservation held", "service": "storefront_api"})
ERROR = json.dumps({"level": "ERROR", "message": "push to shopify failed", "exception_name": "HTTPError"})
WARNING = json.dumps({"level": "WARNING", "message": "x" * 400})


def test_metrics_and_info_logs_go_to_the_file_only_warnings_errors_and_text_to_the_terminal(tmp_path):
    terminal, log = io.StringIO(), tmp_path / "logs" / "functions.log"
    output = FunctionOutput(terminal, log)
    for line in (EMF, INFO, ERROR, WARNING, "Traceback (most recent call last):", "", "[1, 2]"):
        output("storefront_api-1", line + "\n")
    output.close()
    shown = terminal.getvalue().splitlines()
    assert shown == ["[storefront_api-1] ERROR push to shopify failed (HTTPError)",
                     "[storefront_api-1] WARNING " + "x" * 300 + "…",
                     "[storefront_api-1] Traceback (most recent call last):",
                     "[storefront_api-1] [1, 2]"]
    written = log.read_text().splitlines()
    assert written == [f"storefront_api-1 {line}" for line in (EMF, INFO, ERROR, WARNING,
                                                               "Traceback (most recent call last):", "[1, 2]")]


def test_verbose_prints_every_line_and_still_writes_the_file(tmp_path):
    terminal, log = io.StringIO(), tmp_path / "functions.log"
    output = FunctionOutput(terminal, log, verbose=True)
    output("alerts-1", EMF)
    output("alerts-1", INFO)
    output.close()
    assert terminal.getvalue().splitlines() == [f"[alerts-1] {EMF}", f"[alerts-1] {INFO}"]
    assert len(log.read_text().splitlines()) == 2
