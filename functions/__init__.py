"""Lambda entry points, one package per function (infra/topology.py names each handler).

Importing a handler loads its whole function, and the cyclic garbage collector's passes over that growing
heap were ~30 ms of a cold start (~10 %, tests/bench/cold_import.py). This package is imported before any
handler, so collection pauses here, and every handler module ends with `cold_start_done()`
(tests/unit/test_cold_start_imports.py checks it does).
"""
import gc

gc.disable()


def cold_start_done() -> None:
    """The handler module is loaded: what its import built lives as long as the container, so it is frozen
    out of every later collection (else the first one would walk all of it), and collection resumes."""
    gc.freeze()
    gc.enable()
