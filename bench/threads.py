"""Thread pinning: with K units on C cores, each unit gets C // K threads and no more."""
from __future__ import annotations

import contextlib
import os
import sys

THREAD_ENV = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
)


def cores() -> int:
    """Cores this process may use (respects CPU affinity, e.g. under taskset or a container)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def threads_per_unit(workers: int, available: int | None = None) -> int:
    return max(1, (available or cores()) // max(1, workers))


# How long an idle OpenMP thread spins before it sleeps. GNU libgomp (loaded by torch, LightGBM,
# XGBoost and scikit-learn's wheels) spins 300,000 times by default: a 1-second LightGBM fit was
# seen taking 100 s with 2 spinning threads on a busy 2-core machine. Never spinning
# (OMP_WAIT_POLICY=PASSIVE) is as bad the other way on a quiet one: a unit with 2 threads paid a
# futex wake-up per parallel region, and LightGBM took 10 s instead of 0.8 s on optdigits. 1,000
# spins was the fastest of the settings tried, on a quiet machine and beside two busy processes.
WAIT_POLICY = {"GOMP_SPINCOUNT": "1000"}


def thread_env(threads: int) -> dict[str, str]:
    """Environment for the fork server that starts units, set before any numeric library starts its pool."""
    return {**{name: str(threads) for name in THREAD_ENV}, **WAIT_POLICY}


@contextlib.contextmanager
def limit_threads(threads: int):
    """Cap BLAS/OpenMP pools (threadpoolctl) and torch's intra-op pool for the duration of a unit."""
    from threadpoolctl import threadpool_limits

    # Only a torch already imported needs capping here: importing it costs a unit 1.5 s, and a
    # net that imports it later sets its own threads (models/_torch.py).
    torch = sys.modules.get("torch")
    torch_threads = None
    if torch is not None:
        torch_threads = torch.get_num_threads()
        torch.set_num_threads(threads)
    with threadpool_limits(limits=threads):
        try:
            yield
        finally:
            if torch_threads is not None:
                torch.set_num_threads(torch_threads)
