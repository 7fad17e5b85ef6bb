"""Where units run: a Dask LocalCluster in this process, an existing Dask cluster
(`--scheduler`), or this process without Dask (`--workers 0`, for debugging).

Every unit runs in its own child process (bench/isolation.py), so a local worker need
not be a process of its own: LocalCluster's workers are threads here, each waiting on one
unit's child. Worker processes would add only their start-up (a Python process importing
Dask, about 1.5 s before the first unit) and a pickling hop for every task and result.

Workers only compute; results come back to the driver, which alone writes the store.
"""
from __future__ import annotations

import contextlib
import logging
from typing import Callable, Iterator, Sequence

from bench.isolation import Limits, run_unit_isolated, shut_down, warm_up
from bench.threads import thread_env, threads_per_unit
from bench.tuning import UnitTask


class ExecutorError(Exception):
    """The cluster could not be started or reached."""


def _failed(task: UnitTask, error: BaseException) -> dict:
    """The record of a unit whose worker raised or died before returning rows."""
    return {"unit": {**task.identity(), "status": "failed", "error": f"{type(error).__name__}: {error}"},
            "trials": [], "ensemble": None}


@contextlib.contextmanager
def remote_client(scheduler: str) -> Iterator:
    """A client on the Dask cluster at `scheduler`."""
    from distributed import Client

    logging.getLogger("distributed").setLevel(logging.ERROR)
    try:
        client = Client(scheduler, timeout=5)
    except (OSError, TimeoutError) as error:
        raise ExecutorError(f"cannot reach the Dask scheduler at {scheduler}: {error}") from None
    with client:
        yield client


@contextlib.contextmanager
def local_client(workers: int) -> Iterator:
    """A client on a new LocalCluster of `workers` threads in this process."""
    from distributed import Client, LocalCluster

    logging.getLogger("distributed").setLevel(logging.ERROR)
    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,  # one unit per worker; the unit itself uses `threads` cores
        processes=False,
        memory_limit=0,  # units have their own limit (Limits); the driver holds only results
        # distributed starts a dashboard whatever we pass; a free loopback port keeps two runs apart.
        dashboard_address="127.0.0.1:0",
        silence_logs=logging.ERROR,
    )
    with cluster, Client(cluster) as client:
        yield client


def run_on_worker(task: UnitTask, limits: Limits) -> dict:
    """The function a worker runs: the unit, in an isolated child process."""
    return run_unit_isolated(task, limits)


@contextlib.contextmanager
def open_executor(workers: int, threads: int, scheduler: str | None, preload: Sequence[str] = ()) -> Iterator:
    """(client, threads per unit): a Dask client, or None to run units one at a time without
    Dask (`--workers 0`). On an existing cluster its size, not ours, decides the threads.

    The fork servers that start the units begin importing `preload` at once, so that the
    imports overlap the planning of the run instead of delaying its first unit.
    """
    if scheduler:
        with remote_client(scheduler) as client:
            threads = threads_per_unit(len(client.nthreads()))
            client.run(warm_up, list(preload), thread_env(threads))  # each worker's own fork server
            yield client, threads
        return
    warm_up(preload, thread_env(threads))  # before importing Dask, which takes the driver half a second
    try:
        if workers == 0:
            yield None, threads
        else:
            with local_client(workers) as client:
                yield client, threads
    finally:
        shut_down()


def run_units(
    client,
    tasks: Sequence[UnitTask],
    limits: Limits,
    on_result: Callable[[dict], None],
) -> None:
    """Run every task on `client` (None: in this process) and hand each result to `on_result`
    as soon as it arrives. Tasks start in the order given (the caller puts the longest first)."""
    if not tasks:
        return
    if client is None:
        for task in tasks:
            try:
                result = run_on_worker(task, limits)
            except Exception as error:
                result = _failed(task, error)
            on_result(result)
        return
    from distributed import as_completed

    futures = {client.submit(run_on_worker, task, limits, pure=False, key=f"unit-{task.unit_key}"): task
               for task in tasks}
    for future in as_completed(futures):
        task = futures[future]
        try:
            result = future.result()
        except Exception as error:
            result = _failed(task, error)
        on_result(result)
