"""nnlab.visualize: the figures hold exactly the arrays nnlab's conv2d and pooling compute."""

import numpy as np
import pytest
from matplotlib.figure import Figure

import nnlab.functional as F
from nnlab import Tensor, no_grad, visualize
from nnlab.layers import Dense
from nnlab.models import lenet5


def direct_conv(image, kernel):
    """conv2d of one 2-D image with one odd kernel, zero padded to keep the size."""
    k = np.asarray(kernel, np.float32)
    with no_grad():
        out = F.conv2d(Tensor(image[None, None]), Tensor(k[None, None]), padding=k.shape[0] // 2)
    return out.data[0, 0]


def numpy_cross_correlation(image, kernel):
    padded = np.pad(image, 1)
    h, w = image.shape
    return sum(kernel[i, j] * padded[i : i + h, j : j + w] for i in range(3) for j in range(3))


def test_classic_filters_are_the_seeds():
    f = visualize.CLASSIC_FILTERS
    names = ["vertical edge", "horizontal edge", "diagonal edge", "Gaussian blur", "sharpen"]
    assert list(f) == names
    np.testing.assert_array_equal(f["vertical edge"], [[-1, 0, 1]] * 3)
    np.testing.assert_array_equal(f["horizontal edge"], np.transpose(f["vertical edge"]))
    assert f["Gaussian blur"].sum() == pytest.approx(1.0) and f["sharpen"].sum() == 1
    with pytest.raises(ValueError):
        f["sharpen"][0, 0] = 2  # read-only


def test_vertical_edge_filter_on_the_seeds_patch():
    # seed 002: [100 100 200] rows under the vertical edge filter give 300
    image = np.tile(np.array([100, 100, 200, 200], np.float32), (4, 1))
    out = visualize.apply_filters(image, {"v": visualize.CLASSIC_FILTERS["vertical edge"]})
    assert out.shape == (1, 4, 4)
    assert out[0, 1, 1] == 300 and out[0, 1, 2] == 300  # the edge between columns 1 and 2
    np.testing.assert_allclose(
        out[0], numpy_cross_correlation(image, visualize.CLASSIC_FILTERS["vertical edge"])
    )


def test_sample_photograph_is_grayscale_in_unit_range():
    image = visualize.sample_grayscale()
    assert image.shape == (427, 640) and image.dtype == np.float32
    assert 0.0 <= image.min() < 0.1 and 0.9 < image.max() <= 1.0


def test_filters_figure_shows_conv2d_outputs():
    rng = np.random.default_rng(0)
    images = {"photo": rng.random((12, 15), dtype=np.float32), "digit": rng.random((8, 8))}
    fig = visualize.plot_filters_applied(images)
    assert isinstance(fig, Figure)
    n_cols = 1 + len(visualize.CLASSIC_FILTERS)
    assert len(fig.axes) == 2 * n_cols
    for row, (label, image) in enumerate(images.items()):
        axes = fig.axes[row * n_cols : (row + 1) * n_cols]
        assert axes[0].get_ylabel() == label and axes[0].get_title() == "original"
        np.testing.assert_array_equal(axes[0].images[0].get_array(), image)
        for ax, (name, kernel) in zip(axes[1:], visualize.CLASSIC_FILTERS.items(), strict=True):
            assert ax.get_title() == name
            shown = np.asarray(ax.images[0].get_array())
            np.testing.assert_allclose(shown, direct_conv(np.float32(image), kernel), rtol=1e-6)


def test_filters_figure_accepts_one_image_and_custom_filters(tmp_path):
    image = np.arange(25, dtype=np.float32).reshape(5, 5)
    identity = {"identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]])}
    fig = visualize.plot_filters_applied(image, identity, path=tmp_path / "f.png")
    assert len(fig.axes) == 2 and (tmp_path / "f.png").stat().st_size > 0
    np.testing.assert_array_equal(fig.axes[1].images[0].get_array(), image)
    with pytest.raises(ValueError, match="one odd"):
        visualize.apply_filters(image, {"even": np.ones((2, 2))})
    with pytest.raises(ValueError, match="2-D grayscale"):
        visualize.apply_filters(np.zeros((1, 5, 5)))


def test_pooling_example_writes_the_pooled_values():
    fig = visualize.plot_pooling_example()
    assert [ax.get_title() for ax in fig.axes] == ["Input", "Max pool 2x2", "Average pool 2x2"]
    texts = [[t.get_text() for t in ax.texts] for ax in fig.axes]
    assert texts[0] == [f"{v:g}" for v in visualize.POOLING_EXAMPLE.ravel()]
    assert texts[1] == ["3", "4", "8", "9"]  # the seed's max-pooling answer
    assert texts[2] == ["1.75", "2.5", "5.25", "5"]  # and its average-pooling answer
    np.testing.assert_array_equal(fig.axes[2].images[0].get_array(), [[1.75, 2.5], [5.25, 5]])


def test_feature_maps_are_each_layer_output():
    model = lenet5(seed=0)
    x = np.random.default_rng(1).random((1, 28, 28), dtype=np.float32)
    maps = visualize.feature_maps(model, x)
    assert [(kind, out.shape) for _, kind, out in maps] == [
        ("Conv2D", (6, 28, 28)),
        ("MaxPooling2D", (6, 14, 14)),
        ("Conv2D", (16, 10, 10)),
        ("MaxPooling2D", (16, 5, 5)),
    ]
    with no_grad():
        first = model.layers[0](Tensor(x[None])).data[0]
        second = model.layers[1](Tensor(first[None])).data[0]
    np.testing.assert_array_equal(maps[0][2], first)
    np.testing.assert_array_equal(maps[1][2], second)
    assert model.training  # the mode is restored
    assert all(not layer._forward_hooks for layer in model.layers)  # hooks removed


def test_feature_map_figure_layout():
    model = lenet5(seed=0)
    x = np.random.default_rng(1).random((1, 1, 28, 28), dtype=np.float32)
    fig = visualize.plot_feature_maps(model, x, max_channels=4)
    assert len(fig.axes) == 5 * 4  # the input and four layers, four channels each
    rows = [fig.axes[i * 4 : (i + 1) * 4] for i in range(5)]
    assert rows[0][0].get_ylabel() == "input\n1x28x28"
    assert rows[1][0].get_ylabel().endswith("Conv2D 6x28x28")
    np.testing.assert_array_equal(rows[0][0].images[0].get_array(), x[0, 0])
    assert [len(ax.images) for ax in rows[0]] == [1, 0, 0, 0]  # one input channel
    maps = visualize.feature_maps(model, x)
    np.testing.assert_array_equal(rows[3][2].images[0].get_array(), maps[2][2][2])
    with pytest.raises(ValueError, match="one image"):
        visualize.feature_maps(model, np.zeros((2, 1, 28, 28), np.float32))


def test_learned_filters_figure_shows_the_kernels():
    model = lenet5(seed=0)
    conv = model.layers[0]
    fig = visualize.plot_learned_filters(conv)
    image_axes = [ax for ax in fig.axes if ax.images]
    assert len(image_axes) == 6 + 0 and len(fig.axes) == 6 + 1  # six filters and a colour bar
    for k, ax in enumerate(image_axes):
        assert ax.get_title() == f"filter {k}"
        np.testing.assert_allclose(ax.images[0].get_array(), conv.weight.data[k, 0], rtol=1e-6)
    second = model.layers[2]  # 16 filters over 6 channels: channel 0 unless told otherwise
    fig = visualize.plot_learned_filters(second, max_filters=10, channel=3)
    shown = [ax for ax in fig.axes if ax.images and ax.get_title().startswith("filter")]
    assert len(shown) == 10
    np.testing.assert_allclose(shown[9].images[0].get_array(), second.weight.data[9, 3], rtol=1e-6)
    assert "10 of 16" in fig.get_suptitle()


def test_learned_rgb_filters_and_errors():
    from nnlab.models import cifar_cnn

    conv = cifar_cnn(seed=0).layers[0]
    fig = visualize.plot_learned_filters(conv, max_filters=8)
    rgb = fig.axes[0].images[0].get_array()
    assert rgb.shape == (3, 3, 3) and rgb.min() == 0 and rgb.max() == 1
    w = conv.weight.data[0].transpose(1, 2, 0)
    np.testing.assert_allclose(rgb, (w - w.min()) / np.ptp(w), rtol=1e-6)
    with pytest.raises(ValueError, match=r"\(C_out, C_in, kH, kW\)"):
        visualize.plot_learned_filters(Dense(3, input_dim=2))


def test_feature_maps_of_pytorch_style_modules_skip_global_pooling():
    from nnlab import nn
    from nnlab.nn.conv import Conv2d
    from nnlab.nn.pool import AdaptiveAvgPool2d, MaxPool2d

    model = nn.Sequential(Conv2d(1, 3, 3, padding=1), nn.ReLU(), MaxPool2d(2), AdaptiveAvgPool2d(1))
    x = np.random.default_rng(2).random((1, 6, 6), dtype=np.float32)
    maps = visualize.feature_maps(model, x)
    assert [(name, kind, out.shape) for name, kind, out in maps] == [
        ("0", "Conv2d", (3, 6, 6)),
        ("2", "MaxPool2d", (3, 3, 3)),
    ]
    with no_grad():
        expected = F.max_pool2d(F.relu(model[0](Tensor(x[None]))), 2).data[0]
    np.testing.assert_array_equal(maps[1][2], expected)
