"""ImageAugmenter: exact geometry of each transform, reproducibility, and the batch source."""

import numpy as np
import pytest

from nnlab.data import ImageAugmenter


def _images(n=4, c=2, h=9, w=9, seed=0):
    return np.random.default_rng(seed).random((n, c, h, w)).astype(np.float32)


def test_zero_ranges_give_the_identity():
    x = _images()
    augmenter = ImageAugmenter(seed=0)
    np.testing.assert_array_equal(augmenter.random_transform(x), x)
    # The resampling path itself is exact for the identity map, in every fill mode.
    for mode in ("nearest", "constant", "reflect", "wrap"):
        out = ImageAugmenter(fill_mode=mode).apply_transform(x, {})
        np.testing.assert_array_equal(out, x)
        assert out.dtype == np.float32


def test_horizontal_and_vertical_flips_are_exact():
    x = _images(w=7)
    augmenter = ImageAugmenter()
    np.testing.assert_array_equal(
        augmenter.apply_transform(x, {"flip_horizontal": True}), x[..., ::-1]
    )
    np.testing.assert_array_equal(
        augmenter.apply_transform(x, {"flip_vertical": True}), x[..., ::-1, :]
    )
    batch = _images(n=64, c=1)
    out = ImageAugmenter(horizontal_flip=True, seed=1).random_transform(batch)
    flipped = np.all(out == batch[..., ::-1], axis=(1, 2, 3))
    kept = np.all(out == batch, axis=(1, 2, 3))
    assert np.all(flipped | kept) and 10 < flipped.sum() < 54


def test_one_pixel_shift_moves_the_image_by_one_pixel():
    x = _images(h=8, w=10)
    augmenter = ImageAugmenter(fill_mode="constant", cval=-1.0)
    right = augmenter.apply_transform(x, {"tx": 1.0})
    np.testing.assert_array_equal(right[..., 1:], np.roll(x, 1, axis=-1)[..., 1:])
    assert (right[..., 0] == -1.0).all()
    down = augmenter.apply_transform(x, {"ty": 1.0})
    np.testing.assert_array_equal(down[..., 1:, :], np.roll(x, 1, axis=-2)[..., 1:, :])
    left = ImageAugmenter(fill_mode="nearest").apply_transform(x, {"tx": -1.0})
    np.testing.assert_array_equal(left[..., :-1], x[..., 1:])
    np.testing.assert_array_equal(left[..., -1], x[..., -1])
    wrapped = ImageAugmenter(fill_mode="wrap").apply_transform(x, {"tx": 1.0, "ty": -2.0})
    np.testing.assert_array_equal(wrapped, np.roll(x, (-2, 1), axis=(-2, -1)))


def test_half_pixel_shift_interpolates_bilinearly():
    x = _images(c=1, h=5, w=6)
    out = ImageAugmenter().apply_transform(x, {"tx": 0.5})
    np.testing.assert_allclose(out[..., 1:], (x[..., 1:] + x[..., :-1]) / 2, rtol=1e-6)


def test_quarter_turn_of_a_square_image_matches_rot90():
    x = _images(h=11, w=11)
    augmenter = ImageAugmenter()
    np.testing.assert_allclose(
        augmenter.apply_transform(x, {"theta": 90.0}), np.rot90(x, 1, axes=(2, 3)), atol=1e-5
    )
    np.testing.assert_allclose(
        augmenter.apply_transform(x, {"theta": [-90.0, 90.0, 180.0, 0.0]}),
        np.stack(
            [
                np.rot90(x[0], -1, axes=(1, 2)),
                np.rot90(x[1], 1, axes=(1, 2)),
                np.rot90(x[2], 2, axes=(1, 2)),
                x[3],
            ]
        ),
        atol=1e-5,
    )


def test_zoom_keeps_the_centre_pixel_and_scales_about_it():
    x = _images(h=9, w=9)
    augmenter = ImageAugmenter(zoom_range=0.3, seed=0)
    for zx, zy in ((0.7, 0.7), (1.3, 0.8)):
        out = augmenter.apply_transform(x, {"zx": zx, "zy": zy})
        np.testing.assert_array_equal(out[..., 4, 4], x[..., 4, 4])
    # A linear ramp stays linear: zooming in by 2 halves its slope about the centre.
    ramp = np.broadcast_to(np.arange(9, dtype=np.float64), (1, 1, 9, 9))
    out = augmenter.apply_transform(ramp, {"zx": 0.5, "zy": 0.5})
    np.testing.assert_allclose(out[0, 0, 3], 4 + 0.5 * (np.arange(9) - 4))
    # Random zooms keep the centre too.
    np.testing.assert_array_equal(augmenter.random_transform(x)[..., 4, 4], x[..., 4, 4])


def test_random_parameters_stay_within_their_ranges():
    augmenter = ImageAugmenter(
        rotation_range=20, width_shift_range=0.1, height_shift_range=0.2, zoom_range=0.15, seed=3
    )
    params = augmenter.get_random_transform((500, 1, 10, 30))
    assert np.abs(params["theta"]).max() <= 20 and np.abs(params["theta"]).max() > 18
    assert np.abs(params["tx"]).max() <= 3.0 and np.abs(params["ty"]).max() <= 2.0
    for key in ("zx", "zy"):
        assert 0.85 <= params[key].min() and params[key].max() <= 1.15
    assert not params["zx"].tolist() == params["zy"].tolist()


def test_same_seed_gives_the_same_output():
    x = _images(n=8)
    kwargs = dict(rotation_range=30, width_shift_range=0.2, zoom_range=0.2, horizontal_flip=True)
    a = ImageAugmenter(**kwargs, seed=7).random_transform(x)
    b = ImageAugmenter(**kwargs, seed=7).random_transform(x)
    c = ImageAugmenter(**kwargs, seed=8).random_transform(x)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert np.isfinite(a).all() and a.min() >= 0.0 and a.max() <= 1.0  # bilinear stays in range


def test_flow_is_a_reshuffled_batch_source_keeping_labels_with_images():
    n = 23
    x = np.broadcast_to(np.arange(n, dtype=np.float32)[:, None, None, None], (n, 1, 4, 4))
    y = np.arange(n) * 10
    weights = np.arange(n) / 100
    source = ImageAugmenter(seed=0).flow(x, y, batch_size=5, sample_weight=weights)
    assert len(source) == 5
    orders = []
    for _ in range(2):
        batches = list(source)
        assert len(batches) == len(source)
        assert [len(b[0]) for b in batches] == [5, 5, 5, 5, 3]
        ids = np.concatenate([b[0][:, 0, 0, 0] for b in batches]).astype(int)
        np.testing.assert_array_equal(np.sort(ids), np.arange(n))  # every sample once
        for bx, by, bw in batches:
            np.testing.assert_array_equal(by, bx[:, 0, 0, 0] * 10)
            np.testing.assert_allclose(bw, bx[:, 0, 0, 0] / 100)
        orders.append(ids)
    assert not np.array_equal(orders[0], orders[1])  # reshuffled between epochs

    unshuffled = ImageAugmenter().flow(x, y, batch_size=10, shuffle=False)
    np.testing.assert_array_equal(np.concatenate([b for _, b in unshuffled]), y)


def test_flow_with_the_same_seed_gives_identical_batches():
    x, y = _images(n=10, c=1), np.arange(10)

    def epochs(seed):
        augmenter = ImageAugmenter(rotation_range=10, horizontal_flip=True, seed=seed)
        source = augmenter.flow(x, y, batch_size=4)
        return [batch for _ in range(2) for batch in source]

    for (xa, ya), (xb, yb) in zip(epochs(5), epochs(5), strict=True):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)


def test_bad_layouts_and_arguments_get_clear_errors():
    augmenter = ImageAugmenter()
    with pytest.raises(ValueError, match=r"looks like NHWC; convert with x.transpose\(0, 3, 1, 2"):
        augmenter.random_transform(np.zeros((2, 28, 28, 1)))
    with pytest.raises(ValueError, match=r"NCHW.*got shape \(2, 8, 8\).*x\[:, None\]"):
        augmenter.random_transform(np.zeros((2, 8, 8)))
    with pytest.raises(ValueError, match=r"x has 3 images but y has 2 labels"):
        augmenter.flow(np.zeros((3, 1, 4, 4)), [0, 1])
    with pytest.raises(ValueError, match=r"fill_mode must be one of"):
        ImageAugmenter(fill_mode="mirror")
    with pytest.raises(ValueError, match=r"width_shift_range is a fraction"):
        ImageAugmenter(width_shift_range=3)
