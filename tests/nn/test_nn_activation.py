import json

import numpy as np
import pytest

import nnlab.functional as F
from nnlab import Tensor, nn
from nnlab.nn import activation as act
from nnlab.nn.module import Module, class_key, registered

X = np.array([[-3.0, -0.5, 0.0, 0.7, 2.5], [1.0, -1.0, 4.0, -2.0, 0.1]])

# name given to get() -> (expected class, the functional op it must compute)
BY_NAME = {
    "linear": (act.Identity, lambda x: x),
    "relu": (act.ReLU, F.relu),
    "sigmoid": (act.Sigmoid, F.sigmoid),
    "tanh": (act.Tanh, F.tanh),
    "softmax": (act.Softmax, lambda x: F.softmax(x, axis=-1)),
    "log_softmax": (act.LogSoftmax, lambda x: F.log_softmax(x, axis=-1)),
    "leaky_relu": (act.LeakyReLU, lambda x: F.leaky_relu(x, 0.01)),
    "elu": (act.ELU, lambda x: F.elu(x, 1.0)),
    "selu": (act.SELU, F.selu),
    "gelu": (act.GELU, lambda x: F.gelu(x, "none")),
    "softplus": (act.Softplus, lambda x: F.softplus(x, 1.0, 20.0)),
    "silu": (act.SiLU, F.silu),
    "swish": (act.SiLU, F.silu),
}


@pytest.mark.parametrize("name", BY_NAME)
def test_get_by_name(name):
    cls, op = BY_NAME[name]
    module = act.get(name)
    assert type(module) is cls
    np.testing.assert_array_equal(module(Tensor(X)).data, op(Tensor(X)).data)


def test_get_by_name_hand_checked_values():
    x = Tensor([-2.0, 0.0, 3.0])
    np.testing.assert_array_equal(act.get("relu")(x).data, [0.0, 0.0, 3.0])
    np.testing.assert_allclose(act.get("leaky_relu")(x).data, [-0.02, 0.0, 3.0])
    np.testing.assert_allclose(act.get("sigmoid")(x).data, 1 / (1 + np.exp([2.0, 0.0, -3.0])))
    np.testing.assert_allclose(act.get("softmax")(x).data.sum(), 1.0, rtol=1e-6)


def test_get_is_case_insensitive():
    np.testing.assert_array_equal(act.get("ReLU")(Tensor([-1.0, 2.0])).data, [0.0, 2.0])


def test_get_none_is_identity():
    module = act.get(None)
    x = Tensor(X)
    assert isinstance(module, act.Identity)
    assert module(x) is x


def test_get_returns_module_instance_as_is():
    module = act.LeakyReLU(0.3)
    assert act.get(module) is module


def test_get_instantiates_a_module_class():
    module = act.get(act.ELU)
    assert type(module) is act.ELU and module.alpha == 1.0
    np.testing.assert_allclose(module(Tensor([-1.0, 2.0])).data, [np.expm1(-1.0), 2.0])


def test_get_wraps_a_callable():
    module = act.get(lambda x: x * 2.0)
    assert isinstance(module, Module)
    np.testing.assert_array_equal(module(Tensor([1.0, -3.0])).data, [2.0, -6.0])
    np.testing.assert_array_equal(act.get(F.tanh)(Tensor(X)).data, np.tanh(X))
    assert repr(act.get(F.tanh)) == "CallableActivation(tanh)"


def test_wrapped_callable_cannot_be_saved():
    with pytest.raises(NotImplementedError, match="cannot save a config for the callable tanh"):
        act.get(F.tanh).get_config()


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError) as info:
        act.get("rleu")
    message = str(info.value)
    assert message.startswith("unknown activation 'rleu'; known names: ")
    for name in BY_NAME:
        assert name in message


def test_non_activation_type_is_rejected():
    with pytest.raises(TypeError, match="activation must be None, a name, a Module or a "
                                        "callable, got int"):  # fmt: skip
        act.get(3)


def test_gelu_module_rejects_unknown_approximation():
    with pytest.raises(ValueError, match="GELU approximate must be 'none' or 'tanh', got 'fast'"):
        act.GELU("fast")


CONFIGURED = [
    (act.Identity(), {}),
    (act.ReLU(), {}),
    (act.Sigmoid(), {}),
    (act.Tanh(), {}),
    (act.SELU(), {}),
    (act.SiLU(), {}),
    (act.LeakyReLU(0.2), {"negative_slope": 0.2}),
    (act.ELU(alpha=0.5), {"alpha": 0.5}),
    (act.GELU(approximate="tanh"), {"approximate": "tanh"}),
    (act.Softplus(beta=2.0, threshold=4.0), {"beta": 2.0, "threshold": 4.0}),
    (act.Softmax(dim=0), {"dim": 0}),
    (act.LogSoftmax(dim=1), {"dim": 1}),
]


@pytest.mark.parametrize("module,config", CONFIGURED, ids=lambda m: type(m).__name__)
def test_config_round_trip(module, config):
    assert module.get_config() == config
    rebuilt = registered(class_key(type(module))).from_config(
        json.loads(json.dumps(module.get_config()))
    )
    assert type(rebuilt) is type(module)
    assert rebuilt.get_config() == config
    assert repr(rebuilt) == repr(module)
    np.testing.assert_array_equal(rebuilt(Tensor(X)).data, module(Tensor(X)).data)


def test_defaults_follow_pytorch():
    assert act.LeakyReLU().get_config() == {"negative_slope": 0.01}
    assert act.ELU().get_config() == {"alpha": 1.0}
    assert act.GELU().get_config() == {"approximate": "none"}
    assert act.Softplus().get_config() == {"beta": 1.0, "threshold": 20.0}
    assert act.Softmax().get_config() == {"dim": -1}
    assert act.LogSoftmax().get_config() == {"dim": -1}


def test_reprs():
    assert repr(act.ReLU()) == "ReLU()"
    assert repr(act.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert repr(act.GELU()) == "GELU(approximate='none')"
    assert repr(act.Softplus()) == "Softplus(beta=1.0, threshold=20.0)"
    assert repr(act.Softmax(dim=1)) == "Softmax(dim=1)"


def test_modules_have_no_parameters_and_pass_gradients():
    module = act.Softplus(beta=2.0)
    assert module.parameters() == [] and module.state_dict() == {}
    x = Tensor(np.array([-1.0, 0.0, 1.0]), requires_grad=True)
    module(x).sum().backward()
    np.testing.assert_allclose(x.grad, 1 / (1 + np.exp([2.0, 0.0, -2.0])), rtol=1e-12)


def test_pytorch_keyword_names_port_unchanged():
    assert act.Softmax(dim=0).dim == 0 and act.LogSoftmax(dim=1).dim == 1
    for module in (act.ReLU(inplace=True), act.SELU(inplace=True), act.SiLU(inplace=True)):
        assert module.get_config() == {}  # nnlab never overwrites the input: nothing to save
    assert act.LeakyReLU(0.2, inplace=True).get_config() == {"negative_slope": 0.2}
    assert act.ELU(inplace=True).get_config() == {"alpha": 1.0}
    x = Tensor(X)
    out = act.ReLU(inplace=True)(x)
    np.testing.assert_array_equal(x.data, X)  # the input is left as it was
    np.testing.assert_array_equal(out.data, np.maximum(X, 0))
    with pytest.raises(TypeError, match="inplace must be True or False, got 'yes'"):
        act.ReLU(inplace="yes")
    assert nn.Dropout(p=0.1, inplace=True).get_config() == {"p": 0.1}
    assert nn.Dropout2d(p=0.2, inplace=True).get_config() == {"p": 0.2}


def test_configs_saved_with_the_older_axis_key_still_load():
    assert act.Softmax.from_config({"axis": 0}).dim == 0
    assert act.LogSoftmax.from_config({"axis": 1}).dim == 1
