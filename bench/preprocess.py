"""Feature preprocessing for models that need a dense float matrix (linear models, nets).

Everything is fit on the training part only and then applied unchanged to the
validation and test parts, so no statistic of held-out rows leaks into a trial.

- numeric columns: median imputation (plus a 0/1 missing indicator for each
  column that had a missing value in train), then standard scaling, or the
  quantile-normal transform that Gorishniy et al. 2021 ("Revisiting deep
  learning models for tabular data", NeurIPS) use for their nets.
- images and sequences: their flat pixel columns share one unit, so they are
  scaled by one mean and one std over all pixels; per-pixel scaling would blow
  up a pixel that happens to be constant in train (an MNIST border, say). With
  several channels (shape (C, ...), C > 1) each channel gets its own mean and
  std over all its training values, as image nets normalise RGB per channel:
  channels may be in different units (BasicMotions' accelerometer and
  gyroscope). One channel is scaled exactly as before.
- categorical codes: one-hot over the most frequent ``max_categories`` codes
  seen in train; unseen, rare and missing codes (-1) become all zeros. Or, for
  nets that embed categoricals, ``categorical="codes"``: one column per
  feature holding 1 + the code's position among the kept codes, and 0 for an
  unseen, rare or missing code (a float, exact for any cardinality the encoder
  keeps); ``cat_cardinalities`` then gives each column's number of values.
"""
from __future__ import annotations

import numpy as np

NUMERIC_SCALINGS = ("standard", "quantile")
CATEGORICAL_ENCODINGS = ("one-hot", "codes")


class FeatureEncoder:
    """Fit on a train ``Part``; ``transform`` returns a float32 matrix for any part.

    ``numeric``: "standard" or "quantile" (tabular data only; images and
    sequences always get one mean/std, per channel when there are several). ``categorical``: "one-hot" or
    "codes" (see the module docstring); codes come last, after the numeric
    columns and missing indicators (``n_numeric_out`` of them).
    ``max_categories``: codes kept per categorical feature.
    """

    def __init__(self, numeric: str = "standard", max_categories: int = 64, seed: int = 0, categorical: str = "one-hot"):
        if numeric not in NUMERIC_SCALINGS:
            raise ValueError(f"numeric must be one of {NUMERIC_SCALINGS}, got {numeric!r}")
        if categorical not in CATEGORICAL_ENCODINGS:
            raise ValueError(f"categorical must be one of {CATEGORICAL_ENCODINGS}, got {categorical!r}")
        if max_categories < 1:
            raise ValueError(f"max_categories must be >= 1, got {max_categories}")
        self.numeric = numeric
        self.categorical = categorical
        self.max_categories = max_categories
        self.seed = seed

    def fit(self, part, info) -> FeatureEncoder:
        X = np.asarray(part.X_num, dtype=np.float64)
        self.pixels = info.modality != "tabular"
        missing = np.isnan(X)
        self.medians = _nan_median(X)
        self.indicator_cols = np.flatnonzero(missing.any(axis=0)) if not self.pixels else np.array([], int)
        X = np.where(missing, self.medians, X)
        self.quantile = None
        if self.pixels:
            self.mean, self.std = _pixel_scale(X, info.shape)
        elif self.numeric == "quantile" and X.shape[1] > 0:
            from sklearn.preprocessing import QuantileTransformer

            # n_quantiles as in Gorishniy et al.'s code: about 30 rows per quantile, 10..1000.
            n_quantiles = max(min(len(X) // 30, 1000), 10)
            self.quantile = QuantileTransformer(
                n_quantiles=min(n_quantiles, len(X)),
                output_distribution="normal",
                subsample=1_000_000_000,
                random_state=self.seed,
            ).fit(X)
        else:
            self.mean = X.mean(axis=0)
            self.std = _safe_std(X.std(axis=0))
        self.categories = [_kept_codes(col, self.max_categories) for col in np.asarray(part.X_cat).T]
        self.n_numeric_out = X.shape[1] + len(self.indicator_cols)
        self.cat_cardinalities = tuple(len(kept) + 1 for kept in self.categories)  # 0 = unseen, rare or missing
        return self

    def transform(self, part) -> np.ndarray:
        X = np.asarray(part.X_num, dtype=np.float64)
        missing = np.isnan(X)
        X = np.where(missing, self.medians, X)
        if self.quantile is not None:
            X = self.quantile.transform(X)
        else:
            X = (X - self.mean) / self.std
        blocks = [X, missing[:, self.indicator_cols]]
        for codes, kept in zip(np.asarray(part.X_cat).T, self.categories):
            blocks.append(_one_hot(codes, kept) if self.categorical == "one-hot" else _positions(codes, kept)[:, None])
        return np.ascontiguousarray(np.hstack(blocks), dtype=np.float32)

    def fit_transform(self, part, info) -> np.ndarray:
        return self.fit(part, info).transform(part)


def _pixel_scale(X: np.ndarray, shape: tuple[int, ...] | None):
    """One mean and std over all pixels; per channel (one value per column) when C > 1."""
    channels = shape[0] if shape else 1
    if channels == 1 or not X.size or X.shape[1] % channels:
        return (np.float64(X.mean()) if X.size else 0.0), _safe_std(np.float64(X.std()) if X.size else 1.0)
    by_channel = X.reshape(len(X), channels, -1)  # flat columns are channel-major: (C, H, W) or (C, L)
    mean = by_channel.mean(axis=(0, 2))
    std = _safe_std(by_channel.std(axis=(0, 2)))
    per_column = X.shape[1] // channels
    return np.repeat(mean, per_column), np.repeat(std, per_column)


def _nan_median(X: np.ndarray) -> np.ndarray:
    """Column medians ignoring NaN; 0 for a column with no observed value."""
    medians = np.zeros(X.shape[1])
    observed = ~np.isnan(X).all(axis=0)
    if observed.any():
        medians[observed] = np.nanmedian(X[:, observed], axis=0)
    return medians


def _safe_std(std):
    # a constant column carries no information; dividing by 1 keeps it finite
    return np.where(std > 1e-12, std, 1.0)


def _kept_codes(codes: np.ndarray, max_categories: int) -> np.ndarray:
    """The most frequent non-missing codes, at most ``max_categories``, in code order."""
    codes = codes[codes >= 0]
    values, counts = np.unique(codes, return_counts=True)
    order = np.argsort(-counts, kind="stable")[:max_categories]
    return np.sort(values[order])


def _positions(codes: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """1 + the position of each code among ``kept``; 0 for missing (-1), unseen and rare codes."""
    out = np.zeros(len(codes), dtype=np.float64)
    if len(kept) == 0:
        return out
    position = np.minimum(np.searchsorted(kept, codes), len(kept) - 1)
    hit = kept[position] == codes
    out[hit] = position[hit] + 1
    return out


def _one_hot(codes: np.ndarray, kept: np.ndarray) -> np.ndarray:
    out = np.zeros((len(codes), len(kept)), dtype=np.float64)
    if len(kept) == 0:
        return out
    position = np.searchsorted(kept, codes)
    position = np.minimum(position, len(kept) - 1)
    hit = kept[position] == codes  # False for -1, unseen and rare codes
    out[np.flatnonzero(hit), position[hit]] = 1.0
    return out
