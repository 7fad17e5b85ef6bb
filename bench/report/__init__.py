"""Reports built from the store alone: leaderboard.json and leaderboard.md."""
from __future__ import annotations

import json
from pathlib import Path

from bench.report.leaderboard import build_leaderboard
from bench.report.markdown import render_markdown
from bench.store import Store


def write_report(store: Store, run_id: str, out_dir: Path) -> dict:
    """Build the leaderboard of one run and write its files; returns the leaderboard."""
    board = build_leaderboard(store, run_id)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "leaderboard.json").write_text(json.dumps(board, indent=2, sort_keys=False) + "\n")
    (out_dir / "leaderboard.md").write_text(render_markdown(board))
    return board
