import numpy as np
import pytest

from bench.splits import make_splits, outer_folds, training_subsets, validation_size, validation_subsets


@pytest.fixture
def labels():
    rng = np.random.default_rng(0)
    return rng.choice(3, size=600, p=[0.6, 0.3, 0.1])


@pytest.mark.parametrize("folds", [1, 3, 5])
def test_parts_are_disjoint_and_cover_each_fold(labels, folds):
    splits = make_splits(labels, "multiclass", folds=folds, seed=1)
    assert len(splits) == folds
    for split in splits:
        parts = [set(split.train), set(split.valid), set(split.test)]
        assert not parts[0] & parts[1] and not parts[0] & parts[2] and not parts[1] & parts[2]
        assert len(parts[0] | parts[1] | parts[2]) == len(labels)


def test_outer_test_parts_partition_the_rows(labels):
    tests = [test for _, test in outer_folds(labels, "multiclass", folds=4, seed=0)]
    joined = np.sort(np.concatenate(tests))
    assert np.array_equal(joined, np.arange(len(labels)))


def test_stratification_keeps_class_shares(labels):
    overall = np.bincount(labels) / len(labels)
    for split in make_splits(labels, "multiclass", folds=3, seed=0):
        for part in (split.train, split.valid, split.test):
            share = np.bincount(labels[part], minlength=3) / len(part)
            assert np.allclose(share, overall, atol=0.03)


def test_same_seed_same_splits_other_seed_other_splits(labels):
    a = make_splits(labels, "multiclass", folds=3, seed=7)
    b = make_splits(labels, "multiclass", folds=3, seed=7)
    c = make_splits(labels, "multiclass", folds=3, seed=8)
    assert all(np.array_equal(x.test, y.test) and np.array_equal(x.train, y.train) for x, y in zip(a, b))
    assert not all(np.array_equal(x.test, y.test) for x, y in zip(a, c))


def test_train_cap_shrinks_validation_in_proportion_and_keeps_test(labels):
    full = make_splits(labels, "multiclass", folds=2, seed=0)
    capped = make_splits(labels, "multiclass", folds=2, seed=0, max_train=50)
    for f, c in zip(full, capped):
        assert len(c.train) == 50 and set(c.train) <= set(f.train)
        # 80/20 like the inner split: 50 training rows come with 13 validation rows, not the whole part
        assert len(c.valid) == validation_size(50) == 13 and set(c.valid) <= set(f.valid)
        assert np.array_equal(f.test, c.test)
        assert set(np.unique(labels[c.valid])) == {0, 1, 2}  # stratified


def test_learning_curve_validation_parts_are_nested_and_proportional(labels):
    split = make_splits(labels, "multiclass", folds=1, seed=0)[0]
    sizes = (20, 100, 300)
    trains = training_subsets(split.train, sizes, seed=3)
    valids = validation_subsets(split.valid, sizes, seed=3)
    assert [len(valids[s]) for s in sizes] == [5, 25, 75]
    assert set(valids[20]) <= set(valids[100]) <= set(valids[300]) <= set(split.valid)
    assert all(set(trains[s]) <= set(split.train) for s in sizes)


def test_regression_uses_plain_folds():
    y = np.linspace(0, 1, 100)
    splits = make_splits(y, "regression", folds=5, seed=0)
    assert sorted(len(s.test) for s in splits) == [20] * 5


def test_a_published_test_split_is_the_one_outer_fold(labels):
    test = np.arange(500, 600)
    for folds in (1, 3, 5):
        splits = make_splits(labels, "multiclass", folds=folds, seed=0, test=test)
        assert len(splits) == 1 and splits[0].fold == 0
        np.testing.assert_array_equal(splits[0].test, test)
        inner = np.sort(np.concatenate([splits[0].train, splits[0].valid]))
        np.testing.assert_array_equal(inner, np.arange(500))  # validation is carved from the training rows
        assert len(splits[0].valid) == 100  # VALID_FRACTION of 500


def test_a_published_split_still_caps_training_rows(labels):
    split = make_splits(labels, "multiclass", folds=3, seed=0, max_train=50, test=np.arange(500, 600))[0]
    assert len(split.train) == 50 and len(split.valid) == validation_size(50) and len(split.test) == 100


@pytest.mark.parametrize("test", [np.array([], dtype=int), np.arange(600), np.array([-1, 3]), np.array([599, 600])])
def test_a_published_split_must_name_some_but_not_all_rows(labels, test):
    with pytest.raises(ValueError, match="published test split must name some but not all of the 600 rows"):
        make_splits(labels, "multiclass", folds=3, seed=0, test=test)


def test_mnist1d_paper_splits_as_published_4000_train_1000_test(cache_dir):
    from bench.data import catalogue, load

    dataset = load(catalogue()["mnist1d_paper"], cache_dir=cache_dir)
    np.testing.assert_array_equal(dataset.published_test, np.arange(4000, 5000))  # the package's x_test
    (split,) = make_splits(dataset.y, "multiclass", folds=3, seed=0, test=dataset.published_test)
    assert len(split.train) + len(split.valid) == 4000 and len(split.test) == 1000
    assert len(np.unique(dataset.y[split.test])) == 10
