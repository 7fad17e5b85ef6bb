import json
import os
import sqlite3
import subprocess
import sys
import time

from sklearn.datasets import load_breast_cancer

from bench.advise import recommend


def test_advise_finishes_in_budget_and_recommends_the_best_scoring_family(tmp_path, cache_dir):
    csv = tmp_path / "tumours.csv"
    load_breast_cancer(as_frame=True).frame.to_csv(csv, index=False)
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "bench", "advise", str(csv), "--target", "target", "--seconds", "20",
         "--out", str(tmp_path / "advice"), "--reference", str(tmp_path / "none.json"), "--no-progress"],
        capture_output=True, text=True, timeout=300, env={**os.environ, "BENCH_CACHE": str(cache_dir)})
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr[-3000:]
    advice = json.loads((tmp_path / "advice" / "advice.json").read_text())
    # Each unit keeps to its share of the budget (the trial running at the deadline stops there) ...
    units = sqlite3.connect(tmp_path / "advice" / "results.sqlite").execute("SELECT wall_s FROM units").fetchall()
    assert len(units) == 9 and all(wall < advice["budget_s"] + 10 for (wall,) in units)
    # ... and the whole command, start-up included (cluster, fork servers, meta-features), stays near it.
    assert elapsed < 20 + 120
    scored = [r for r in advice["results"] if r["score"] is not None]
    assert {r["family"] for r in scored} == {"tree", "deep", "classical"}
    best = max(scored, key=lambda r: r["score"])
    assert advice["recommendation"]["family"] == best["family"]
    assert "Recommendation:" in (tmp_path / "advice" / "advice.md").read_text()


def test_advise_refuses_a_bad_file_with_one_line(tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("just some words\n")
    result = subprocess.run([sys.executable, "-m", "bench", "advise", str(bad), "--target", "y"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and str(bad) in result.stderr and "Traceback" not in result.stderr


def row(model, family, score, half, tuning_s=1.0):
    return {"model": model, "family": family, "score": score, "ci_low": score - half, "ci_high": score + half,
            "tuning_s": tuning_s}


def test_recommendation_is_clear_only_without_overlap():
    clear = recommend([row("lightgbm", "tree", 0.90, 0.01), row("mlp", "deep", 0.80, 0.01)])
    assert (clear["family"], clear["strength"]) == ("tree", "clear")
    tie = recommend([row("mlp", "deep", 0.90, 0.05, tuning_s=9), row("linear", "classical", 0.88, 0.05, tuning_s=1)])
    assert (tie["family"], tie["strength"], tie["cheaper"]) == ("deep", "tie", "linear")
