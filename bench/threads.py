"""Thread pinning: with K units on C cores, each unit gets C // K threads and no more."""
from __future__ import annotations

import contextlib
import os

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


# OpenMP threads that spin while waiting fight each other when cores are shared (torch and
# LightGBM load one libgomp): a 1-second LightGBM fit was seen taking 100 s with 2 spinning
# threads on a busy 2-core machine. Passive waiting costs little and is steady.
WAIT_POLICY = {"OMP_WAIT_POLICY": "PASSIVE"}


def thread_env(threads: int) -> dict[str, str]:
    """Environment for a worker process, set before any numeric library starts its pool."""
    return {**{name: str(threads) for name in THREAD_ENV}, **WAIT_POLICY}


@contextlib.contextmanager
def limit_threads(threads: int):
    """Cap BLAS/OpenMP pools (threadpoolctl) and torch's intra-op pool for the duration of a unit."""
    from threadpoolctl import threadpool_limits

    torch_threads = None
    try:
        import torch

        torch_threads = torch.get_num_threads()
        torch.set_num_threads(threads)
    except ImportError:
        pass
    with threadpool_limits(limits=threads):
        try:
            yield
        finally:
            if torch_threads is not None:
                import torch

                torch.set_num_threads(torch_threads)
