"""The sync package's seams to the outside world: time, sleeping and sending. Every module of the package
calls these through this module (`seams.sleep(...)`), so a test or benchmark replaces one name here."""
from __future__ import annotations

import time
from typing import Callable

from stocklink import outbound

sleep: Callable[[float], None] = time.sleep
clock: Callable[[], float] = time.monotonic       # durations inside one container
wall: Callable[[], float] = time.time             # shared rate-limit windows: epoch time, the same in every container
send: Callable[..., outbound.Response] = outbound.send
