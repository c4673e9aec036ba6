"""Time ``import nnlab`` in fresh interpreters (best and median of 10), against ``import numpy``
alone and ``import torch``.

    .venv/bin/python benchmarks/bench_import.py
"""

import statistics
import subprocess
import sys


def import_seconds(module: str, runs: int = 10) -> list:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    return [
        float(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(runs)
    ]


def main() -> None:
    for module in ("numpy", "nnlab", "torch"):
        times = import_seconds(module)
        print(
            f"import {module:6s} best {min(times):.3f} s, median {statistics.median(times):.3f} s"
        )


if __name__ == "__main__":
    main()
