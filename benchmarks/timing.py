"""Timing shared by the benchmark scripts: contenders are timed in alternating rounds.

Alternating rounds (nnlab, torch, nnlab, torch, ...) let a change in machine load during a
run hit every contender alike, where timing one library's rounds and then the other's can
put a slow spell entirely on one side. Before each round the process idles ``SETTLE``
seconds: OpenBLAS keeps its worker threads spinning for about 0.1 s after a threaded call
(and PyTorch's OpenMP threads spin briefly too), and those spinning threads would take a
core from whichever contender runs next.
"""

import time

SETTLE = 0.2


def best_seconds(
    calls: dict, rounds: int = 5, min_time: float = 1.0, warmup: int = 3, clock=time.perf_counter
) -> dict:
    """Best seconds per call of each callable in ``calls`` (name -> function of no arguments).

    Each of ``rounds`` rounds runs every callable in turn, repeatedly for at least
    ``min_time`` seconds (at least once; ``min_time=0`` times single calls), after ``warmup``
    untimed calls each. ``clock`` is the clock to read (``time.thread_time`` for CPU time).
    """
    for call in calls.values():
        for _ in range(warmup):
            call()
    best = dict.fromkeys(calls, float("inf"))
    for _ in range(rounds):
        for name, call in calls.items():
            time.sleep(SETTLE)
            n, start = 0, clock()
            while (elapsed := clock() - start) < min_time or n == 0:
                call()
                n += 1
            best[name] = min(best[name], elapsed / n)
    return best
