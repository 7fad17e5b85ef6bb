"""The compact form of a trial's predictions, as units send them and the store keeps them.

Classification probabilities are kept as float16 log-probabilities (a float16 probability would
round a confident wrong prediction's 1e-8 to 0 and move its log loss from ~18 to the clip's 34.5),
regression values as float32 (float16 overflows above 65,504); either as np.save bytes,
zlib-compressed. Re-scoring decoded predictions reproduces a trial's scores within 1e-4
(tests/test_ensembles.py). A module of its own so that a unit (bench/tuning.py) and the store
(bench/store.py) share the format without the worker importing the store.
"""
from __future__ import annotations

import io
import zlib

import numpy as np

PARTS = ("valid", "test")  # the parts whose predictions are kept
LOG_FLOOR = 1e-15  # probabilities are clipped here before the log, as bench.metrics.score clips them


def encode_predictions(prediction: np.ndarray) -> bytes:
    """A trial's predictions of one part, compact: (n, K) class probabilities as float16
    log-probabilities, (n,) regression values as float32; np.save bytes, zlib-compressed."""
    prediction = np.asarray(prediction, dtype=np.float64)
    if prediction.ndim == 2:
        stored = np.log(np.clip(prediction, LOG_FLOOR, 1.0)).astype(np.float16)
    elif prediction.ndim == 1:
        stored = prediction.astype(np.float32)
    else:
        raise ValueError(f"predictions must be (n, classes) probabilities or (n,) values, got shape {prediction.shape}")
    buffer = io.BytesIO()
    np.save(buffer, stored, allow_pickle=False)
    return zlib.compress(buffer.getvalue(), 6)


def decode_predictions(blob: bytes) -> np.ndarray:
    """The inverse of `encode_predictions`: (n, K) probabilities or (n,) values, as float64."""
    stored = np.load(io.BytesIO(zlib.decompress(blob)), allow_pickle=False)
    return np.exp(stored.astype(np.float64)) if stored.ndim == 2 else stored.astype(np.float64)


def prediction_shape(blob: bytes) -> tuple[int, ...]:
    """The shape `decode_predictions` would return, read from the array's header alone."""
    head = zlib.decompressobj().decompress(blob, 4096)
    handle = io.BytesIO(head)
    version = np.lib.format.read_magic(handle)
    shape, _, _ = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                   else np.lib.format.read_array_header_2_0)(handle)
    return tuple(shape)
