"""Models that fail on purpose, one per fault the harness must survive.

Loaded into runs through BENCH_MODEL_MODULES=fault_models (with tests/ on PYTHONPATH).
"""
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bench.contract import ModelSpec


@dataclass
class Prior:
    """Predicts the training class shares: a valid, finite, honest-to-goodness weak model."""

    shares: np.ndarray
    n_iter: int = 1
    stopped_by_deadline: bool = False
    curves: dict = field(default_factory=dict)

    def predict(self, part):
        return np.tile(self.shares, (len(part), 1))


def _prior(train, info):
    return Prior(np.bincount(train.y, minlength=info.n_classes) / len(train.y))


def _raises(params, train, valid, info, ctx):
    raise ValueError("this model always raises")


def _nan(params, train, valid, info, ctx):
    fitted = _prior(train, info)
    fitted.shares = fitted.shares * np.nan
    return fitted


def _hangs(params, train, valid, info, ctx):
    if os.environ.get("BENCH_HANG_PID_FILE"):  # so that a test can check the process does not outlive its run
        Path(os.environ["BENCH_HANG_PID_FILE"]).write_text(str(os.getpid()))
    time.sleep(3600)  # ignores its deadline, as a stuck model would


def _hog(params, train, valid, info, ctx):
    hoard = np.ones((64, 2**27), dtype=np.float64)  # 64 GiB
    return hoard


def _aborts(params, train, valid, info, ctx):
    os.abort()  # SIGABRT, like a segfault in native code


def _healthy(params, train, valid, info, ctx):
    return _prior(train, info)


def _probe(params, train, valid, info, ctx):
    """Healthy, and writes what a unit's process sees to $BENCH_PROBE_FILE (threads, environment)."""
    import json
    import sys

    names = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "GOMP_SPINCOUNT", "MALLOC_TRIM_THRESHOLD_")
    seen = {"env": {name: os.environ.get(name) for name in names}, "ctx_threads": ctx.threads,
            "torch_imported": "torch" in sys.modules}
    with open(os.environ["BENCH_PROBE_FILE"], "w") as file:
        json.dump(seen, file)
    return _prior(train, info)


def _spec(name, fit):
    return ModelSpec(name=name, family="classical", tasks=frozenset({"binary", "multiclass"}),
                     modalities=frozenset({"tabular"}), defaults={"x": 0.5},
                     space=lambda trial: {"x": trial.suggest_float("x", 0.0, 1.0)}, fit=fit,
                     source="tests/fault_models.py")


MODELS = [
    _spec("fault_raises", _raises),
    _spec("fault_nan", _nan),
    _spec("fault_hangs", _hangs),
    _spec("fault_hog", _hog),
    _spec("fault_aborts", _aborts),
    _spec("prior", _healthy),
    _spec("probe", _probe),
]
