"""`make bench`: every benchmark, each printing its figures and ratios."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = ["reference.py", "cache.py", "ml.py", "overhead.py", "fanout.py", "throughput.py",
              "run_history.py",
              "serving.py", "canvas.py", "sources.py", "bigdata.py"]

for name in BENCHMARKS:
    print(f"== {name}", flush=True)
    subprocess.run([sys.executable, str(HERE / name)], check=True)
