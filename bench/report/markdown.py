"""leaderboard.md: the report's sections as Markdown, figures referenced beside it."""
from __future__ import annotations

from bench.report.leaderboard import overview
from bench.report.sections import build_sections


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(headers: list[str], rows: list[list[str]], aligns: str) -> list[str]:
    rule = ["---:" if a == "r" else "---" for a in aligns]
    lines = ["| " + " | ".join(_cell(h) for h in headers) + " |", "| " + " | ".join(rule) + " |"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def render_blocks(blocks: list, figures: dict) -> list[str]:
    lines: list[str] = []
    for block in blocks:
        kind = block[0]
        if kind == "h":
            lines += [f"### {block[1]}", ""]
        elif kind == "p":
            lines += [block[1], ""]
        elif kind == "list":
            lines += [f"- {item}" for item in block[1]] + [""]
        elif kind == "table":
            lines += _table(*block[1:]) + [""]
        elif kind == "code":
            lines += ["```", block[1], "```", ""]
        elif kind == "figure" and block[1] in figures:
            figure = figures[block[1]]
            lines += [f"![{figure['caption']}]({figure['png']})", "", f"*{figure['caption']}* "
                      f"([SVG]({figure['svg']}))", ""]
    return lines


def render_markdown(board: dict, figures: dict | None = None) -> str:
    figures = figures if figures is not None else board.get("figures", {})
    sections = build_sections(board)
    lines = [f"# Leaderboard: suite `{board['suite']}`", ""]
    lines += render_blocks(overview(board), figures)
    lines += ["Contents: " + " · ".join(f"[{title}](#{anchor})" for anchor, title, _ in sections), ""]
    for anchor, title, blocks in sections:
        lines += [f'<a id="{anchor}"></a>', "", f"## {title}", ""]
        lines += render_blocks(blocks, figures)
    return "\n".join(lines).rstrip() + "\n"
