"""Opt-in CPU profile of the runtime process: `STOCKLINK_PROFILE=/tmp/out.txt python -m infra.local.cli local`.

A sampling thread, every 10 ms: each thread's CPU clock (pthread_getcpuclockid) says how much CPU it used
since the last sample, and that CPU is charged to the thread's current stack. So CPU, not wall time, is
attributed across every thread — the gateway's, moto's, the bus's, the pipes' — which cProfile (one thread)
cannot, at a cost small enough to leave the figures meaningful (yappi's per-thread bookkeeping grew to
gigabytes with a thread per connection). At stop the functions with the most CPU, inclusive and own, and
the CPU per kind of thread are written to the file.
"""
from __future__ import annotations

import os
import re
import sys
import threading
import time
from collections import Counter

ENV = "STOCKLINK_PROFILE"
_state: dict = {}


def start(interval_s: float = 0.01) -> bool:
    if not os.environ.get(ENV):
        return False
    stop = threading.Event()
    own, inclusive, per_thread = Counter(), Counter(), Counter()
    last: dict[int, float] = {}

    def where(code) -> str:
        return f"{os.path.basename(code.co_filename)}:{code.co_name}"

    def sample() -> None:
        me = threading.get_ident()
        names = {t.ident: t.name for t in threading.enumerate()}
        for ident, frame in sys._current_frames().items():
            if ident == me:
                continue
            try:
                cpu = time.clock_gettime(time.pthread_getcpuclockid(ident))
            except OSError:          # the thread ended meanwhile
                continue
            used, last[ident] = cpu - last.get(ident, cpu), cpu
            if used <= 0:
                continue
            per_thread[re.sub(r"[-_]?\d+$|\(.*\)", "", names.get(ident, "?"))] += used
            own[where(frame.f_code)] += used
            seen = set()
            while frame is not None:
                name = where(frame.f_code)
                if name not in seen:
                    seen.add(name)
                    inclusive[name] += used
                frame = frame.f_back

    def loop() -> None:
        while not stop.wait(interval_s):
            sample()

    threading.Thread(target=loop, daemon=True, name="profiler").start()
    _state.update(stop=stop, own=own, inclusive=inclusive, per_thread=per_thread, started=time.process_time())
    return True


def write(limit: int = 70) -> None:
    path = os.environ.get(ENV)
    if not path or not _state:
        return
    _state["stop"].set()
    total = time.process_time() - _state["started"]
    with open(path, "w") as out:
        out.write(f"process CPU while profiled: {total:.2f} s\n")
        for key, title in (("per_thread", "CPU by thread (name without its number)"),
                           ("inclusive", "inclusive CPU by function"), ("own", "own CPU by function")):
            out.write(f"== {title}, s ==\n")
            for name, cpu in _state[key].most_common(limit):
                out.write(f"{cpu:9.3f}  {name}\n")
