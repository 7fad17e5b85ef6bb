"""The drawing machinery the sections share: matplotlib set up once, the family colours, a grid of
panels, and the writer that draws every section's figures in parallel as PNG and SVG.

Each section module's `draw` functions take the leaderboard and return a figure, or None when the
run has nothing to show; they import this module when called, so that building, rendering or
testing a leaderboard never imports matplotlib.
"""
from __future__ import annotations

import math
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from itertools import repeat
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from bench.report.sections import FIGURES  # noqa: E402
from bench.threads import cores  # noqa: E402

FAMILY_COLORS = {"deep": "#d62728", "tree": "#2ca02c", "classical": "#1f77b4"}
STYLE = {
    "figure.dpi": 100, "savefig.dpi": 110, "font.size": 9, "axes.titlesize": 9, "axes.labelsize": 9,
    "legend.fontsize": 8, "axes.spines.top": False, "axes.spines.right": False, "svg.hashsalt": "bench-report",
}


def family_color(family: str) -> str:
    return FAMILY_COLORS.get(family, "#7f7f7f")


def grid(n: int, columns: int, width: float = 3.2, height: float = 2.5):
    """A figure of n panels, `columns` to a row, each width x height inches; the spare panels hidden."""
    columns = max(1, min(columns, n))
    rows = math.ceil(n / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(width * columns, height * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n])


def _write_figure(name: str, board: dict, folder: Path) -> bool:
    """Draw one figure into `folder` as PNG and SVG; False when the run has nothing to show for it."""
    draw, _ = FIGURES[name]
    with plt.rc_context(STYLE):
        fig = draw(board)
        if fig is None:
            return False
        fig.savefig(folder / f"{name}.png", metadata={"Software": None})
        fig.savefig(folder / f"{name}.svg", metadata={"Date": None, "Creator": None})
        plt.close(fig)
    return True


def write_figures(board: dict, out_dir: Path) -> dict[str, dict]:
    """Draw every figure the run has data for into out_dir/figures as PNG and SVG.

    Figures are drawn in parallel, one process per core: drawing and saving them takes
    seconds (about 7 for the quick suite on one core), all of it after the run's last unit.
    """
    folder = Path(out_dir) / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    names = list(FIGURES)
    processes = min(len(names), cores())
    if processes > 1:
        # Forked, so that no process imports matplotlib again. The report is drawn after the run's
        # cluster has closed; the children draw and write files only, and touch no lock a thread holds.
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(processes, mp_context=context) as pool:
            drawn = list(pool.map(_write_figure, names, repeat(board), repeat(folder)))
    else:
        drawn = [_write_figure(name, board, folder) for name in names]
    return {name: {"png": f"figures/{name}.png", "svg": f"figures/{name}.svg", "caption": FIGURES[name][1]}
            for name, done in zip(names, drawn) if done}
