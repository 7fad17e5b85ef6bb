"""Reports built from the store alone: leaderboard.json, leaderboard.md, index.html and figures/."""
from __future__ import annotations

import json
from pathlib import Path

from bench.report.leaderboard import build_leaderboard
from bench.report.markdown import render_markdown
from bench.store import Store


def write_report(store: Store, run_id: str, out_dir: Path, claims_file: Path | None = None) -> dict:
    """Build the leaderboard of one run and write its files; returns the leaderboard.

    `claims_file`: a TOML file of claims to test instead of the packaged bench/report/claims.toml.
    """
    from bench.report.claims import load_claims
    from bench.report.figures import write_figures
    from bench.report.html import render_html

    claims = load_claims(claims_file) if claims_file else None
    board = build_leaderboard(store, run_id, claims=claims)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    board["figures"] = write_figures(board, out_dir)
    (out_dir / "leaderboard.json").write_text(json.dumps(board, indent=2, sort_keys=False) + "\n")
    (out_dir / "leaderboard.md").write_text(render_markdown(board))
    (out_dir / "index.html").write_text(render_html(board, board["figures"], out_dir))
    return board
