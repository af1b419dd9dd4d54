"""scripts/bench/best.py: best(n, f, budget), the twin of best.lua: f(n) makes n calls; the
best time per call over repeated batches, for budget seconds and at least 3 batches."""
import time


def best(n, f, budget):
    t, start, batches = float("inf"), time.perf_counter(), 0
    while batches < 3 or time.perf_counter() - start < budget:
        t0 = time.perf_counter()
        f(n)
        t = min(t, (time.perf_counter() - t0) / n)
        batches += 1
    return t
