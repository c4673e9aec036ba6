"""Every MLP experiment of the seeds, one after the other, and one table comparing what we
measured with what the seeds' own code measured when run as written.

Each experiment writes its plots under ``out_dir/<experiment>``.
"""

import importlib
import time
from pathlib import Path

from nnlab.experiments.common import one_blas_thread, table

EXPERIMENTS = ("blobs3", "moons", "iris", "binary20", "digits", "breast_cancer")


@one_blas_thread
def run_all(out_dir="outputs", quick: bool = False, seed: int = 0, names=EXPERIMENTS) -> dict:
    """Run the experiments ``names`` (default: all) and print the summary table.

    Returns:
        experiment name -> its ``run`` result, plus 'seconds' (name -> wall-clock seconds).
        The CPU time is printed too: on a busy machine it is the better measure of the work.
    """
    results, seconds, cpu = {}, {}, {}
    for name in names:
        module = importlib.import_module(f"nnlab.experiments.{name}")
        print(f"\n=== {name} " + "=" * max(0, 70 - len(name)))
        start, start_cpu = time.perf_counter(), time.process_time()
        results[name] = module.run(out_dir=Path(out_dir) / name, quick=quick, seed=seed)
        seconds[name] = time.perf_counter() - start
        cpu[name] = time.process_time() - start_cpu
    rows = [
        [row["experiment"], row["ours"], row["seed"], row["note"]]
        for name in names
        for row in results[name]["summary"]
    ]
    mode = "quick mode: fewer epochs than the seeds" if quick else "the seeds' epochs"
    print(
        "\n"
        + table(
            f"MLP experiments ({mode}; seed {seed}): ours vs the seeds' own code, measured",
            ["experiment", "ours", "seeds' code measured", "note"],
            rows,
        )
    )
    timing = ", ".join(f"{n} {s:.1f}s" for n, s in seconds.items())
    print(
        f"\nTime: {sum(seconds.values()):.1f} s wall, {sum(cpu.values()):.1f} s CPU "
        f"({timing}); plots under {out_dir}/"
    )
    return {**results, "seconds": seconds}


def main() -> None:
    run_all()


if __name__ == "__main__":
    main()
