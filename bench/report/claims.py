"""Claims as data: each claim in claims.toml (or a user's file) names a test of claim_tests.py and
its parameters; the test returns a verdict (supported, contradicted, inconclusive), its statistic
and the datasets it rests on.

A test is inconclusive, never supported, when the data cannot decide: too few datasets for the
test to reach its alpha, models missing from the run, or no significant difference.
"""
from __future__ import annotations

import tomllib
from pathlib import Path

from bench.report.claim_tests import ALPHA, REQUIRED, TESTS

CLAIMS_FILE = Path(__file__).with_name("claims.toml")


class ClaimError(ValueError):
    """A claims file or claim the report cannot use; the message names the claim and the field."""


def load_claims(path: Path | None = None) -> list[dict]:
    """The claims of a TOML file (default: the packaged claims.toml), checked."""
    path = Path(path) if path else CLAIMS_FILE
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ClaimError(f"cannot read claims from {path}: {error}") from None
    claims = raw.get("claim", [])
    for i, claim in enumerate(claims):
        name = claim.get("id", f"claim #{i + 1}")
        for field in ("id", "statement", "test"):
            if not isinstance(claim.get(field), str):
                raise ClaimError(f"{path}: {name}: `{field}` must be a string")
        check_claim(claim, str(path))
    return claims


def check_claim(claim: dict, where: str = "claims") -> None:
    """Fail with a readable message when a claim names an unknown test or lacks a parameter."""
    name = claim.get("id", "a claim")
    if claim.get("test") not in TESTS:
        raise ClaimError(f"{where}: {name}: unknown test {claim.get('test')!r}; valid: {', '.join(sorted(TESTS))}")
    claim.setdefault("params", {})
    missing = [p for p in REQUIRED[claim["test"]] if p not in claim["params"]]
    if missing:
        raise ClaimError(f"{where}: {name}: test {claim['test']} needs parameter(s) {', '.join(missing)}")


def evaluate_claims(board: dict, units: list[dict], trials_by_unit: dict, claims: list[dict] | None = None) -> dict:
    """Every claim with its verdict (the packaged claims unless `claims` is given)."""
    claims = load_claims() if claims is None else claims
    out = []
    for claim in claims:
        check_claim(claim)
        entry = {"id": claim["id"], "statement": claim["statement"], "test": claim["test"],
                 "params": claim["params"]}
        entry.update(TESTS[claim["test"]](board, units, trials_by_unit, entry["params"]))
        out.append(entry)
    return {"method": __doc__.split("\n\n", 1)[1].replace("\n", " ").strip(), "alpha": ALPHA, "claims": out}


def render(board: dict) -> list:
    """Section 9: every claim with its verdict, statistic and datasets."""
    c = board["claims"]
    rows = [[e["statement"], f"**{e['verdict']}**", e["summary"], ", ".join(e["datasets"]) or "—"]
            for e in c["claims"]]
    return [("table", ["claim", "verdict", "statistic", "datasets"], rows, "llll"),
            ("p", c["method"] + " Claims live in `bench/report/claims.toml`; add your own there.")]
