import numpy as np
import pytest

import nnlab.functional as F
from nnlab import Tensor

from oracles import check_op


@pytest.mark.parametrize(
    "shape,fn,ref",
    [
        ((2, 6), lambda a: a.reshape(3, 4), lambda a: a.reshape(3, 4)),
        ((2, 3, 4), lambda a: a.reshape(-1), lambda a: a.reshape(-1)),
        ((2, 3, 4), lambda a: a.transpose(2, 0, 1), lambda a: a.transpose(2, 0, 1)),
        ((3, 4), lambda a: a.T, lambda a: a.T),
        ((3, 1, 4), lambda a: a.squeeze(1), lambda a: a.squeeze(1)),
        ((3, 4), lambda a: a.unsqueeze(0), lambda a: a[None]),
        ((2, 3, 4, 5), lambda a: a.flatten(1), lambda a: a.reshape(2, -1)),
        ((2, 3, 4, 5), lambda a: F.flatten(a, 1, 2), lambda a: a.reshape(2, 12, 5)),
        ((3, 1), lambda a: a.broadcast_to((2, 3, 4)), lambda a: np.broadcast_to(a, (2, 3, 4))),
        ((5, 4), lambda a: a[1:4, ::2], lambda a: a[1:4, ::2]),
        ((5, 4), lambda a: a[2], lambda a: a[2]),
        ((5, 4), lambda a: a[..., None, 1], lambda a: a[..., None, 1]),
        ((5, 4), lambda a: a[np.array([0, 2, 2, 4])], lambda a: a[np.array([0, 2, 2, 4])]),
        (
            (5, 4),
            lambda a: a[np.arange(5), np.array([0, 1, 1, 3, 0])],
            lambda a: a[np.arange(5), np.array([0, 1, 1, 3, 0])],
        ),
        (
            (4, 3),
            lambda a: a[np.array([True, False, True, True])],
            lambda a: a[np.array([True, False, True, True])],
        ),
        ((2, 3), lambda a: F.pad(a, ((1, 0), (2, 1))), lambda a: np.pad(a, ((1, 0), (2, 1)))),
        ((2, 3), lambda a: F.pad(a, 1, value=-1.0), lambda a: np.pad(a, 1, constant_values=-1)),
    ],
)
def test_shape_ops(shape, fn, ref):
    check_op(fn, ref, [shape])


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concat_and_stack(axis):
    shapes = [(2, 3), (2, 3), (2, 3)]
    check_op(lambda *t: F.concat(t, axis=axis), lambda *a: np.concatenate(a, axis=axis), shapes)
    check_op(lambda *t: F.stack(t, axis=axis), lambda *a: np.stack(a, axis=axis), shapes)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_unbind_slices_and_stacks_gradients(axis):
    a = np.arange(36.0).reshape(3, 4, 3)
    parts = F.unbind(Tensor(a), axis=axis)
    assert len(parts) == a.shape[axis]
    for i, part in enumerate(parts):
        np.testing.assert_array_equal(part.data, np.take(a, i, axis=axis))
    # Output 1 unused: its share of the gradient must come back as zeros.
    check_op(
        lambda t: (lambda u: u[0] * 2.0 + u[2] * u[2])(F.unbind(t, axis=axis)),
        lambda x: np.take(x, 0, axis=axis) * 2.0 + np.take(x, 2, axis=axis) ** 2,
        [(3, 4, 3)],
    )


def test_concat_unequal_sizes():
    shapes = [(2, 1), (2, 3), (2, 2)]
    check_op(lambda *t: F.concat(t, axis=1), lambda *a: np.concatenate(a, axis=1), shapes)


def test_repeated_integer_index_accumulates():
    x = Tensor(np.zeros(3), requires_grad=True)
    x[np.array([0, 0, 2])].sum().backward()
    np.testing.assert_array_equal(x.grad, [2, 0, 1])


def test_negative_padding_is_rejected():
    with pytest.raises(ValueError, match="non-negative"):
        F.pad(Tensor(np.zeros((2, 2))), -1)


def test_pytorchs_dim_keyword_names_the_axis():
    x = Tensor(np.arange(12.0).reshape(3, 4))
    np.testing.assert_array_equal(F.softmax(x, dim=0).data, F.softmax(x, 0).data)
    np.testing.assert_array_equal(F.log_softmax(x, dim=0).data, F.log_softmax(x, axis=0).data)
    assert F.cat([x, x], dim=1).shape == (3, 8) and F.stack([x, x], dim=1).shape == (3, 2, 4)
    assert [t.shape for t in F.unbind(x, dim=1)] == [(3,)] * 4
    with pytest.raises(TypeError, match="got both axis=0 and dim=1"):
        F.softmax(x, axis=0, dim=1)
