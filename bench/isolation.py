"""Fault isolation: each unit runs in a forked child process under a memory and wall-clock limit.

A model that segfaults, exhausts memory or hangs takes down only its own child.
The child streams each trial row to the parent as soon as it finishes, so the
trials completed before a fault are kept, and the trial in flight is recorded
with the fault's status: `crashed`, `oom` or `timeout`.

Plain `os.fork` rather than `multiprocessing`: Dask's worker processes are
daemonic, and daemonic processes may not start `multiprocessing` children. The
worker imports the heavy libraries once (`warm_imports`) so that a fork costs
milliseconds, and never runs numeric code itself, so no thread pool is forked.
"""
from __future__ import annotations

import ctypes
import faulthandler
import os
import pickle
import resource
import signal
import struct
import time
from dataclasses import dataclass

from bench.tuning import UnitTask, run_unit

FAULTS = ("crashed", "oom", "timeout")
_HEADER = struct.Struct("!Q")


@dataclass(frozen=True)
class Limits:
    """Per-unit limits; None means none."""

    memory_bytes: int | None = None
    wall_s: float | None = None


def warm_imports() -> None:
    """Import what units need once per worker, so forked children start warm."""
    import lightgbm  # noqa: F401
    import optuna  # noqa: F401
    import sklearn.linear_model  # noqa: F401
    import torch  # noqa: F401

    from bench.models import registry

    registry()


def _send(fd: int, message) -> None:
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    data = _HEADER.pack(len(payload)) + payload
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class _Reader:
    """Length-prefixed pickles from a pipe, read without blocking past a deadline."""

    def __init__(self, fd: int):
        self.fd = fd
        self.buffer = bytearray()
        self.closed = False

    def read_available(self, timeout: float) -> list:
        import select

        ready, _, _ = select.select([self.fd], [], [], max(0.0, timeout))
        if ready:
            chunk = os.read(self.fd, 1 << 20)
            if not chunk:
                self.closed = True
            self.buffer.extend(chunk)
        messages = []
        while len(self.buffer) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(self.buffer)
            if len(self.buffer) < _HEADER.size + size:
                break
            messages.append(pickle.loads(bytes(self.buffer[_HEADER.size:_HEADER.size + size])))
            del self.buffer[:_HEADER.size + size]
        return messages


def _die_with_parent() -> None:
    """Ask Linux to kill this child when its parent dies, so no orphan keeps a core busy."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _child(task: UnitTask, fd: int, limits: Limits) -> None:
    faulthandler.disable()  # the parent reports a fatal signal; no stack dump on shared stderr
    _die_with_parent()
    if limits.memory_bytes:
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    result = run_unit(task, on_event=lambda event: _send(fd, event))
    _send(fd, ("done", result))


def _fault_from_exit(status: int) -> tuple[str, str]:
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        name = signal.Signals(number).name
        if number == signal.SIGKILL:
            return "crashed", f"killed by {name} (the kernel's out-of-memory killer, or another process)"
        return "crashed", f"the process died from signal {name}"
    return "crashed", f"the process exited with code {os.WEXITSTATUS(status)} before finishing"


def run_unit_isolated(task: UnitTask, limits: Limits = Limits()) -> dict:
    """Run a unit in a forked child; a fault becomes the unit's status instead of an exception."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 0
        try:
            os.close(read_fd)
            _child(task, write_fd, limits)
        except MemoryError:
            code = 3
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(write_fd)
    reader = _Reader(read_fd)
    started = time.monotonic()
    rows, in_flight, result, fault = [], None, None, None
    try:
        while result is None and fault is None:
            remaining = None if limits.wall_s is None else limits.wall_s - (time.monotonic() - started)
            timed_out = remaining is not None and remaining <= 0
            for kind, payload in reader.read_available(0.0 if timed_out else min(1.0, remaining or 1.0)):
                if kind == "start":
                    in_flight = payload
                elif kind == "trial":
                    rows.append(payload)
                    in_flight = None
                elif kind == "done":
                    result = payload
            if timed_out and result is None:
                os.kill(pid, signal.SIGKILL)
                fault = ("timeout", f"the unit ran past its wall-clock limit of {limits.wall_s:g} s and was killed")
                break
            if reader.closed and result is None:
                _, status = os.waitpid(pid, 0)
                pid = None
                fault = ("oom", "the unit ran out of memory") if (
                    os.WIFEXITED(status) and os.WEXITSTATUS(status) == 3) else _fault_from_exit(status)
    finally:
        os.close(read_fd)
        if pid is not None:
            os.waitpid(pid, 0)
    if result is not None:
        return result
    status, message = fault
    if in_flight is not None:
        rows.append({**in_flight, "status": status, "error": message})
    unit = {**task.identity(), "status": status, "error": message, "wall_s": time.monotonic() - started}
    return {"unit": unit, "trials": rows}
