"""The committed reference leaderboard is what its committed export rebuilds, to the byte."""
import json
from pathlib import Path

import pytest

from bench.export import import_export
from bench.report import write_report
from bench.store import Store

REFERENCE = Path(__file__).resolve().parent.parent / "reports" / "standard"


@pytest.mark.skipif(not (REFERENCE / "results.jsonl.gz").exists(), reason="no committed reference export")
def test_the_committed_export_rebuilds_the_committed_leaderboard(tmp_path):
    store = Store(tmp_path / "results.sqlite")
    run_id = import_export(REFERENCE / "results.jsonl.gz", store)
    rebuilt = write_report(store, run_id, tmp_path / "report")
    committed = json.loads((REFERENCE / "leaderboard.json").read_text())
    assert json.loads(json.dumps(rebuilt)) == committed
    assert (tmp_path / "report" / "leaderboard.md").read_text() == (REFERENCE / "leaderboard.md").read_text()
