"""Reference results produced by the suite and committed; installed as ``bench.reports`` so that
``bench advise`` finds the reference leaderboard from any folder (``REFERENCE``)."""
from importlib import resources

REFERENCE = resources.files(__name__) / "standard" / "leaderboard.json"
