"""How the report writes numbers and budgets, in one place, so that every section writes them alike."""
from __future__ import annotations


def fmt(value, digits: int = 4) -> str:
    """A number as the report prints it; None as an em dash."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}f}"


def fmt_p(value) -> str:
    """A p-value to three significant digits; None as an em dash."""
    return "—" if value is None else f"{value:.3g}"


def budget_text(board: dict) -> str:
    """The run's budget per unit, e.g. "20 trials or 60 s per unit"."""
    parts = []
    if board["budget"]["trials"]:
        parts.append(f"{board['budget']['trials']} trials")
    if board["budget"]["seconds"]:
        parts.append(f"{board['budget']['seconds']:g} s")
    return " or ".join(parts) + " per unit"
