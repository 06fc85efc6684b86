import pickle

import numpy as np
import pytest

from dd2424 import io
from dd2424.data import archive, cifar, splits, synthetic


def test_synthetic_batches_have_the_exact_cifar_format(cifar_dir):
    names = sorted(p.name for p in cifar_dir.iterdir())
    assert names == sorted([*cifar.TRAIN_BATCHES, cifar.TEST_BATCH, "batches.meta"])
    with open(cifar_dir / "data_batch_1", "rb") as f:
        batch = pickle.load(f, encoding="bytes")
    assert set(batch) == {b"batch_label", b"labels", b"data", b"filenames"}
    assert batch[b"data"].dtype == np.uint8 and batch[b"data"].shape == (200, 3072)
    assert isinstance(batch[b"labels"], list) and isinstance(batch[b"labels"][0], int)
    with open(cifar_dir / "batches.meta", "rb") as f:
        meta = pickle.load(f, encoding="bytes")
    assert meta[b"label_names"][0] == b"airplane" and meta[b"num_vis"] == 3072


def test_synthetic_data_round_trips_through_the_loader(cifar_dir):
    X, y = cifar.load_batch(cifar_dir / "test_batch")
    assert X.shape == (100, 3072) and X.dtype == np.uint8
    assert y.dtype == np.int64 and sorted(set(y.tolist())) == list(range(10))
    assert cifar.load_label_names(cifar_dir / "batches.meta") == list(cifar.LABEL_NAMES)


def test_synthetic_data_is_seeded(tmp_path, cifar_dir):
    synthetic.write_synthetic_cifar(tmp_path, n_per_batch=200, n_test=100, seed=7)
    for name in ("data_batch_3", "test_batch"):
        a, b = cifar.load_batch(tmp_path / name), cifar.load_batch(cifar_dir / name)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])


def test_write_then_load_preserves_pixels_and_labels(tmp_path, rng):
    X = rng.integers(0, 256, size=(7, 3072), dtype=np.uint8)
    y = [3, 1, 4, 1, 5, 9, 2]
    cifar.write_batch(tmp_path / "b", X, y, "x")
    X2, y2 = cifar.load_batch(tmp_path / "b")
    np.testing.assert_array_equal(X2, X)
    assert y2.tolist() == y


@pytest.mark.parametrize(
    "batch,message",
    [
        ({b"data": np.zeros((2, 3072), np.float32), b"labels": [0, 1]}, "uint8"),
        ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0]}, "labels"),
        ({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}, "3072"),
        ({b"data": np.zeros((1, 3072), np.uint8), b"labels": [10]}, "outside"),
        ({"data": 1}, "not a CIFAR-10"),
    ],
)
def test_malformed_batches_are_rejected(tmp_path, batch, message):
    with open(tmp_path / "bad", "wb") as f:
        pickle.dump(batch, f)
    with pytest.raises(ValueError, match=message):
        cifar.load_batch(tmp_path / "bad")


def test_column_stats_match_numpy_with_n_minus_1(rng):
    X = rng.integers(0, 256, size=(1000, 50), dtype=np.uint8)
    mean, std = splits.column_stats(X, chunk=64)
    np.testing.assert_allclose(mean, X.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(std, X.std(axis=0, ddof=1), rtol=1e-10)


def test_preprocess_uses_training_statistics_for_every_part(cifar_dir):
    split = splits.Split(train=("data_batch_1",), val=("data_batch_2",))
    out = splits.preprocess(cifar_dir, split)
    X_tr_raw, y_tr = cifar.load_batch(cifar_dir / "data_batch_1")
    X_va_raw, _ = cifar.load_batch(cifar_dir / "data_batch_2")
    scaled = X_tr_raw / 255.0
    mean, std = scaled.mean(axis=0), scaled.std(axis=0, ddof=1)
    np.testing.assert_allclose(out["mean"], mean, rtol=1e-5)
    np.testing.assert_allclose(out["std"], std, rtol=1e-5)
    np.testing.assert_allclose(out["X_val"], (X_va_raw / 255.0 - mean) / std, atol=1e-4)
    assert out["X_train"].dtype == np.float32 and out["X_train"].flags.c_contiguous
    np.testing.assert_allclose(out["X_train"].mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(out["X_train"].std(axis=0, ddof=1), 1, atol=1e-4)
    np.testing.assert_array_equal(out["y_train"], y_tr)
    assert out["X_test"].shape == (100, 3072)


def test_held_out_validation_takes_exact_sizes_from_the_end_of_the_pool(cifar_dir):
    split = splits.Split(train=cifar.TRAIN_BATCHES, val_size=150)
    out = splits.preprocess(cifar_dir, split)
    assert len(out["X_train"]) == 850 and len(out["X_val"]) == 150
    _, y5 = cifar.load_batch(cifar_dir / "data_batch_5")
    np.testing.assert_array_equal(out["y_val"], y5[-150:])


@pytest.mark.parametrize(
    "kwargs",
    [{"train": ("data_batch_1",)}, {"train": ("data_batch_1",), "val": ("x",), "val_size": 5}],
)
def test_split_needs_exactly_one_validation_source(kwargs):
    with pytest.raises(ValueError, match="exactly one"):
        splits.Split(**kwargs)


def test_validation_cannot_swallow_the_training_pool(cifar_dir):
    with pytest.raises(ValueError, match="leaves 0 training samples"):
        splits.preprocess(cifar_dir, splits.Split(train=("data_batch_1",), val_size=200))


def test_archive_round_trip(tmp_path, cifar_dir):
    tarball = tmp_path / "cifar-10-python.tar.gz"
    archive.pack_archive(cifar_dir, tarball)
    archive.extract_archive(tarball, tmp_path / "out", ["data_batch_2", "batches.meta"])
    assert (tmp_path / "out" / "data_batch_2").read_bytes() == (
        cifar_dir / "data_batch_2"
    ).read_bytes()
    with pytest.raises(ValueError, match="no cifar-10-batches-py/nope"):
        archive.extract_archive(tarball, tmp_path / "out", ["nope"])


def test_split_files_round_trip(tmp_path, rng):
    arrays = {"X_train": rng.standard_normal((3, 4)).astype(np.float32), "y_train": np.arange(3)}
    io.save_arrays(tmp_path / "s.npz", arrays)
    back = io.load_arrays(tmp_path / "s.npz")
    assert back.keys() == arrays.keys() and back["X_train"].dtype == np.float32
    assert not list(tmp_path.glob("*.part*"))


def test_synthetic_data_without_placement_is_unchanged(tmp_path, cifar_dir):
    """shift = 0 and mirror = False write the very bytes of the plain generator."""
    synthetic.write_synthetic_cifar(
        tmp_path, n_per_batch=200, n_test=100, seed=7, shift=0, mirror=False
    )
    for name in ("data_batch_1", "test_batch"):
        assert (tmp_path / name).read_bytes() == (cifar_dir / name).read_bytes()


def test_placed_patterns_are_moved_and_mirrored_copies_of_the_prototype(rng):
    protos = rng.normal(0, 20, size=(2, 3072))
    X, y = synthetic.synthetic_images(
        200, np.random.default_rng(3), protos, protos[:1] * 0, 0.0, 3, True
    )
    # without noise or nuisance, every image is its class prototype, placed: compare with all
    # 2 x 7 x 7 placements of it
    keys = np.array([(m, dy, dx) for m in (0, 1) for dy in range(-3, 4) for dx in range(-3, 4)])
    n = len(keys)
    found = set()
    for c in (0, 1):
        placed = synthetic.place(
            np.repeat(protos[c : c + 1], n, 0), keys[:, 0] == 1, keys[:, 1], keys[:, 2]
        )
        candidates = np.clip(np.rint(127.5 + placed), 0, 255).astype(np.uint8)
        for image in X[y == c]:
            match = np.flatnonzero((candidates == image).all(axis=1))
            assert len(match), "an image is not a placed prototype of its class"
            found.add(tuple(keys[match[0]]))
    assert len(found) > 50  # placements vary (98 possible)
