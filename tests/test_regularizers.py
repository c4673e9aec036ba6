import numpy as np
import pytest

from nnlab import Tensor, gradcheck, regularizers
from nnlab.nn import Parameter

W = np.array([[0.5, -1.5, 2.0], [0.0, -0.25, 1.0]])


def grad_of(regularizer, w=W):
    x = Parameter(w.copy())
    penalty = regularizer(x)
    penalty.backward()
    return penalty, x.grad


def test_l2_value_and_gradient():
    penalty, grad = grad_of(regularizers.L2(0.1))
    assert penalty.shape == ()
    assert penalty.item() == pytest.approx(0.1 * np.sum(W**2), rel=1e-15)
    np.testing.assert_allclose(grad, 2 * 0.1 * W, rtol=1e-15)


def test_l1_value_and_gradient():
    penalty, grad = grad_of(regularizers.L1(0.3))
    assert penalty.item() == pytest.approx(0.3 * np.sum(np.abs(W)), rel=1e-15)
    np.testing.assert_allclose(grad, 0.3 * np.sign(W), rtol=1e-15)  # sign(0) = 0


def test_l1l2_is_the_sum():
    penalty, grad = grad_of(regularizers.L1L2(l1=0.2, l2=0.05))
    assert penalty.item() == pytest.approx(0.2 * np.abs(W).sum() + 0.05 * (W**2).sum())
    np.testing.assert_allclose(grad, 0.2 * np.sign(W) + 0.1 * W, rtol=1e-14)


def test_defaults_and_zero_penalty():
    assert regularizers.L1().l1 == 0.01 and regularizers.L2().l2 == 0.01
    assert regularizers.L2(None).l2 == 0.01  # as Keras
    zero = regularizers.L1L2()(Tensor(np.ones(3, np.float32)))
    assert zero.item() == 0.0 and zero.dtype == np.float32


@pytest.mark.parametrize(
    "regularizer", [regularizers.L1(0.3), regularizers.L2(0.7), regularizers.L1L2(0.1, 0.2)]
)
def test_gradcheck(regularizer):
    w = np.random.default_rng(0).uniform(-2, 2, (3, 4))
    w[np.abs(w) < 0.1] = 0.5  # keep |w| away from its kink at 0
    assert gradcheck(regularizer, [Tensor(w, requires_grad=True)])


def test_float32_stays_float32():
    x = Parameter(W.astype(np.float32))
    penalty = regularizers.L1L2(0.1, 0.1)(x)
    assert penalty.dtype == np.float32
    penalty.backward()
    assert x.grad.dtype == np.float32


def test_config_round_trip_and_keras_aliases():
    for reg in [regularizers.L1(0.2), regularizers.L2(0.3), regularizers.L1L2(0.1, 0.4)]:
        clone = type(reg).from_config(reg.get_config())
        assert clone.get_config() == reg.get_config()
    assert regularizers.L2(0.3).get_config() == {"l2": 0.3}
    assert regularizers.L1L2(0.1, 0.4).get_config() == {"l1": 0.1, "l2": 0.4}
    assert regularizers.l2 is regularizers.L2 and regularizers.l1_l2 is regularizers.L1L2
    assert repr(regularizers.L2(0.5)) == "L2(l2=0.5)"


def test_get():
    assert regularizers.get(None) is None
    assert isinstance(regularizers.get("l1"), regularizers.L1)
    assert isinstance(regularizers.get("L2"), regularizers.L2)
    assert isinstance(regularizers.get("l1_l2"), regularizers.L1L2)
    reg = regularizers.L2(0.5)
    assert regularizers.get(reg) is reg

    def custom(w):
        return (w * w).mean()

    assert regularizers.get(custom) is custom
    from_dict = regularizers.get({"class_name": "L1L2", "config": {"l1": 0.1, "l2": 0.2}})
    assert from_dict.get_config() == {"l1": 0.1, "l2": 0.2}


def test_errors():
    with pytest.raises(ValueError, match=r"unknown regularizer 'l3'; known names: \['l1'"):
        regularizers.get("l3")
    with pytest.raises(TypeError, match="could not interpret regularizer 0.1"):
        regularizers.get(0.1)
    with pytest.raises(ValueError, match="coefficient l2 must be finite and >= 0, got -0.1"):
        regularizers.L2(-0.1)
