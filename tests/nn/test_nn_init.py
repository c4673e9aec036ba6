"""Initializers: empirical statistics against each formula, reproducibility, lookup."""

import math

import numpy as np
import pytest

from nnlab import nn
from nnlab.nn import init

SHAPE = (500, 400)  # fan_in 400, fan_out 500, 200k samples
CONV = (64, 32, 3, 3)  # fan_in 288, fan_out 576, 18k samples
TRUNC = 0.87962566103423978


def _check_normal(w, std, mean=0.0, truncated=False):
    """Sample mean within 6 standard errors; sample std within 3%; tails as expected."""
    n = w.size
    assert abs(w.mean() - mean) < 6 * std / math.sqrt(n)
    assert abs(w.std() / std - 1) < 0.03
    peak = np.abs(w - mean).max()
    if truncated:
        # Keras redraws beyond 2 * (std / 0.8796); the sample should reach close to the cut.
        assert 0.97 * 2 * std / TRUNC < peak <= 2 * std / TRUNC * (1 + 1e-6)
    else:
        assert peak > 3.5 * std  # an untruncated normal of this size has such tails


def _check_uniform(w, bound, low=None):
    low = -bound if low is None else low
    assert w.min() >= low and w.max() <= bound
    width = bound - low
    assert w.min() < low + 0.01 * width and w.max() > bound - 0.01 * width
    assert abs(w.std() / (width / math.sqrt(12)) - 1) < 0.03
    assert abs(w.mean() - (low + bound) / 2) < 6 * width / math.sqrt(12 * w.size)


def test_fan_in_and_fan_out_follow_pytorch_layout():
    assert init.fan_in_and_fan_out((3, 4)) == (4, 3)
    assert init.fan_in_and_fan_out((16, 8, 3, 3)) == (72, 144)
    assert init.fan_in_and_fan_out((16, 8, 5)) == (40, 80)
    assert init.fan_in_and_fan_out((5,)) == (5, 5)
    assert init.fan_in_and_fan_out(()) == (1, 1)


@pytest.mark.parametrize(
    "name,param,expected",
    [
        ("linear", None, 1.0),
        ("conv2d", None, 1.0),
        ("conv_transpose3d", None, 1.0),
        ("sigmoid", None, 1.0),
        ("tanh", None, 5 / 3),
        ("relu", None, math.sqrt(2)),
        ("leaky_relu", None, math.sqrt(2 / (1 + 0.01**2))),
        ("leaky_relu", 0.2, math.sqrt(2 / 1.04)),
        ("leaky_relu", math.sqrt(5), math.sqrt(1 / 3)),
        ("selu", None, 0.75),
    ],
)
def test_calculate_gain_as_pytorch(name, param, expected):
    assert init.calculate_gain(name, param) == pytest.approx(expected, rel=1e-12)


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match="unsupported nonlinearity"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", True)


def test_constants():
    np.testing.assert_array_equal(init.zeros((3, 2)), np.zeros((3, 2)))
    np.testing.assert_array_equal(init.ones(4), np.ones(4))
    np.testing.assert_array_equal(init.constant((2, 2), value=0.25), np.full((2, 2), 0.25))
    assert init.zeros((2,)).dtype == np.float32
    assert init.constant((2,), dtype=np.float64, value=1).dtype == np.float64


def test_plain_random():
    _check_normal(init.random_normal(SHAPE, rng=0), 0.05)
    _check_normal(init.random_normal(SHAPE, rng=0, mean=1.0, stddev=2.0), 2.0, mean=1.0)
    _check_uniform(init.random_uniform(SHAPE, rng=0), 0.05)
    _check_uniform(init.random_uniform(SHAPE, rng=0, minval=1.0, maxval=3.0), 3.0, low=1.0)
    _check_normal(init.small_random(SHAPE, rng=0), 0.01)
    # Keras's TruncatedNormal: stddev before truncation; the result has std stddev * 0.8796.
    _check_normal(init.truncated_normal(SHAPE, rng=0), 0.05 * TRUNC, truncated=True)


@pytest.mark.parametrize("shape", [SHAPE, CONV])
@pytest.mark.parametrize("gain", [1.0, 5 / 3])
def test_xavier(shape, gain):
    fan_in, fan_out = init.fan_in_and_fan_out(shape)
    bound = gain * math.sqrt(6 / (fan_in + fan_out))
    _check_uniform(init.xavier_uniform(shape, rng=1, gain=gain), bound)
    _check_normal(init.xavier_normal(shape, rng=1, gain=gain), bound / math.sqrt(3))


@pytest.mark.parametrize("shape", [SHAPE, CONV])
def test_kaiming(shape):
    fan_in, fan_out = init.fan_in_and_fan_out(shape)
    _check_uniform(init.kaiming_uniform(shape, rng=2), math.sqrt(6 / fan_in))
    _check_uniform(init.kaiming_uniform(shape, rng=2, mode="fan_out"), math.sqrt(6 / fan_out))
    _check_normal(init.kaiming_normal(shape, rng=2, nonlinearity="relu"), math.sqrt(2 / fan_in))
    leaky = init.kaiming_normal(shape, rng=2, a=0.2, mode="fan_out")
    _check_normal(leaky, math.sqrt(2 / 1.04 / fan_out))


def test_kaiming_uniform_sqrt5_is_torch_linear_default():
    # torch.nn.Linear: U(-1/sqrt(in_features), 1/sqrt(in_features)).
    _check_uniform(init.kaiming_uniform(SHAPE, rng=3, a=math.sqrt(5)), 1 / math.sqrt(400))


@pytest.mark.parametrize("shape", [SHAPE, CONV])
def test_keras_family(shape):
    fan_in, fan_out = init.fan_in_and_fan_out(shape)
    _check_uniform(init.glorot_uniform(shape, rng=4), math.sqrt(6 / (fan_in + fan_out)))
    _check_normal(
        init.glorot_normal(shape, rng=4), math.sqrt(2 / (fan_in + fan_out)), truncated=True
    )
    _check_uniform(init.he_uniform(shape, rng=4), math.sqrt(6 / fan_in))
    _check_normal(init.he_normal(shape, rng=4), math.sqrt(2 / fan_in), truncated=True)
    _check_uniform(init.lecun_uniform(shape, rng=4), math.sqrt(3 / fan_in))
    _check_normal(init.lecun_normal(shape, rng=4), math.sqrt(1 / fan_in), truncated=True)


def test_uniform_keras_and_pytorch_names_agree_exactly():
    np.testing.assert_array_equal(
        init.glorot_uniform(SHAPE, rng=5), init.xavier_uniform(SHAPE, rng=5)
    )
    np.testing.assert_array_equal(
        init.he_uniform(SHAPE, rng=5), init.kaiming_uniform(SHAPE, rng=5, nonlinearity="relu")
    )


@pytest.mark.parametrize("shape,gain", [((30, 10), 1.0), ((10, 30), 2.0), ((8, 3, 2, 2), 1.0)])
def test_orthogonal(shape, gain):
    w = init.orthogonal(shape, rng=6, gain=gain, dtype=np.float64)
    assert w.shape == shape
    m = w.reshape(shape[0], -1) / gain
    small = m.T @ m if m.shape[0] >= m.shape[1] else m @ m.T
    np.testing.assert_allclose(small, np.eye(small.shape[0]), atol=1e-12)


def test_orthogonal_needs_a_matrix():
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        init.orthogonal((5,))


ALL_RANDOM = [
    init.random_normal,
    init.random_uniform,
    init.truncated_normal,
    init.small_random,
    init.xavier_uniform,
    init.xavier_normal,
    init.kaiming_uniform,
    init.kaiming_normal,
    init.orthogonal,
    init.glorot_uniform,
    init.glorot_normal,
    init.he_uniform,
    init.he_normal,
    init.lecun_uniform,
    init.lecun_normal,
]


@pytest.mark.parametrize("fn", ALL_RANDOM, ids=lambda f: f.__name__)
def test_same_seed_same_array_and_dtypes(fn):
    a = fn((20, 10), rng=np.random.default_rng(11))
    b = fn((20, 10), rng=np.random.default_rng(11))
    c = fn((20, 10), rng=np.random.default_rng(12))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.dtype == np.float32
    assert fn((20, 10), rng=1, dtype=np.float64).dtype == np.float64
    gen = np.random.default_rng(13)
    assert not np.array_equal(fn((20, 10), rng=gen), fn((20, 10), rng=gen))  # gen advances


@pytest.mark.parametrize(
    "spec,expected",
    [
        ("glorot_uniform", init.glorot_uniform),
        ("GlorotUniform", init.glorot_uniform),
        ("xavier_uniform_", init.xavier_uniform),
        ("HeNormal", init.he_normal),
        ("kaiming_normal", init.kaiming_normal),
        ("Zeros", init.zeros),
        ("RandomNormal", init.random_normal),
        ("LecunUniform", init.lecun_uniform),
        ("orthogonal", init.orthogonal),
    ],
)
def test_get_resolves_names(spec, expected):
    assert init.get(spec) is expected


def test_get_dicts_callables_and_none():
    fn = init.get({"name": "constant", "value": 0.5})
    np.testing.assert_array_equal(fn((2, 3), None, np.float64), np.full((2, 3), 0.5))
    w = init.get({"name": "kaiming_uniform", "a": math.sqrt(5)})((300, 200), 0)
    _check_uniform(w, 1 / math.sqrt(200))

    def custom(shape, rng=None, dtype=None):
        return np.full(shape, 7.0, dtype)

    assert init.get(custom) is custom
    assert init.get(None) is None


def test_get_errors_list_known_names():
    with pytest.raises(ValueError, match="unknown initializer 'glorot'.*'glorot_uniform'"):
        init.get("glorot")
    with pytest.raises(ValueError, match="needs a 'name'"):
        init.get({"value": 1.0})
    with pytest.raises(TypeError, match="got int"):
        init.get(3)


def test_serialize():
    assert init.serialize("he_normal") == "he_normal"
    assert init.serialize(init.he_normal) == "he_normal"
    assert init.serialize({"name": "constant", "value": 1}) == {"name": "constant", "value": 1}
    with pytest.raises(ValueError, match="cannot save initializer"):
        init.serialize(lambda shape, rng=None, dtype=None: None)


def test_pytorch_in_place_forms_fill_parameters_for_module_apply():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    first = model[0].weight.data

    def init_weights(module):
        if isinstance(module, nn.Linear):
            nn.init.xavier_uniform_(module.weight, rng=0)
            nn.init.constant_(module.bias, 0.1)

    model.apply(init_weights)
    assert model[0].weight.data is first  # filled in place: optimizers keep their reference
    np.testing.assert_array_equal(first, init.xavier_uniform((8, 4), rng=0, dtype=np.float32))
    np.testing.assert_allclose(model[2].bias.data, 0.1)
    weight = nn.Parameter(np.zeros((256, 128), np.float32))
    init.kaiming_normal_(weight, mode="fan_out", nonlinearity="relu", rng=1)
    assert weight.data.std() == pytest.approx(np.sqrt(2 / 256), rel=0.02)
    assert init.zeros_(weight) is weight and not weight.data.any()
    values = init.uniform_(np.zeros(1000), -1.0, 1.0, rng=2)
    assert values.min() >= -1.0 and values.max() <= 1.0 and abs(values.mean()) < 0.1
    assert init.normal_(np.zeros(4000), 3.0, 0.5, rng=3).std() == pytest.approx(0.5, rel=0.05)
    q = init.orthogonal_(np.zeros((4, 6)), rng=4)
    np.testing.assert_allclose(q @ q.T, np.eye(4), atol=1e-12)
