"""A deliberately broken `linear`: its regularisation forced absurdly high, as a bad commit might.

Loaded through BENCH_MODEL_MODULES=broken_models, it replaces the packaged `linear` by name.
"""
import dataclasses

from bench.models import registry

_linear = registry()["linear"]
MODEL = dataclasses.replace(
    _linear,
    defaults={**_linear.defaults, "alpha": 1e6},
    space=lambda trial: {**_linear.space(trial), "alpha": 1e6},
)
