"""`make bench`: run every benchmark script in this folder in turn; each prints its own figures."""
import runpy
import sys
from pathlib import Path

SKIP = {"__init__.py", "__main__.py", "bench_data.py", "last_units_sim.py", "replay_po_model.py"}

if __name__ == "__main__":
    wanted = sys.argv[1:]
    for script in sorted(Path(__file__).parent.glob("*.py")):
        if script.name in SKIP or (wanted and script.stem not in wanted):
            continue
        print(f"\n=== {script.stem} ===", flush=True)
        sys.argv = [str(script)]  # each script parses its own arguments
        runpy.run_path(str(script), run_name="__main__")
