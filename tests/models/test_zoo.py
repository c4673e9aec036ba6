"""The model zoo: output shapes, parameter counts computed by hand, a training step, a save/load
round trip with identical predictions, and ResidualBlock's math and gradients."""

import numpy as np
import pytest

import nnlab
import nnlab.functional as F
from nnlab import Tensor, gradcheck, no_grad, optim
from nnlab.models import ResidualBlock, cifar_cnn, lenet5, small_resnet, small_vgg


def conv(c_in, c_out, k, bias=True):
    return c_out * c_in * k * k + (c_out if bias else 0)


def dense(n_in, n_out):
    return n_in * n_out + n_out


def bn(c):  # gamma and beta; the moving statistics are buffers, not parameters
    return 2 * c


LENET_PARAMS = (
    conv(1, 6, 5) + conv(6, 16, 5) + dense(16 * 5 * 5, 120) + dense(120, 84) + dense(84, 10)
)
CIFAR_PARAMS = (
    conv(3, 32, 3) + bn(32) + conv(32, 32, 3)
    + conv(32, 64, 3) + bn(64) + conv(64, 64, 3)
    + conv(64, 128, 3) + bn(128)
    + dense(128 * 3 * 3, 512) + bn(512) + dense(512, 10)
)  # fmt: skip
VGG_PARAMS = (
    conv(3, 32, 3) + conv(32, 32, 3) + conv(32, 64, 3) + conv(64, 64, 3)
    + conv(64, 128, 3) + conv(128, 128, 3) + dense(128 * 4 * 4, 256) + dense(256, 10)
)  # fmt: skip
RESNET_PARAMS = (
    conv(3, 16, 3, bias=False) + bn(16)
    + 2 * (conv(16, 16, 3, bias=False) + bn(16))  # identity shortcut
    + conv(16, 32, 3, False) + conv(32, 32, 3, False) + 2 * bn(32) + conv(16, 32, 1, False) + bn(32)
    + conv(32, 64, 3, False) + conv(64, 64, 3, False) + 2 * bn(64) + conv(32, 64, 1, False) + bn(64)
    + dense(64, 10)
)  # fmt: skip

BUILDERS = {
    "lenet5": (lenet5, (1, 28, 28), LENET_PARAMS),
    "cifar_cnn": (cifar_cnn, (3, 32, 32), CIFAR_PARAMS),
    "small_vgg": (small_vgg, (3, 32, 32), VGG_PARAMS),
    "small_resnet": (small_resnet, (3, 32, 32), RESNET_PARAMS),
}


def n_params(model) -> int:
    return sum(p.size for p in model.parameters())


def test_hand_computed_counts_are_the_published_ones():
    assert LENET_PARAMS == 61_706  # LeNet-5 with a 10-way output layer
    # Keras prints 737,834 for the seed's network: these plus 1,472 moving statistics
    assert CIFAR_PARAMS == 736_362 and CIFAR_PARAMS + 2 * (32 + 64 + 128 + 512) == 737_834


@pytest.mark.parametrize("name", BUILDERS)
def test_output_shape_probabilities_and_parameter_count(name):
    builder, shape, expected = BUILDERS[name]
    model = builder(input_shape=shape, num_classes=10, seed=0)
    assert n_params(model) == expected
    x = np.random.default_rng(0).random((3, *shape), dtype=np.float32)
    probabilities = model.predict(x)
    assert probabilities.shape == (3, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    assert (probabilities > 0).all()


def test_summary_shows_each_layer_output_shape():
    text = lenet5().summary(print_fn=None)
    shapes = [(6, 28, 28), (6, 14, 14), (16, 10, 10), (16, 5, 5), (400,), (120,), (84,), (10,)]
    for shape in shapes:
        assert str((None, *shape)) in text, shape
    assert f"Total params: {LENET_PARAMS:,d}" in text


def test_builders_are_seeded_and_configurable():
    a, b, c = lenet5(seed=1), lenet5(seed=1), lenet5(seed=2)
    for (_, pa), (_, pb) in zip(a.named_parameters(), b.named_parameters(), strict=True):
        np.testing.assert_array_equal(pa.data, pb.data)
    assert not np.array_equal(a.parameters()[0].data, c.parameters()[0].data)
    logits = lenet5(input_shape=(3, 32, 32), num_classes=5, output_activation=None, seed=0)
    out = logits.predict(np.ones((2, 3, 32, 32), np.float32))
    assert out.shape == (2, 5) and not np.allclose(out.sum(axis=1), 1.0)
    # 32x32: 32 -> 16 -> 12 -> 6, so 16 * 6 * 6 features reach the first dense layer
    expected = conv(3, 6, 5) + conv(6, 16, 5) + dense(16 * 36, 120) + dense(120, 84)
    assert n_params(logits) == expected + dense(84, 5)
    with pytest.raises(ValueError, match="pooling must be one of"):
        lenet5(pooling="median")


@pytest.mark.parametrize("name", BUILDERS)
def test_one_training_step_updates_every_parameter(name):
    builder, shape, _ = BUILDERS[name]
    model = builder(input_shape=shape, seed=0)
    rng = np.random.default_rng(1)
    x, y = rng.random((4, *shape), dtype=np.float32), rng.integers(0, 10, 4)
    model.compile(optim.Adam(lr=1e-3), "sparse_categorical_crossentropy")
    before = {k: p.data.copy() for k, p in model.named_parameters()}
    loss = model.train_on_batch(x, y)
    assert np.isfinite(loss) and 0.5 < loss < 10  # about log(10) at initialisation
    for key, p in model.named_parameters():
        assert p.grad is not None and np.isfinite(p.grad).all(), key
        assert not np.array_equal(p.data, before[key]), f"{key} was not updated"


@pytest.mark.parametrize("name", BUILDERS)
def test_save_and_load_give_identical_predictions(name, tmp_path):
    builder, shape, _ = BUILDERS[name]
    model = builder(input_shape=shape, seed=0)
    rng = np.random.default_rng(2)
    x, y = rng.random((6, *shape), dtype=np.float32), rng.integers(0, 10, 6)
    model.compile(optim.Adam(lr=1e-3), "sparse_categorical_crossentropy")
    model.train_on_batch(x, y)  # moves BatchNorm's moving statistics off their defaults
    path = tmp_path / f"{name}.nnlab"
    model.save(path)
    loaded = nnlab.load(path)
    assert type(loaded) is type(model)
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    assert loaded.get_config() == model.get_config()
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(loaded.state_dict()[key], value, err_msg=key)


# ---- ResidualBlock ------------------------------------------------------------------------


def test_residual_block_shapes_and_shortcut_choice():
    x = np.random.default_rng(0).random((2, 4, 7, 7), dtype=np.float32)
    identity = ResidualBlock(4, rng=0)
    assert identity(x).shape == (2, 4, 7, 7) and identity.projection is False
    assert not hasattr(identity, "shortcut_conv")
    wider = ResidualBlock(6, rng=0)
    assert wider(x).shape == (2, 6, 7, 7) and wider.projection is True
    strided = ResidualBlock(4, strides=2, rng=0)
    assert strided(x).shape == (2, 4, 4, 4) and strided.projection is True  # ceil(7 / 2)
    assert strided.shortcut_conv.weight.shape == (4, 4, 1, 1)
    with pytest.raises(ValueError, match=r"expects images \(N, C, H, W\)"):
        ResidualBlock(4)(np.zeros((2, 4), np.float32))


def _bn(layer, x):
    """Training-mode batch norm with the layer's gamma, beta and epsilon, from primitives."""
    mean = x.mean(axis=(0, 2, 3), keepdims=True)
    var = ((x - mean) ** 2).mean(axis=(0, 2, 3), keepdims=True)
    scale = layer.gamma.data[None, :, None, None]
    shift = layer.beta.data[None, :, None, None]
    return (x - mean) / np.sqrt(var + layer.epsilon) * scale + shift


def _conv(layer, x, stride=1):
    k = layer.weight.shape[-1]
    return F.conv2d(Tensor(x), layer.weight, stride=stride, padding=k // 2).data


@pytest.mark.parametrize("channels, strides", [(3, 1), (5, 1)])
def test_residual_block_computes_relu_of_residual_plus_shortcut(channels, strides):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 3, 6, 6))
    block = ResidualBlock(channels, strides=strides, dtype="float64", rng=0)
    out = block(x).data
    y = np.maximum(_bn(block.bn1, _conv(block.conv1, x, strides)), 0)
    y = _bn(block.bn2, _conv(block.conv2, y))
    shortcut = x
    if block.projection:
        shortcut = _bn(block.shortcut_bn, _conv(block.shortcut_conv, x, strides))
    np.testing.assert_allclose(out, np.maximum(y + shortcut, 0), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("channels, strides", [(2, 1), (3, 2)])
def test_residual_block_gradients_match_finite_differences(channels, strides):
    rng = np.random.default_rng(4)
    block = ResidualBlock(channels, strides=strides, dtype="float64", rng=5)
    x = Tensor(rng.standard_normal((3, 2, 5, 5)), requires_grad=True)
    with no_grad():
        block(x)  # build
    for p in block.parameters():  # non-trivial gamma and beta
        p.data = p.data + 0.3 * rng.standard_normal(p.shape)
    params = block.parameters()
    assert len(params) == (9 if block.projection else 6)  # 3 weights, 3 gammas, 3 betas
    assert gradcheck(lambda x, *_: block(x), [x, *params], atol=1e-6, rtol=1e-4)


def test_residual_block_config_round_trip():
    block = ResidualBlock(8, strides=2, name="res_probe")
    config = block.get_config()
    assert config["filters"] == 8 and config["strides"] == 2 and config["name"] == "res_probe"
    again = ResidualBlock.from_config(config)
    assert again.get_config() == config
    with pytest.raises(ValueError, match="positive filters and strides"):
        ResidualBlock(0)
