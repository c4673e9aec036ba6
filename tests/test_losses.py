"""Keras-style losses against NumPy references of Keras's formulas: per-sample functions,
Loss classes (sample weights, reductions, configs), get(), class_weight_to_sample_weight."""

import json

import numpy as np
import pytest

from nnlab import Tensor, gradcheck
from nnlab import losses as L

EPS = 1e-7
rng = np.random.default_rng(0)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def keras_probs(p):
    """Keras's recipe for probabilities: normalise each row, clip to [eps, 1 - eps]."""
    return np.clip(p / p.sum(axis=-1, keepdims=True), EPS, 1 - EPS)


def bce(y, p):
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


Y2 = rng.uniform(-2, 2, size=(6, 4))
P2 = rng.uniform(-2, 2, size=(6, 4))
BIN = rng.integers(0, 2, size=(6, 4)).astype(float)
PROB = rng.uniform(0.05, 0.95, size=(6, 4))
LOGITS = rng.normal(scale=2, size=(6, 4))
LABELS = rng.integers(0, 4, size=6)
ONEHOT = np.eye(4)[LABELS]


def value(t):
    return t.data if isinstance(t, Tensor) else t


# ---- per-sample functions against NumPy references -----------------------------------------


def test_regression_functions_average_the_last_axis():
    np.testing.assert_allclose(value(L.mse(Y2, P2)), ((Y2 - P2) ** 2).mean(-1), rtol=1e-12)
    np.testing.assert_allclose(value(L.mae(Y2, P2)), np.abs(Y2 - P2).mean(-1), rtol=1e-12)
    for delta in (0.5, 1.0, 2.0):
        d = P2 - Y2
        ref = np.where(np.abs(d) <= delta, 0.5 * d**2, delta * np.abs(d) - 0.5 * delta**2)
        np.testing.assert_allclose(value(L.huber(Y2, P2, delta)), ref.mean(-1), rtol=1e-12)
    seq = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 3, 4))
    np.testing.assert_allclose(value(L.mse(*seq)), ((seq[0] - seq[1]) ** 2).mean(-1))


def test_one_value_per_sample_and_rank_alignment():
    y, p = rng.normal(size=5), rng.normal(size=5)
    expected = (y - p) ** 2
    np.testing.assert_allclose(value(L.mse(y, p)), expected, rtol=1e-12)
    np.testing.assert_allclose(value(L.mse(y, p[:, None])), expected, rtol=1e-12)
    np.testing.assert_allclose(value(L.mse(y[:, None], p)), expected, rtol=1e-12)
    with pytest.raises(
        ValueError,
        match=r"y_true of shape \(5, 2\) does not match y_pred of "
        r"shape \(5, 3\)",
    ):
        L.mean_squared_error(np.zeros((5, 2)), np.zeros((5, 3)))


def test_keras_documented_examples():
    y, p = [[0, 1], [0, 0]], np.array([[0.6, 0.4], [0.4, 0.6]])
    np.testing.assert_allclose(value(L.binary_crossentropy(y, p)), [0.916, 0.714], atol=1e-3)
    np.testing.assert_allclose(
        value(L.binary_focal_crossentropy(y, p, gamma=2)), [0.330, 0.206], atol=1e-3
    )
    np.testing.assert_allclose(value(L.huber(y, p)).mean(), 0.155, atol=1e-3)
    y3, p3 = [[0, 1, 0], [0, 0, 1]], np.array([[0.05, 0.95, 0], [0.1, 0.8, 0.1]])
    cce = L.categorical_crossentropy(y3, p3)
    np.testing.assert_allclose(value(cce), [0.0513, 2.303], atol=1e-3)
    pf = np.array([[0.05, 0.9, 0.05], [0.1, 0.85, 0.05]])
    np.testing.assert_allclose(
        value(L.categorical_focal_crossentropy(y3, pf)), [2.63401289e-04, 6.75912094e-01], rtol=1e-5
    )


@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_binary_crossentropy(smoothing):
    y = BIN * (1 - smoothing) + 0.5 * smoothing
    expected = bce(y, PROB).mean(-1)
    got = L.binary_crossentropy(BIN, PROB, label_smoothing=smoothing)
    np.testing.assert_allclose(got.data, expected, rtol=1e-12)
    from_logits = L.binary_crossentropy(BIN, LOGITS, from_logits=True, label_smoothing=smoothing)
    np.testing.assert_allclose(from_logits.data, bce(y, sigmoid(LOGITS)).mean(-1), rtol=1e-10)


def test_binary_crossentropy_on_saturated_probabilities_clamps_as_pytorch():
    got = L.binary_crossentropy(np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]]))
    np.testing.assert_allclose(got.data, [100.0])


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_categorical_crossentropy_on_probabilities_normalises_and_clips(smoothing):
    p = PROB.copy()
    p[0, LABELS[0]] = 0.0  # clipped to 1e-7 as Keras, giving -log(1e-7) for that sample
    t = ONEHOT * (1 - smoothing) + smoothing / 4
    expected = -(t * np.log(keras_probs(p))).sum(-1)
    got = L.categorical_crossentropy(ONEHOT, p, label_smoothing=smoothing)
    np.testing.assert_allclose(got.data, expected, rtol=1e-12)
    if not smoothing:
        np.testing.assert_allclose(got.data[0], -np.log(EPS), rtol=1e-6)
    by_labels = L.categorical_crossentropy(LABELS, p, label_smoothing=smoothing)
    np.testing.assert_allclose(by_labels.data, expected, rtol=1e-12)


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_categorical_crossentropy_from_logits(smoothing):
    t = ONEHOT * (1 - smoothing) + smoothing / 4
    expected = -(t * np.log(softmax(LOGITS))).sum(-1)
    for y in (ONEHOT, LABELS, LABELS[:, None]):
        got = L.categorical_crossentropy(y, LOGITS, from_logits=True, label_smoothing=smoothing)
        np.testing.assert_allclose(got.data, expected, rtol=1e-10)
    soft = softmax(rng.normal(size=(6, 4)))
    got = L.categorical_crossentropy(soft, LOGITS, from_logits=True)
    np.testing.assert_allclose(got.data, -(soft * np.log(softmax(LOGITS))).sum(-1), rtol=1e-10)


def test_categorical_crossentropy_on_sequences():
    logits = rng.normal(size=(2, 3, 5))
    labels = rng.integers(0, 5, size=(2, 3))
    expected = -np.log(np.take_along_axis(softmax(logits), labels[..., None], -1))[..., 0]
    got = L.sparse_categorical_crossentropy(labels, logits, from_logits=True)
    np.testing.assert_allclose(got.data, expected, rtol=1e-10)
    got = L.categorical_crossentropy(np.eye(5)[labels], logits, from_logits=True)
    np.testing.assert_allclose(got.data, expected, rtol=1e-10)


def test_sparse_categorical_crossentropy():
    expected = -np.log(keras_probs(PROB))[np.arange(6), LABELS]
    for y in (LABELS, LABELS[:, None], LABELS.astype(float)):
        np.testing.assert_allclose(
            L.sparse_categorical_crossentropy(y, PROB).data, expected, rtol=1e-12
        )
    expected = -np.log(softmax(LOGITS))[np.arange(6), LABELS]
    got = L.sparse_categorical_crossentropy(LABELS, LOGITS, from_logits=True)
    np.testing.assert_allclose(got.data, expected, rtol=1e-10)


def test_sparse_label_errors():
    with pytest.raises(
        ValueError,
        match=r"expects integer labels of shape \(6,\) for y_pred of "
        r"shape \(6, 4\); got \(6, 4\); for one-hot targets use "
        r"categorical_crossentropy",
    ):
        L.sparse_categorical_crossentropy(ONEHOT, PROB)
    with pytest.raises(ValueError, match="expects integer class labels; got non-integral"):
        L.sparse_categorical_crossentropy(LABELS + 0.5, PROB)
    with pytest.raises(ValueError, match=r"class label 4 is out of range for 4 classes"):
        L.sparse_categorical_crossentropy(np.array([0, 1, 2, 3, 4, 0]), PROB)


def binary_focal_ref(y, p, gamma, alpha=None, ls=0.0):
    y = y * (1 - ls) + 0.5 * ls
    p_t = y * p + (1 - y) * (1 - p)
    loss = (1 - p_t) ** gamma * bce(y, p)
    if alpha is not None:
        loss = loss * (y * alpha + (1 - y) * (1 - alpha))
    return loss.mean(-1)


@pytest.mark.parametrize(
    "gamma,balance,alpha,ls",
    [
        (2.0, False, 0.25, 0.0),
        (0.0, False, 0.25, 0.0),
        (3.0, True, 0.4, 0.0),
        (1.5, True, 0.25, 0.1),
    ],
)
def test_binary_focal_crossentropy(gamma, balance, alpha, ls):
    expected = binary_focal_ref(BIN, PROB, gamma, alpha if balance else None, ls)
    kw = dict(apply_class_balancing=balance, alpha=alpha, gamma=gamma, label_smoothing=ls)
    np.testing.assert_allclose(L.binary_focal_crossentropy(BIN, PROB, **kw).data, expected)
    expected = binary_focal_ref(BIN, sigmoid(LOGITS), gamma, alpha if balance else None, ls)
    got = L.binary_focal_crossentropy(BIN, LOGITS, from_logits=True, **kw)
    np.testing.assert_allclose(got.data, expected, rtol=1e-10)


def test_focal_with_gamma_zero_is_binary_crossentropy():
    focal = L.binary_focal_crossentropy(BIN, LOGITS, gamma=0.0, from_logits=True)
    np.testing.assert_allclose(
        focal.data, L.binary_crossentropy(BIN, LOGITS, from_logits=True).data, rtol=1e-12
    )


@pytest.mark.parametrize("alpha", [0.25, [0.1, 0.2, 0.3, 0.4]])
@pytest.mark.parametrize("from_logits,ls", [(False, 0.0), (True, 0.0), (True, 0.1)])
def test_categorical_focal_crossentropy(alpha, from_logits, ls):
    gamma = 2.0
    pred = LOGITS if from_logits else PROB
    p = keras_probs(softmax(pred) if from_logits else pred)
    t = ONEHOT * (1 - ls) + ls / 4
    expected = (np.asarray(alpha) * (1 - p) ** gamma * -t * np.log(p)).sum(-1)
    for y in (ONEHOT, LABELS):
        got = L.categorical_focal_crossentropy(
            y, pred, alpha=alpha, gamma=gamma, from_logits=from_logits, label_smoothing=ls
        )
        np.testing.assert_allclose(got.data, expected, rtol=1e-10)


def test_kl_divergence_clips_both_distributions():
    t = softmax(rng.normal(size=(6, 4)))
    t[0, 1] = 0.0
    p = softmax(rng.normal(size=(6, 4)))
    tc, pc = np.clip(t, EPS, 1), np.clip(p, EPS, 1)
    expected = (tc * np.log(tc / pc)).sum(-1)
    np.testing.assert_allclose(L.kl_divergence(t, p).data, expected, rtol=1e-12)
    np.testing.assert_allclose(L.kld(t, p).data, expected, rtol=1e-12)


def test_hinge_converts_zero_one_labels():
    ref = np.maximum(1 - (2 * BIN - 1) * P2, 0)
    np.testing.assert_allclose(L.hinge(BIN, P2).data, ref.mean(-1), rtol=1e-12)
    np.testing.assert_allclose(L.squared_hinge(BIN, P2).data, (ref**2).mean(-1), rtol=1e-12)
    signs = 2 * BIN - 1  # -1/1 labels are used as they are
    np.testing.assert_allclose(L.hinge(signs, P2).data, ref.mean(-1), rtol=1e-12)
    mixed = np.array([[0.0, 1.0, -1.0]])  # not binary 0/1: no conversion
    np.testing.assert_allclose(
        L.hinge(mixed, np.array([[0.5, 0.5, 0.5]])).data,
        [np.maximum(1 - mixed * 0.5, 0).mean()],
    )


ALL_FUNCTIONS = {
    "mse": lambda y, p: L.mse(Y2, p),
    "mae": lambda y, p: L.mae(Y2, p),
    "huber": lambda y, p: L.huber(Y2, p, 0.7),
    "bce": lambda y, p: L.binary_crossentropy(BIN, p * 0.2 + 0.5, label_smoothing=0.1),
    "bce_logits": lambda y, p: L.binary_crossentropy(BIN, p, from_logits=True),
    "cce": lambda y, p: L.categorical_crossentropy(ONEHOT, p * 0.2 + 0.5, label_smoothing=0.1),
    "cce_logits": lambda y, p: L.categorical_crossentropy(LABELS, p, from_logits=True),
    "scce": lambda y, p: L.sparse_categorical_crossentropy(LABELS, p * 0.2 + 0.5),
    "focal": lambda y, p: L.binary_focal_crossentropy(BIN, p * 0.2 + 0.5, True, gamma=2.0),
    "focal_logits": lambda y, p: L.binary_focal_crossentropy(BIN, p, from_logits=True),
    "cat_focal": lambda y, p: L.categorical_focal_crossentropy(ONEHOT, p, from_logits=True),
    "kld": lambda y, p: L.kl_divergence(PROB, p * 0.2 + 0.5),
    "hinge": lambda y, p: L.hinge(BIN, p),
    "squared_hinge": lambda y, p: L.squared_hinge(BIN, p),
}


@pytest.mark.parametrize("name", ALL_FUNCTIONS)
def test_gradients_against_finite_differences(name):
    p = Tensor(rng.uniform(-1.5, 1.5, size=(6, 4)), requires_grad=True)
    assert gradcheck(lambda t: ALL_FUNCTIONS[name](None, t), [p])


@pytest.mark.parametrize("name", ALL_FUNCTIONS)
def test_float32_predictions_give_float32_losses_and_grads(name):
    p = Tensor(rng.uniform(-1.5, 1.5, size=(6, 4)).astype(np.float32), requires_grad=True)
    out = ALL_FUNCTIONS[name](None, p)  # targets are float64 / int arrays
    assert out.dtype == np.float32 and out.shape == (6,)
    expected = ALL_FUNCTIONS[name](None, Tensor(p.data.astype(np.float64)))
    np.testing.assert_allclose(out.data, expected.data, rtol=2e-5, atol=1e-6)
    out.sum().backward()
    assert p.grad.dtype == np.float32


# ---- Loss classes ----------------------------------------------------------------------------

CLASSES = [
    (L.MeanSquaredError(), L.mean_squared_error, {}, Y2, P2),
    (L.MeanAbsoluteError(), L.mean_absolute_error, {}, Y2, P2),
    (L.Huber(delta=0.5), L.huber, {"delta": 0.5}, Y2, P2),
    (
        L.BinaryCrossentropy(from_logits=True, label_smoothing=0.1),
        L.binary_crossentropy,
        {"from_logits": True, "label_smoothing": 0.1},
        BIN,
        LOGITS,
    ),
    (L.CategoricalCrossentropy(), L.categorical_crossentropy, {}, ONEHOT, PROB),
    (
        L.SparseCategoricalCrossentropy(from_logits=True),
        L.sparse_categorical_crossentropy,
        {"from_logits": True},
        LABELS,
        LOGITS,
    ),
    (
        L.BinaryFocalCrossentropy(apply_class_balancing=True, gamma=1.0),
        L.binary_focal_crossentropy,
        {"apply_class_balancing": True, "gamma": 1.0},
        BIN,
        PROB,
    ),
    (
        L.CategoricalFocalCrossentropy(alpha=[0.1, 0.2, 0.3, 0.4]),
        L.categorical_focal_crossentropy,
        {"alpha": [0.1, 0.2, 0.3, 0.4]},
        ONEHOT,
        PROB,
    ),
    (L.KLDivergence(), L.kl_divergence, {}, PROB, PROB[::-1]),
    (L.Hinge(), L.hinge, {}, BIN, P2),
    (L.SquaredHinge(), L.squared_hinge, {}, BIN, P2),
]


@pytest.mark.parametrize("loss,fn,kwargs,y,p", CLASSES, ids=lambda c: type(c).__name__)
def test_loss_classes_reduce_weighted_per_sample_losses(loss, fn, kwargs, y, p):
    per_sample = fn(y, p, **kwargs).data
    weights = np.linspace(0.0, 2.0, 6)
    np.testing.assert_allclose(loss(y, p).data, per_sample.mean(), rtol=1e-12)
    weighted = per_sample * weights
    np.testing.assert_allclose(loss(y, p, sample_weight=weights).data, weighted.sum() / 6)
    config = json.loads(json.dumps(L.serialize(loss)))
    rebuilt = L.deserialize(config)
    assert type(rebuilt) is type(loss) and rebuilt.get_config() == loss.get_config()
    for reduction, expected in [("sum", weighted.sum()), ("none", weighted)]:
        other = type(loss).from_config({**loss.get_config(), "reduction": reduction})
        np.testing.assert_allclose(other(y, p, weights).data, expected, rtol=1e-12)


def test_sample_weight_shapes_and_errors():
    loss = L.MeanSquaredError(reduction="none")
    w = np.arange(6.0)
    np.testing.assert_allclose(loss(Y2, P2, w[:, None]).data, loss(Y2, P2, w).data)
    seq = L.MeanSquaredError()(np.zeros((2, 3, 4)), np.ones((2, 3, 4)), np.array([1.0, 3.0]))
    np.testing.assert_allclose(seq.data, 2.0)  # (N,) weights spread over the time steps
    with pytest.raises(
        ValueError,
        match=r"sample_weight of shape \(5,\) does not match the "
        r"per-sample losses of shape \(6,\)",
    ):
        loss(Y2, P2, np.ones(5))


def test_loss_reduction_validation_and_gradient():
    with pytest.raises(
        ValueError,
        match="MeanSquaredError: reduction must be one of "
        "'sum_over_batch_size', 'sum', 'none'; got 'mean'",
    ):
        L.MeanSquaredError(reduction="mean")
    assert L.MeanSquaredError(reduction=None).reduction == "none"
    p = Tensor(P2, requires_grad=True)
    L.MeanSquaredError()(Y2, p, sample_weight=np.full(6, 2.0)).backward()
    np.testing.assert_allclose(p.grad, 2.0 * 2 * (P2 - Y2) / P2.size, rtol=1e-12)


# ---- get -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,cls",
    [
        ("mse", L.MeanSquaredError),
        ("mean_squared_error", L.MeanSquaredError),
        ("MSE", L.MeanSquaredError),
        ("mae", L.MeanAbsoluteError),
        ("huber", L.Huber),
        ("binary_crossentropy", L.BinaryCrossentropy),
        ("categorical_crossentropy", L.CategoricalCrossentropy),
        ("sparse_categorical_crossentropy", L.SparseCategoricalCrossentropy),
        ("kl_divergence", L.KLDivergence),
        ("kld", L.KLDivergence),
        ("hinge", L.Hinge),
        ("squared_hinge", L.SquaredHinge),
        ("focal", L.BinaryFocalCrossentropy),
        ("categorical_focal_crossentropy", L.CategoricalFocalCrossentropy),
        ("CategoricalCrossentropy", L.CategoricalCrossentropy),
    ],
)
def test_get_resolves_names(name, cls):
    assert type(L.get(name)) is cls


def test_get_other_identifiers():
    loss = L.Huber(delta=2.0)
    assert L.get(loss) is loss
    assert L.get(None) is None
    assert type(L.get(L.Hinge)) is L.Hinge
    assert type(L.get(L.mean_absolute_error)) is L.MeanAbsoluteError
    assert L.get({"class_name": "Huber", "config": {"delta": 3.0}}).get_config()["delta"] == 3.0

    def cubed(y_true, y_pred):
        return ((y_pred - y_true) ** 3).mean(axis=-1)

    custom = L.get(cubed)
    assert isinstance(custom, L.Loss) and custom.name == "cubed"
    np.testing.assert_allclose(custom(Tensor(Y2), Tensor(P2)).data, ((P2 - Y2) ** 3).mean())
    p32 = Tensor(P2.astype(np.float32), requires_grad=True)
    out = custom(Y2, p32)  # a float64 target does not promote float32 predictions
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, ((P2 - Y2) ** 3).mean(), rtol=1e-5)
    with pytest.raises(ValueError, match="cannot rebuild a loss that wraps a custom function"):
        L.deserialize(L.serialize(custom))
    wrapped = L.LossFunctionWrapper(L.hinge)  # a built-in function survives a round trip
    assert L.deserialize(L.serialize(wrapped)).fn is L.hinge


def test_get_errors():
    with pytest.raises(
        ValueError,
        match=r"unknown loss 'msee'; known losses: bce, "
        r"binary_crossentropy, .*mse, .*squared_hinge",
    ):
        L.get("msee")
    with pytest.raises(TypeError, match="cannot interpret 3 as a loss"):
        L.get(3)
    with pytest.raises(ValueError, match="unknown loss class 'Nope' in config"):
        L.deserialize({"class_name": "Nope", "config": {}})


# ---- class weights ---------------------------------------------------------------------------


def test_class_weight_dict_with_labels_and_one_hot():
    y = np.array([0, 2, 1, 2, 0, 3])
    expected = np.array([0.5, 3.0, 1.0, 3.0, 0.5, 1.0])  # class 3 missing -> 1, as Keras
    weights = {0: 0.5, 2: 3.0}
    for labels in (y, y[:, None], np.eye(4)[y], y.astype(float)):
        got = L.class_weight_to_sample_weight(labels, weights)
        np.testing.assert_array_equal(got, expected)
        assert got.dtype == np.float32
    binary = np.array([[0.0], [1.0], [1.0]])
    np.testing.assert_array_equal(L.class_weight_to_sample_weight(binary, {1: 4}), [1, 4, 4])


def test_balanced_class_weight_equals_sklearn():
    from sklearn.utils.class_weight import compute_class_weight

    y = np.random.default_rng(3).choice([0, 1, 1, 1, 4, 4], size=50)
    classes = np.unique(y)
    per_class = compute_class_weight("balanced", classes=classes, y=y)
    expected = per_class[np.searchsorted(classes, y)]
    got = L.class_weight_to_sample_weight(y, "balanced")
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    np.testing.assert_allclose(L.class_weight_to_sample_weight(np.eye(5)[y], "balanced"), got)


def test_class_weight_errors():
    with pytest.raises(
        ValueError, match="class_weight must be a dict {class: weight} or 'balanced'; got 'auto'"
    ):
        L.class_weight_to_sample_weight(np.array([0, 1]), "auto")
    with pytest.raises(TypeError, match="got list"):
        L.class_weight_to_sample_weight(np.array([0, 1]), [1.0, 2.0])
    with pytest.raises(ValueError, match="keys must be non-negative integers; got 'a'"):
        L.class_weight_to_sample_weight(np.array([0, 1]), {"a": 1.0})
    with pytest.raises(ValueError, match=r"labels of shape \(N,\), \(N, 1\) or one-hot"):
        L.class_weight_to_sample_weight(np.zeros((2, 3, 4)), {0: 1.0})
