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
    best, runner_up = sorted(scored, key=lambda r: -r["score"])[:2]
    recommendation = advice["recommendation"]
    if recommendation["strength"] == "clear":
        assert recommendation["family"] == best["family"]
    else:  # a tie on the same folds recommends the cheaper of the two
        assert recommendation["strength"] == "tie"
        cheaper = min((best, runner_up), key=lambda r: r["tuning_s"])
        assert (recommendation["model"], recommendation["family"]) == (cheaper["model"], cheaper["family"])
    assert "Recommendation:" in (tmp_path / "advice" / "advice.md").read_text()


def test_advise_refuses_a_bad_file_with_one_line(tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("just some words\n")
    result = subprocess.run([sys.executable, "-m", "bench", "advise", str(bad), "--target", "y"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and str(bad) in result.stderr and "Traceback" not in result.stderr


def row(model, family, fold_scores, tuning_s=1.0, baseline=0.5):
    return {"model": model, "family": family, "score": sum(fold_scores) / len(fold_scores), "status": "ok",
            "tuning_s": tuning_s, "folds": [{"fold": i, "score": v, "baseline_score": baseline, "imputed": None}
                                            for i, v in enumerate(fold_scores)]}


def test_recommendation_is_clear_only_when_the_paired_folds_say_so():
    clear = recommend([row("lightgbm", "tree", [0.90, 0.91, 0.92]), row("mlp", "deep", [0.80, 0.80, 0.83])])
    assert (clear["family"], clear["strength"]) == ("tree", "clear")
    # Intervals that would overlap, but every fold ahead by the same margin: paired, that is clear.
    paired = recommend([row("lightgbm", "tree", [0.80, 0.90, 0.85]), row("mlp", "deep", [0.79, 0.89, 0.84])])
    assert paired["strength"] == "clear"
    tie = recommend([row("mlp", "deep", [0.90, 0.85, 0.95], tuning_s=9),
                     row("linear", "classical", [0.92, 0.80, 0.92], tuning_s=1)])
    # A tie recommends the cheaper model, as its sentence says.
    assert (tie["family"], tie["model"], tie["strength"], tie["cheaper"]) == ("classical", "linear", "tie", "linear")


def test_no_family_is_recommended_when_nothing_beats_the_constant_predictor():
    advice = recommend([row("lightgbm", "tree", [0.52, 0.47, 0.51]), row("mlp", "deep", [0.49, 0.50, 0.48])])
    assert (advice["family"], advice["strength"]) == (None, "none")
    assert "constant predictor" in advice["reason"]


def test_a_failed_model_is_never_recommended_on_its_imputed_score():
    failed = {**row("svm", "classical", [0.99, 0.99, 0.99]), "status": "failed"}
    advice = recommend([failed, row("lightgbm", "tree", [0.90, 0.91, 0.92]), row("mlp", "deep", [0.80, 0.80, 0.83])])
    assert advice["model"] == "lightgbm"


def test_the_reference_is_found_from_any_folder(tmp_path, monkeypatch):
    from bench.advise import reference_board

    monkeypatch.chdir(tmp_path)  # outside the checkout: the packaged reference still answers
    board = reference_board(None)
    assert board is not None and board["results"] and board["suite"] == "standard"
