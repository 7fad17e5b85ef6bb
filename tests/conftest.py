import os
from pathlib import Path

import pytest

os.environ.setdefault("PYTHONHASHSEED", "0")


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    """One dataset cache for the whole test session (BENCH_CACHE when tox sets it)."""
    configured = os.environ.get("BENCH_CACHE")
    return Path(configured) if configured else tmp_path_factory.mktemp("dataset-cache")
