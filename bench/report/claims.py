"""Claims as data: each claim in claims.toml (or a user's file) names a test of claim_tests.py and
its parameters; the test returns a verdict (supported, contradicted, inconclusive), its statistic,
the datasets it rests on and its method.

A test is inconclusive, never supported, when the data cannot decide: too few datasets for the
test to reach its alpha (each test states how many it needs, computed from its own procedure),
models missing from the run, or no significant difference. Each verdict is a test at level alpha:
with no effect at all, false supported and false contradicted verdicts each come at most at rate
alpha. A side that names a family is the family's declared representative, never the best of its
members, so that both sides had the same tuning budget; variants never stand for a family. Claims
read the cells section 1 reads: a fold that failed or never ran counts as the constant predictor's
score, so that a side that fails on hard datasets is not flattered, and each summary names the
datasets where a side's cell holds imputed folds; a cell incomplete even so is left out, and so is
every dataset that carries no signal (section 2). Tuning effort is measured on the folds that ran.
"""
from __future__ import annotations

import tomllib
from pathlib import Path

from bench.report import claim_learning_rates, claim_sizes, claim_tests
from bench.report.claim_tests import ALPHA
from bench.report.families import representative_text

# Every test a claim can name, with the parameters it needs and their checks, from the modules that hold them.
TESTS = {**claim_tests.TESTS, **claim_sizes.TESTS, **claim_learning_rates.TESTS}
REQUIRED = {**claim_tests.REQUIRED, **claim_sizes.REQUIRED, **claim_learning_rates.REQUIRED}
CHECKS = {**claim_tests.CHECKS, **claim_sizes.CHECKS, **claim_learning_rates.CHECKS}

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
        if not isinstance(claim.get("suite", ""), str):  # optional: the suite whose run decides the claim
            raise ClaimError(f"{path}: {name}: `suite` must be a string (a suite's name)")
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
    alpha = claim["params"].get("alpha", ALPHA)
    if not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
        raise ClaimError(f"{where}: {name}: `alpha` must be in (0, 1), got {alpha!r}")
    problems = CHECKS[claim["test"]](claim["params"])
    if problems:
        raise ClaimError(f"{where}: {name}: " + "; ".join(problems))


def evaluate_claims(board: dict, units: list[dict], trials_by_unit: dict, claims: list[dict] | None = None) -> dict:
    """Every claim with its verdict (the packaged claims unless `claims` is given)."""
    claims = load_claims() if claims is None else claims
    out = []
    for claim in claims:
        check_claim(claim)
        entry = {"id": claim["id"], "statement": claim["statement"], "test": claim["test"],
                 "params": claim["params"], "suite": claim.get("suite")}
        entry.update(TESTS[claim["test"]](board, units, trials_by_unit, entry["params"]))
        entry["rests_on"] = rests_on(entry["suite"], board.get("suite"))
        out.append(entry)
    method = __doc__.split("\n\n", 1)[1].replace("\n", " ").strip()
    return {"method": f"{method} Declared representatives: {representative_text()}.", "alpha": ALPHA, "claims": out}


def rests_on(declared: str | None, run_suite: str | None) -> str:
    """Which suite's results a verdict rests on, in words: this run's, and whether that is the suite the claim
    names as the one that decides it."""
    this = f"this run (suite `{run_suite}`)" if run_suite else "this run"
    if declared is None:
        return this
    if declared == run_suite:
        return f"{this}, the suite that decides it"
    return f"{this}; the suite that decides it is `{declared}`"


def render(board: dict) -> list:
    """Section 9: every claim with its verdict, statistic, datasets and the suite it rests on."""
    c = board["claims"]
    rows = [[e["statement"], f"**{e['verdict']}**", e["summary"], ", ".join(e["datasets"]) or "—",
             e.get("rests_on") or rests_on(e.get("suite"), board.get("suite"))]
            for e in c["claims"]]
    methods = [f"*{e['statement']}* {e['method']}" for e in c["claims"] if e.get("method")]
    return [("table", ["claim", "verdict", "statistic", "datasets", "rests on"], rows, "lllll"),
            ("p", c["method"] + " Claims live in `bench/report/claims.toml`; add your own there."),
            ("p", "How each claim is tested:"), ("list", methods)]
