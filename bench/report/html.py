"""index.html: the report's sections as one self-contained page (figures embedded as base64 PNG,
no scripts, no network)."""
from __future__ import annotations

import base64
import html
import re
from pathlib import Path

from bench.report.leaderboard import overview
from bench.report.sections import build_sections

CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222; margin: 0; }
main { max-width: 1200px; margin: 0 auto; padding: 1.5rem 2rem 4rem; }
h1 { font-size: 1.6rem; margin-bottom: .3rem; } h2 { border-bottom: 1px solid #ddd; padding-bottom: .2rem;
margin-top: 2.2rem; } nav a { margin-right: .8rem; white-space: nowrap; }
table { border-collapse: collapse; margin: .6rem 0 1rem; font-size: 12.5px; display: block; overflow-x: auto; }
th, td { border: 1px solid #ddd; padding: .25rem .5rem; vertical-align: top; }
th { background: #f4f4f4; text-align: left; } td.r { text-align: right; font-variant-numeric: tabular-nums; }
tr:nth-child(even) td { background: #fafafa; } figure { margin: 1rem 0; }
figure img { max-width: 100%; border: 1px solid #eee; } figcaption { color: #555; font-size: 12.5px; }
pre { background: #f6f6f6; padding: .6rem; overflow-x: auto; font-size: 12px; }
code { background: #f3f3f3; padding: 0 .2rem; }
"""


def _inline(text: str) -> str:
    """Escape text, then turn **bold** and `code` marks into tags."""
    escaped = html.escape(str(text))
    escaped = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", escaped)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", escaped)


def _image(out_dir: Path, relative: str) -> str:
    data = base64.b64encode((out_dir / relative).read_bytes()).decode("ascii")
    return f"data:image/png;base64,{data}"


def _blocks(blocks: list, figures: dict, out_dir: Path) -> list[str]:
    parts = []
    for block in blocks:
        kind = block[0]
        if kind == "h":
            parts.append(f"<h3>{_inline(block[1])}</h3>")
        elif kind == "p":
            parts.append(f"<p>{_inline(block[1])}</p>")
        elif kind == "list":
            parts.append("<ul>" + "".join(f"<li>{_inline(item)}</li>" for item in block[1]) + "</ul>")
        elif kind == "table":
            headers, rows, aligns = block[1:]
            head = "".join(f"<th>{_inline(h)}</th>" for h in headers)
            body = "".join(
                "<tr>" + "".join(f'<td class="{a}">{_inline(c)}</td>' for c, a in zip(row, aligns)) + "</tr>"
                for row in rows)
            parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        elif kind == "code":
            parts.append(f"<pre>{html.escape(block[1])}</pre>")
        elif kind == "figure" and block[1] in figures:
            figure = figures[block[1]]
            parts.append(f'<figure><img src="{_image(out_dir, figure["png"])}" alt="{html.escape(figure["caption"])}">'
                         f'<figcaption>{_inline(figure["caption"])} (<a href="{figure["svg"]}">SVG</a>)</figcaption>'
                         "</figure>")
    return parts


def render_html(board: dict, figures: dict, out_dir: Path) -> str:
    """The page; figures are read from out_dir and embedded."""
    sections = build_sections(board)
    title = f"Leaderboard: suite {board['suite']}"
    heading = f"Leaderboard: suite `{board['suite']}`"
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body><main>",
        f"<h1>{_inline(heading)}</h1>",
        *_blocks(overview(board), figures, out_dir),
        "<nav>" + "\n".join(f'<a href="#{anchor}">{html.escape(t)}</a>' for anchor, t, _ in sections) + "</nav>",
    ]
    for anchor, section_title, blocks in sections:
        parts.append(f'<section id="{anchor}"><h2>{html.escape(section_title)}</h2>')
        parts += _blocks(blocks, figures, out_dir)
        parts.append("</section>")
    parts.append("</main></body></html>")
    return "\n".join(parts) + "\n"
