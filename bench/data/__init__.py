"""Datasets: TOML cards, the sources they name, and a cache of encoded arrays.

A card (``datasets/<name>.toml``) says where a dataset comes from and what it
is. ``load(card)`` turns it into a ``Dataset`` of numeric features (float32,
NaN for missing), categorical codes (int64, -1 for missing) and a target (int64
class ids, or float64 for regression), built once and then read from the cache.

Besides packaged cards there are three ways in for a user's data:
``card_from_file`` (a CSV or Parquet file and a target column),
``openml_card`` (``openml:<dataset id>`` or ``openml:task/<task id>``), and a
folder of the team's own cards passed to ``catalogue(extra_dir)``.

The modules, in the order data flows through them (each imports only those above it):

- ``dataset``: the types handed on, ``DatasetCard``, ``Dataset`` and ``DataError``;
- ``fields``: the checks of one card field, shared by dataset and suite cards;
- ``files``: reading a user's CSV or Parquet file, the card it implies, task inference;
- ``sources``: one loader per source kind (``SOURCES``), and ``openml_card``;
- ``cards``: the dataset card schema and its strict checks, the catalogue;
- ``suites``: suite cards (datasets, models, budget), checked the same way;
- ``hygiene``: constant, ID-like and leaking columns; duplicate rows;
- ``encoding``: ``build``, from a source's table to a ``Dataset``;
- ``cache``: ``load``, the cache of encoded arrays and the hash that keys it;
- ``metafeatures``: what kind of data a dataset is, computed from its arrays;
- ``summary``: one catalogue row per dataset, meta-features cached.

The names below are the layer's public face; suites are imported from
``bench.data.suites``, hygiene and meta-features from their own modules.
"""
from bench.data.cache import CACHE_FORMAT, cache_entry, card_hash, default_cache_dir, load
from bench.data.cards import catalogue, load_card, packaged_cards_dir
from bench.data.dataset import DataError, Dataset, DatasetCard
from bench.data.encoding import build, position_permutation
from bench.data.files import FILE_KINDS, card_from_file, infer_task, read_table
from bench.data.sources import SOURCES, mnist1d_permutation, openml_card, sktime_problems
from bench.data.summary import dataset_summary

__all__ = [
    "CACHE_FORMAT", "FILE_KINDS", "SOURCES", "DataError", "Dataset", "DatasetCard", "build", "cache_entry",
    "card_from_file", "card_hash", "catalogue", "dataset_summary", "default_cache_dir", "infer_task", "load",
    "load_card", "mnist1d_permutation", "openml_card", "packaged_cards_dir", "position_permutation", "read_table",
    "sktime_problems",
]
