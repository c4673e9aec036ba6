import gc
import weakref

import numpy as np
import pytest

import nnlab
from nnlab import Tensor, gradcheck, no_grad
from nnlab.autograd import Function, apply


def test_chain_of_ten_thousand_ops():
    x = Tensor([1.0], requires_grad=True, dtype=np.float64)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.backward(np.ones(1))
    np.testing.assert_allclose(x.grad, [1.0001**10_000], rtol=1e-9)


def test_gradients_accumulate_across_backward_calls():
    x = Tensor([2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad, [8.0, 12.0])


def test_shared_subexpression_gets_both_contributions():
    x = Tensor([3.0], requires_grad=True)
    y = x * x
    z = y + y * x  # x^2 + x^3
    z.backward(np.ones(1, np.float32))
    np.testing.assert_allclose(x.grad, [2 * 3 + 3 * 9])


def test_no_grad_records_nothing():
    x = Tensor([1.0], requires_grad=True)
    with no_grad():
        y = x * 2
    assert not y.requires_grad and y.is_leaf
    assert nnlab.autograd.is_grad_enabled()


def test_detach_cuts_the_graph():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * 3).detach() * x
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [3.0, 6.0])


def test_clone_copies_the_data_and_stays_in_the_graph():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x.clone()
    y.data[0] = 10.0  # the clone's memory is its own
    np.testing.assert_array_equal(x.data, [1.0, 2.0])
    (y * y).sum().backward()
    np.testing.assert_allclose(x.grad, [20.0, 4.0])
    assert gradcheck(lambda t: t.clone() * t, [Tensor(np.array([0.5, -1.5]), requires_grad=True)])


def test_argmax_and_argmin_give_integer_arrays_that_compare_with_labels():
    logits = Tensor(np.array([[0.1, 2.0, -1.0], [3.0, 0.0, 1.0]]), requires_grad=True)
    assert isinstance(logits.argmax(1), np.ndarray)
    np.testing.assert_array_equal(logits.argmax(1) == np.array([1, 2]), [True, False])
    np.testing.assert_array_equal(logits.argmin(axis=1, keepdims=True), [[2], [1]])
    assert logits.argmax() == 3


def test_truth_and_number_conversions_follow_numpy():
    assert bool(Tensor(np.array(1.0))) and not bool(Tensor(np.array([0.0])))
    with pytest.raises(ValueError, match="ambiguous"):
        bool(Tensor(np.ones(3)))  # not silently true because it has a length
    loss = (Tensor(np.array([1.5, 2.0]), requires_grad=True) ** 2).mean()
    assert float(loss) == pytest.approx(3.125) and int(Tensor(np.array(7.9))) == 7
    with pytest.raises(ValueError, match="size 1"):
        float(Tensor(np.ones(2)))


def test_second_backward_without_retain_graph_raises():
    x = Tensor([1.0], requires_grad=True)
    y = (x * 2).exp()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = Tensor([1.0], requires_grad=True)
    y = (x * 2).exp()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad, [4 * np.exp(2)], rtol=1e-6)


class _Probe(Function):
    """An identity op whose saved array we can watch being freed."""

    def forward(self, a, box=None):
        self.saved = np.array(a)
        box.append(weakref.ref(self))
        return a.copy()

    def backward(self, grad_out):
        return grad_out


def test_graph_is_freed_after_backward():
    box = []
    x = Tensor([1.0], requires_grad=True)
    y = apply(_Probe, x, box=box)
    y.sum().backward()
    gc.collect()
    fn = box[0]()
    assert fn is None or not hasattr(fn, "saved")


class _SplitTwo(Function):
    """A two-output op: (a, 2a)."""

    def forward(self, a):
        return a.copy(), 2 * a

    def backward(self, grads):
        g1, g2 = grads
        return g1 + 2 * g2


def test_multi_output_function():
    x = Tensor([1.0, 2.0], requires_grad=True)
    a, b = apply(_SplitTwo, x)
    (a * 3 + b).sum().backward()
    np.testing.assert_allclose(x.grad, [5.0, 5.0])
    y = Tensor([1.0], requires_grad=True)
    _, only_b = apply(_SplitTwo, y)  # the unused output's gradient arrives as zeros
    only_b.sum().backward()
    np.testing.assert_allclose(y.grad, [2.0])


def test_backward_needs_scalar_or_grad():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="single-value"):
        (x * 2).backward()
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor([1.0]).backward()


def test_gradcheck_catches_a_wrong_backward():
    class WrongSquare(Function):
        def forward(self, a):
            self.a = a
            return a * a

        def backward(self, grad_out):
            return grad_out * self.a  # should be 2a

    x = Tensor(np.array([0.5, -1.5]), requires_grad=True)
    with pytest.raises(AssertionError, match="disagrees"):
        gradcheck(lambda t: apply(WrongSquare, t), [x])
    assert gradcheck(lambda t: t * t, [x])


def test_gradcheck_random_directions_for_large_inputs():
    x = Tensor(np.random.default_rng(0).normal(size=(20, 20)), requires_grad=True)
    assert gradcheck(lambda t: (t.exp() * t).sum(axis=0), [x], full_jacobian_limit=10)


def test_gradcheck_requires_float64():
    with pytest.raises(TypeError, match="float64"):
        gradcheck(lambda t: t * 2, [Tensor([1.0], requires_grad=True)])


def test_default_dtype_and_array_dtype():
    assert Tensor([1.0, 2.0]).dtype == np.float32
    assert Tensor(np.zeros(2)).dtype == np.float64
    assert Tensor(np.array([1, 2])).dtype.kind == "i"
    with pytest.raises(TypeError, match="float"):
        Tensor(np.array([1, 2]), requires_grad=True)


def test_cast_is_differentiable():
    x = Tensor(np.array([1.0, 2.0], np.float32), requires_grad=True)
    y = x.double() * 3
    assert y.dtype == np.float64
    y.sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, [3, 3])
