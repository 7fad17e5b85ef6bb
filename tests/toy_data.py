"""Toy cards and tables that the data-layer tests write: a CSV card, a good card to spoil, a user's file."""
from __future__ import annotations

from pathlib import Path

CSV_CARD = """\
source = "csv:table.csv"
task = "binary"
modality = "tabular"
target = "label"
categorical = ["colour"]
licence = "test data"
citation = "none"
"""

CSV_TABLE = """\
size,colour,shape,label
1.5,red,round,yes
,blue,square,no
3.0,,round,yes
4.5,red,,no
5.0,blue,square,
"""


def write_csv_card(folder: Path, name: str = "toy", card: str = CSV_CARD) -> Path:
    """CSV_TABLE as folder/table.csv and a card naming it as folder/<name>.toml."""
    (folder / "table.csv").write_text(CSV_TABLE)
    path = folder / f"{name}.toml"
    path.write_text(card)
    return path


GOOD_CARD = {
    "source": '"sklearn:wine"',
    "task": '"multiclass"',
    "modality": '"tabular"',
    "target": '"target"',
    "licence": '"x"',
    "citation": '"x"',
}


def write_card(folder: Path, file_stem: str = "card", **fields: str | None) -> Path:
    """GOOD_CARD with some fields replaced by TOML values, or left out where given None."""
    return write_fields(folder / f"{file_stem}.toml", {**GOOD_CARD, **fields})


def write_fields(path: Path, fields: dict[str, str | None]) -> Path:
    """A TOML file of `name = value` lines, values written as given; None leaves a field out."""
    path.write_text("".join(f"{k} = {v}\n" for k, v in fields.items() if v is not None))
    return path


USER_TABLE = """\
customer_id;city;age;income;bought
{rows}"""


def write_user_csv(folder: Path, rows: int = 40, name: str = "shop.csv") -> Path:
    """A semicolon-separated file with text, missing values and an ID column."""
    cities = ["Lyon", "Oslo", "Kyiv"]
    lines = [f"{1000 + 7 * i};{cities[i % 3] if i % 5 else ''};{20 + i % 30 if i % 4 else ''};"
             f"{1000 + 37 * i % 500}.5;{'yes' if i % 3 == 0 else 'no'}" for i in range(rows)]
    path = folder / name
    path.write_text(USER_TABLE.format(rows="\n".join(lines) + "\n"))
    return path
