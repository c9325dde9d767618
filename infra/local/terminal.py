"""What the terminal of `make run` shows: one readable line per request (the gateway's access line), alert
and scheduled pass. The functions' structured logs and EMF metrics (one JSON line each per invocation) go to
a file under .stocklink/logs/; `--verbose` prints them on the terminal too. A function's warnings and errors
still reach the terminal, as one line each, and so does anything it prints that is not JSON (a traceback)."""
from __future__ import annotations

import json
import logging
import logging.handlers
import threading
from pathlib import Path
from typing import TextIO

LOUD_LEVELS = ("WARNING", "ERROR", "CRITICAL")
MAX_MESSAGE = 300
LOG_FILE_BYTES = 20 * 1024 * 1024          # then functions.log.1, .2: a long demo never fills the disk


def summary(name: str, record: dict) -> str | None:
    """The terminal's line for one structured line of a function, or None if it belongs in the file only."""
    if "_aws" in record:                                        # EMF metrics
        return None
    level = str(record.get("level") or record.get("levelname") or "").upper()
    if level not in LOUD_LEVELS:
        return None
    message = str(record.get("message") or record.get("msg") or "")
    if record.get("exception_name"):
        message = f"{message} ({record['exception_name']})"
    if len(message) > MAX_MESSAGE:
        message = message[:MAX_MESSAGE] + "…"
    return f"[{name}] {level} {message}"


class FunctionOutput:
    """The runtime's relay for its workers' output lines: (function/container name, line)."""

    def __init__(self, terminal: TextIO, log_path: Path | None, verbose: bool = False):
        self.terminal, self.verbose = terminal, verbose
        self._lock = threading.Lock()
        self.log_path = log_path
        self._file: logging.Logger | None = None
        if log_path is not None:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            handler = logging.handlers.RotatingFileHandler(log_path, maxBytes=LOG_FILE_BYTES, backupCount=2,
                                                           encoding="utf-8")
            handler.setFormatter(logging.Formatter("%(message)s"))
            self._file = logging.getLogger(f"stocklink.functions.{id(self)}")
            self._file.propagate = False
            self._file.setLevel(logging.INFO)
            self._file.addHandler(handler)

    def __call__(self, name: str, line: str) -> None:
        line = line.rstrip("\n")
        if not line.strip():
            return
        if self._file is not None:
            self._file.info("%s %s", name, line)
        shown = line if self.verbose else self._terminal_line(name, line)
        if shown is None:
            return
        with self._lock:
            self.terminal.write(f"[{name}] {shown}\n" if self.verbose else shown + "\n")
            self.terminal.flush()

    @staticmethod
    def _terminal_line(name: str, line: str) -> str | None:
        try:
            record = json.loads(line)
        except ValueError:
            return f"[{name}] {line}"                   # a print or a traceback: a person should see it
        if not isinstance(record, dict):
            return f"[{name}] {line}"
        return summary(name, record)

    def close(self) -> None:
        if self._file is not None:
            for handler in list(self._file.handlers):
                handler.close()
                self._file.removeHandler(handler)
