"""On-the-fly augmentation (issue 10, item 4): the semantics the issue pins."""

import numpy as np
import pytest

from dd2424.data import augment


def _images(rng, n=6):
    return rng.standard_normal((n, 3072)).astype(np.float32)


def test_flipping_twice_is_the_identity(rng):
    X = _images(rng)
    np.testing.assert_array_equal(augment.flip(augment.flip(X)), X)
    F = augment.images(augment.flip(X))
    np.testing.assert_array_equal(F[:, :, :, 0], augment.images(X)[:, :, :, 31])


@pytest.mark.parametrize("dy,dx", [(2, -1), (-3, 0), (0, 4), (-1, -2)])
def test_translation_moves_pixel_i_j_of_every_channel_to_i_plus_dy_j_plus_dx(dy, dx, rng):
    X = _images(rng, 2)
    T = augment.images(augment.translate(X, dy, dx))
    src = augment.images(X)
    for c in range(3):
        for i in range(32):
            for j in range(32):
                if 0 <= i + dy < 32 and 0 <= j + dx < 32:
                    assert (T[:, c, i + dy, j + dx] == src[:, c, i, j]).all()
    # the uncovered rows and columns are the padding value 0 (the training mean)
    rows = range(dy) if dy > 0 else range(32 + dy, 32)
    cols = range(dx) if dx > 0 else range(32 + dx, 32)
    for i in rows:
        assert not T[:, :, i, :].any()
    for j in cols:
        assert not T[:, :, :, j].any()


def _batch(aug, X, idx, seed):
    out = np.empty((len(idx), 3072), X.dtype)
    augmenter = augment.BatchAugmenter(aug, X)
    rng = np.random.default_rng(seed)
    plan = augmenter.draw(len(idx), rng)
    order = idx[plan.order]
    augmenter.apply(order, plan, out)
    return out, order, plan


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_batch_augmenter_matches_the_plain_functions_image_by_image(dtype, rng):
    X = rng.standard_normal((40, 3072)).astype(dtype)
    idx = np.array([0, 39, 5, 17, 17, 3, 38, 1, 22, 30, 12, 0])  # incl. the first and last rows
    aug = augment.Augmentation(flip=True, translate=4)
    for seed in range(20):
        out, order, plan = _batch(aug, X, idx, seed)
        for p, i in enumerate(order):
            image = X[i : i + 1]
            if plan.flip[p]:
                image = augment.flip(image)
            expected = augment.translate(image, int(plan.dy[p]), int(plan.dx[p]))
            np.testing.assert_array_equal(out[p], expected[0], err_msg=f"seed {seed} pos {p}")
        assert sorted(order.tolist()) == sorted(idx.tolist())  # the same images, reordered
    assert {int(v) for v in plan.dy} <= set(range(-4, 5))


def test_labels_travel_with_their_images(rng):
    """The augmenter reorders the batch; the returned indices give the labels: an image that
    is its label's constant stays recognisable after a flip (no translation, so no padding)."""
    y = rng.integers(0, 10, 50)
    X = np.repeat(y[:, None], 3072, axis=1).astype(np.float32)
    augmenter = augment.BatchAugmenter(augment.Augmentation(flip=True), X)
    out = np.empty((20, 3072), np.float32)
    idx = augmenter(np.arange(20), np.random.default_rng(1), out)
    np.testing.assert_array_equal(out[:, 0], y[idx])  # labels gathered with idx match
    np.testing.assert_array_equal(y, X[:, 0])  # the labels themselves are untouched


def test_the_same_seed_gives_the_same_batch(rng):
    X = _images(rng, 30)
    aug = augment.Augmentation(flip=True, translate=2, brightness=0.2, contrast=0.3)
    a = _batch(aug, X, np.arange(10, 30), 7)
    b = _batch(aug, X, np.arange(10, 30), 7)
    c = _batch(aug, X, np.arange(10, 30), 8)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_photometric_jitter_is_c_x_plus_b_per_image(rng):
    X = _images(rng, 8)
    aug = augment.Augmentation(brightness=0.5, contrast=0.4)
    out, order, plan = _batch(aug, X, np.arange(8), 3)
    assert (np.abs(plan.brightness) <= 0.5).all() and (np.abs(plan.contrast - 1) <= 0.4).all()
    expected = X[order] * plan.contrast[:, None].astype(np.float32)
    expected += plan.brightness[:, None].astype(np.float32)
    np.testing.assert_allclose(out, expected, rtol=1e-6)


def test_draws_cover_every_flip_and_shift_uniformly():
    X = np.zeros((10, 3072), np.float32)
    augmenter = augment.BatchAugmenter(augment.Augmentation(flip=True, translate=1), X)
    plan = augmenter.draw(18_000, np.random.default_rng(0))
    combos = np.stack([plan.flip, plan.dy, plan.dx], axis=1)
    _, counts = np.unique(combos, axis=0, return_counts=True)
    assert len(counts) == 18 and counts.min() > 850 and counts.max() < 1150  # 1000 expected


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"translate": 9}, "translate"),
        ({"brightness": -1}, "brightness"),
        ({"contrast": 1}, "contrast"),
    ],
)
def test_bad_augmentation_settings_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        augment.Augmentation(**kwargs)


def test_only_cifar_shaped_rows_can_be_augmented():
    with pytest.raises(ValueError, match="rows of 3072"):
        augment.BatchAugmenter(augment.Augmentation(flip=True), np.zeros((5, 20), np.float32))
    assert augment.Augmentation.from_settings({}) is None
    assert augment.Augmentation.from_settings({"flip": True}).describe() == "flip"
