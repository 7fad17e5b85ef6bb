"""The report's sections in order, and their figures. Each section module renders its section from the
leaderboard data alone, as blocks, and draws its figures.

leaderboard.md and index.html render the same blocks, so they show the same numbers. A block is
a tuple: ("h", subheading), ("p", text), ("list", [text]), ("table", headers, rows, aligns),
("figure", name) or ("code", text). Text may hold **bold** and `code` marks.
"""
from __future__ import annotations

from bench.report import (claims, cost, diagnostics, families, guidance, leaderboard, learning_curves, literature,
                          per_dataset, provenance, tuning_curves, wins)

SECTIONS = [
    ("leaderboard", "1. Leaderboard", leaderboard),
    ("per-dataset", "2. Per dataset", per_dataset),
    ("families", "3. Family against family", families),
    ("tuning", "4. Tuning curves", tuning_curves),
    ("learning", "5. Learning curves", learning_curves),
    ("cost", "6. Cost", cost),
    ("deep-wins", "7. Where deep learning wins", wins),
    ("guidance", "8. Guidance", guidance),
    ("claims", "9. Claims", claims),
    ("diagnostics", "10. Diagnostics", diagnostics),
    ("provenance", "11. Provenance", provenance),
    ("literature", "12. Against the literature", literature),
]
# name -> (draw, caption), in section order
FIGURES = {name: figure for _, _, module in SECTIONS for name, figure in getattr(module, "FIGURES", {}).items()}


def build_sections(board: dict) -> list[tuple[str, str, list]]:
    """(anchor, title, blocks) for every section, in order."""
    return [(anchor, title, module.render(board)) for anchor, title, module in SECTIONS]
