"""Fault isolation: each unit runs in a child process under a memory and wall-clock limit.

A model that segfaults, exhausts memory or hangs takes down only its own child.
The child streams each trial row to its parent as soon as it finishes, so the
trials completed before a fault are kept, and the trial in flight is recorded
with the fault's status: `crashed`, `oom` or `timeout`.

Children come from a `forkserver`: a single-threaded process that imports the
heavy libraries once and forks one child per unit, so a unit starts in
milliseconds. Forking the process that asks for the unit (the driver, or a Dask
worker) would be cheaper still, but that process is multi-threaded, and a child
forked from a process whose OpenMP pool has run hangs in its first parallel
region (seen here with LightGBM).
"""
from __future__ import annotations

import atexit
import ctypes
import faulthandler
import multiprocessing
import os
import resource
import signal
import sys
import threading
import time
from dataclasses import dataclass
from typing import Mapping, Sequence

from bench.threads import WAIT_POLICY
from bench.tuning import UnitTask, run_unit

FAULTS = ("crashed", "oom", "timeout")
OOM_EXIT_CODE = 3
# Imported once by the fork server, so that every unit's child starts warm; `warm_up` adds
# what the run's models import (ModelSpec.imports).
BASE_PRELOAD = ("bench.tuning", "bench.models", "numpy", "pandas", "optuna")
_preload = list(BASE_PRELOAD)


@dataclass(frozen=True)
class Limits:
    """Per-unit limits; None means none."""

    memory_bytes: int | None = None
    wall_s: float | None = None


# Dask's nanny gives its workers MALLOC_TRIM_THRESHOLD_=65536 so that a long-lived worker hands
# memory back to the system. In a unit it makes glibc give back and fault in memory all the time:
# HistGradientBoosting fits ran 2.5x slower. Units are short-lived processes, so the fork server
# (and every unit forked from it) starts without it, on glibc's adaptive default.
DROPPED_ENV = ("MALLOC_TRIM_THRESHOLD_",)
STOP_WAIT_S = 10.0  # at exit, how long to wait for the fork server's stop (a server holding torch: ~1 s)


def _context():
    for name, value in WAIT_POLICY.items():  # read once, when the fork server loads OpenMP
        os.environ.setdefault(name, value)
    for name in DROPPED_ENV:  # read by glibc when the fork server starts
        os.environ.pop(name, None)
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_preload)
    return context


def warm_up(modules: Sequence[str] = (), env: Mapping[str, str] | None = None) -> None:
    """Start this process's fork server now, importing the base libraries and `modules` in the
    background, so that the first unit need not wait for them; `env` is added to the server's
    environment (and so to every unit's), not to this process's.

    A fork server already running keeps what it has; a child imports anything else itself.
    """
    _preload.extend(m for m in modules if m not in _preload)
    _context()
    from multiprocessing import forkserver

    saved = {name: os.environ.get(name) for name in env or {}}
    os.environ.update(env or {})
    try:
        forkserver.ensure_running()  # returns once the server is spawned; it imports while it starts
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def shut_down() -> None:
    """Ask this process's fork server to exit, without waiting for it: a server that holds
    torch takes most of a second to exit, and keeps the run's stderr open until it has.
    A later unit starts a new one."""
    from multiprocessing import forkserver

    # _stop is the standard library's own way (its tests use it): close the server's "alive"
    # pipe, reap it, remove its socket. In a thread, so the server's exit overlaps the report;
    # joined at exit, before multiprocessing's own exit handler empties its temporary folder:
    # that clean-up and the stop's removal of the socket raced (a FileNotFoundError traceback
    # after a SIGTERM'd run's last line). atexit runs the later registration first.
    stop = getattr(forkserver._forkserver, "_stop", None)
    if stop is not None:
        thread = threading.Thread(target=stop, name="forkserver-stop", daemon=True)
        thread.start()
        atexit.register(thread.join, STOP_WAIT_S)


def _die_with_parent() -> None:
    """Ask Linux to kill this child when its parent dies, so no orphan keeps a core busy."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _child(task: UnitTask, connection, limits: Limits, model_modules: str | None, sys_path: list[str]) -> None:
    faulthandler.disable()  # the parent reports a fatal signal; no stack dump on shared stderr
    _die_with_parent()
    # The fork server was started once, perhaps before the parent's model plug-ins were set.
    if model_modules is not None:
        os.environ["BENCH_MODEL_MODULES"] = model_modules
    sys.path[:] = sys_path
    if limits.memory_bytes:
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    try:
        result = run_unit(task, on_event=connection.send)
        connection.send(("done", result))
    except MemoryError:
        raise SystemExit(OOM_EXIT_CODE)
    except (BrokenPipeError, EOFError):  # the parent is gone (a killed run); nobody to report to
        raise SystemExit(1)
    except Exception as error:  # outside any trial (loading the data, say): the message, not an exit code
        connection.send(("error", f"{type(error).__name__}: {error}"))


def _start(process) -> None:
    """Start a child even from a daemonic process (Dask's workers are daemonic).

    multiprocessing refuses children to daemons only so that they are not
    orphaned; our children die with their fork server, which dies with the worker.
    """
    config = multiprocessing.current_process()._config
    daemon = config.pop("daemon", None)
    try:
        process.start()
    finally:
        if daemon is not None:
            config["daemon"] = daemon


def _fault_from_exit(code: int) -> tuple[str, str]:
    if code == OOM_EXIT_CODE:
        return "oom", "the unit ran out of memory"
    if code < 0:
        name = signal.Signals(-code).name
        if -code == signal.SIGKILL:
            return "crashed", f"killed by {name} (the kernel's out-of-memory killer, or another process)"
        return "crashed", f"the process died from signal {name}"
    return "crashed", f"the process exited with code {code} before finishing"


def run_unit_isolated(task: UnitTask, limits: Limits = Limits()) -> dict:
    """Run a unit in a child process; a fault becomes the unit's status instead of an exception."""
    context = _context()
    reader, writer = context.Pipe(duplex=False)
    process = context.Process(
        target=_child, args=(task, writer, limits, os.environ.get("BENCH_MODEL_MODULES"), list(sys.path)), daemon=True
    )
    _start(process)
    writer.close()
    started = time.monotonic()
    rows, in_flight, result, fault = [], None, None, None
    try:
        while result is None and fault is None:
            remaining = None if limits.wall_s is None else limits.wall_s - (time.monotonic() - started)
            timed_out = remaining is not None and remaining <= 0
            if not reader.poll(0.0 if timed_out else min(1.0, remaining or 1.0)):
                if timed_out:
                    fault = ("timeout", f"the unit ran past its wall-clock limit of {limits.wall_s:g} s "
                                        "and was killed")
                continue
            try:
                kind, payload = reader.recv()
            except (EOFError, OSError):  # the child is gone
                process.join()
                fault = _fault_from_exit(process.exitcode)
                break
            if kind == "start":
                in_flight = payload
            elif kind == "trial":
                rows.append(payload)
                in_flight = None
            elif kind == "done":
                result = payload
            elif kind == "error":
                fault = ("failed", payload)
    finally:
        reader.close()
        if process.is_alive():
            process.kill()
        process.join()
    if result is not None:
        return result
    status, message = fault
    if in_flight is not None:
        rows.append({**in_flight, "status": status, "error": message})
    unit = {**task.identity(), "status": status, "error": message, "wall_s": time.monotonic() - started}
    # The finished trials keep their predictions; the ensemble, made after the last trial, never came.
    return {"unit": unit, "trials": rows, "ensemble": None}
