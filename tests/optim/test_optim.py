import json

import numpy as np
import pytest

from nnlab import Tensor, optim
from nnlab.nn import Module, Parameter
from nnlab.optim.optimizer import CHUNK

# Each optimizer with settings that exercise all of its branches.
CONFIGS = {
    "sgd": (optim.SGD, {"lr": 0.1}),
    "sgd_momentum": (optim.SGD, {"lr": 0.05, "momentum": 0.9, "dampening": 0.1}),
    "sgd_nesterov": (
        optim.SGD,
        {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-3},
    ),
    "rmsprop": (optim.RMSprop, {"lr": 0.03}),
    "rmsprop_centered": (
        optim.RMSprop,
        {"lr": 0.01, "momentum": 0.5, "centered": True, "weight_decay": 1e-3},
    ),
    "adagrad": (
        optim.Adagrad,
        {"lr": 0.5, "lr_decay": 1e-3, "weight_decay": 1e-4, "initial_accumulator_value": 0.1},
    ),
    "adam": (optim.Adam, {"lr": 0.05}),
    "adam_amsgrad": (optim.Adam, {"lr": 0.05, "amsgrad": True, "weight_decay": 1e-3}),
    "adamw": (optim.AdamW, {"lr": 0.05}),
    "nadam": (optim.NAdam, {"lr": 0.05, "weight_decay": 1e-3}),
    "nadam_decoupled": (
        optim.NAdam,
        {"lr": 0.05, "weight_decay": 1e-3, "decoupled_weight_decay": True},
    ),
}

TARGET = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0]])
CURVATURE = np.array([[1.0, 2.0, 0.5], [1.5, 1.0, 3.0]])


def quadratic_loss(w: Tensor) -> Tensor:
    """0.5 * sum(c * (w - target)^2): minimum at target, condition number 6."""
    diff = w - TARGET.astype(w.dtype)
    return (diff * diff * (0.5 * CURVATURE).astype(w.dtype)).sum()


def make(name, dtype=np.float32, seed=0, **extra):
    cls, kwargs = CONFIGS[name]
    w = Parameter(np.random.default_rng(seed).uniform(-3, 3, (2, 3)).astype(dtype))
    return w, cls([w], **{**kwargs, **extra})


def train(w, opt, steps):
    for _ in range(steps):
        opt.zero_grad()
        quadratic_loss(w).backward()
        opt.step()


@pytest.mark.parametrize("name", CONFIGS)
def test_converges_on_quadratic(name):
    w, opt = make(name)
    start = quadratic_loss(w).item()
    train(w, opt, 600)
    assert quadratic_loss(w).item() < 1e-3 * start
    tol = 0.1 if "decoupled" in name or name == "adamw" else 0.05  # decay pulls toward 0
    np.testing.assert_allclose(w.data, TARGET, atol=tol)


@pytest.mark.parametrize("name", CONFIGS)
def test_step_updates_in_place_and_leaves_grad_alone(name):
    w, opt = make(name, clipvalue=0.5)
    data = w.data
    for _ in range(3):
        before = data.copy()
        opt.zero_grad()
        quadratic_loss(w).backward()
        grad = w.grad
        saved = grad.copy()
        opt.step()
        assert w.data is data, "step() must update p.data in place"
        assert w.grad is grad
        np.testing.assert_array_equal(w.grad, saved)
        assert not np.array_equal(data, before)


@pytest.mark.parametrize("name", CONFIGS)
def test_state_keeps_float32(name):
    w, opt = make(name)
    train(w, opt, 2)
    assert w.data.dtype == np.float32
    for value in opt.state[w].values():
        if isinstance(value, np.ndarray):
            assert value.dtype == np.float32


@pytest.mark.parametrize("name", CONFIGS)
def test_state_dict_round_trip_continues_identically(name):
    w, opt = make(name, dtype=np.float64)
    train(w, opt, 5)
    saved = opt.state_dict()
    w2, opt2 = make(name, dtype=np.float64, seed=1)
    w2.data[...] = w.data
    opt2.load_state_dict(saved)
    train(w, opt, 5)
    train(w2, opt2, 5)
    np.testing.assert_array_equal(w2.data, w.data)


@pytest.mark.parametrize("name", ["adam", "nadam", "rmsprop_centered"])
def test_state_dict_survives_json(name):
    w, opt = make(name, dtype=np.float64)
    train(w, opt, 4)
    state = opt.state_dict()
    as_json = json.dumps(
        {
            "state": {
                k: {n: (v.tolist() if isinstance(v, np.ndarray) else v) for n, v in s.items()}
                for k, s in state["state"].items()
            },
            "param_groups": state["param_groups"],
        }
    )
    w2, opt2 = make(name, dtype=np.float64)
    w2.data[...] = w.data
    opt2.load_state_dict(json.loads(as_json))  # string keys, lists for arrays and betas
    assert opt2.param_groups[0] == {**opt.param_groups[0], "params": [w2]}
    train(w, opt, 3)
    train(w2, opt2, 3)
    np.testing.assert_array_equal(w2.data, w.data)


def test_state_dict_is_a_plain_copy():
    w, opt = make("adam")
    train(w, opt, 2)
    state = opt.state_dict()
    assert state["param_groups"] == [
        {
            "lr": 0.05,
            "betas": (0.9, 0.999),
            "eps": 1e-8,
            "weight_decay": 0.0,
            "amsgrad": False,
            "decoupled_weight_decay": False,
            "params": [0],
        }
    ]
    assert state["state"][0]["step"] == 2 and isinstance(state["state"][0]["step"], int)
    exp_avg = state["state"][0]["exp_avg"].copy()
    train(w, opt, 1)
    np.testing.assert_array_equal(state["state"][0]["exp_avg"], exp_avg)


def test_load_state_dict_rejects_mismatches_and_changes_nothing():
    w, opt = make("adam")
    train(w, opt, 2)
    state = opt.state_dict()
    other = optim.Adam([Parameter(np.zeros((3, 2), np.float32))], lr=0.5)
    with pytest.raises(ValueError, match=r"'exp_avg' of parameter 0 has shape \(2, 3\)"):
        other.load_state_dict(state)
    assert other.state == {} and other.lr == 0.5
    two = optim.Adam([Parameter(np.zeros(2)), Parameter(np.zeros(3))])
    with pytest.raises(ValueError, match="group 0 has 1 parameters in the state but 2"):
        two.load_state_dict(state)
    groups = optim.Adam(
        [{"params": [Parameter(np.zeros(2))]}, {"params": [Parameter(np.zeros(2))]}]
    )
    with pytest.raises(ValueError, match="the state has 1 parameter groups"):
        groups.load_state_dict(state)


def test_first_steps_match_hand_computed_values():
    g = np.array([0.5, -2.0])
    # SGD with momentum: b1 = g, b2 = 0.9 b1 + g
    p = Parameter(np.array([1.0, 1.0]))
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = g
    opt.step()
    opt.step()
    np.testing.assert_allclose(p.data, 1.0 - 0.1 * g - 0.1 * 1.9 * g, rtol=1e-15)
    # Adam's first step moves each weight by lr * g / (|g| + eps)
    p = Parameter(np.array([1.0, 1.0]))
    opt = optim.Adam([p], lr=0.1)
    p.grad = g
    opt.step()
    np.testing.assert_allclose(p.data, 1.0 - 0.1 * g / (np.abs(g) + 1e-8), rtol=1e-12)
    # Adagrad: s = 0.1 + g^2, p -= lr * g / (sqrt(s) + eps)
    p = Parameter(np.array([1.0, 1.0]))
    opt = optim.Adagrad([p], lr=0.1, initial_accumulator_value=0.1)
    p.grad = g
    opt.step()
    np.testing.assert_allclose(p.data, 1.0 - 0.1 * g / (np.sqrt(0.1 + g * g) + 1e-10), rtol=1e-14)
    # RMSprop: v = 0.01 g^2, p -= lr * g / (sqrt(v) + eps)
    p = Parameter(np.array([1.0, 1.0]))
    opt = optim.RMSprop([p], lr=0.01)
    p.grad = g
    opt.step()
    np.testing.assert_allclose(p.data, 1.0 - 0.01 * g / (0.1 * np.abs(g) + 1e-8), rtol=1e-14)


def test_adamw_decays_weights_without_gradient_signal():
    p = Parameter(np.array([2.0, -4.0]))
    opt = optim.AdamW([p], lr=0.1, weight_decay=0.5)
    p.grad = np.zeros(2)
    opt.step()
    np.testing.assert_allclose(p.data, [2.0 * 0.95, -4.0 * 0.95], rtol=1e-14)


def test_params_without_grad_are_skipped_and_get_no_state():
    a, b = Parameter(np.ones(2)), Parameter(np.ones(2))
    opt = optim.Adam([a, b], lr=0.1)
    a.grad = np.ones(2)
    opt.step()
    np.testing.assert_array_equal(b.data, [1.0, 1.0])
    assert b not in opt.state and opt.state[a]["step"] == 1


def test_param_groups_have_their_own_settings():
    a, b = Parameter(np.zeros(2)), Parameter(np.zeros(2))
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5}], lr=0.1, momentum=0.0)
    assert opt.param_groups[1]["momentum"] == 0.0 and opt.param_groups[1]["lr"] == 0.5
    a.grad, b.grad = np.ones(2), np.ones(2)
    opt.step()
    np.testing.assert_allclose(a.data, [-0.1, -0.1])
    np.testing.assert_allclose(b.data, [-0.5, -0.5])
    assert opt.lr == 0.1
    opt.lr = 0.01
    assert [g["lr"] for g in opt.param_groups] == [0.01, 0.01]
    assert opt.learning_rate == 0.01
    c = Parameter(np.zeros(1))
    opt.add_param_group({"params": [c], "momentum": 0.9})
    assert opt.param_groups[2]["lr"] == 0.01 and opt.param_groups[2]["momentum"] == 0.9


def test_module_and_unbound_optimizers():
    class Net(Module):
        def __init__(self):
            super().__init__()
            self.w = Parameter(np.ones(3))

    net = Net()
    assert optim.SGD(net).param_groups[0]["params"] == [net.w]
    opt = optim.Adam(lr=0.2)
    assert opt.lr == 0.2
    with pytest.raises(RuntimeError, match="no parameters"):
        opt.step()
    opt.build(net.parameters())
    net.w.grad = np.ones(3)
    opt.step()
    np.testing.assert_allclose(net.w.data, 0.8, rtol=1e-7)
    with pytest.raises(RuntimeError, match="already has parameters"):
        opt.build(net.parameters())


def test_zero_grad():
    p = Parameter(np.ones(2))
    opt = optim.SGD([p])
    p.grad = np.ones(2)
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad, [0.0, 0.0])
    opt.zero_grad()
    assert p.grad is None


def test_closure_loss_is_returned():
    w, opt = make("sgd")

    def closure():
        opt.zero_grad()
        loss = quadratic_loss(w)
        loss.backward()
        return loss

    first = opt.step(closure).item()
    assert opt.step(closure).item() < first


def test_bad_arguments_get_clear_errors():
    p = Parameter(np.ones(2))
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([])
    with pytest.raises(TypeError, match="item 0 of parameter group 0 is a ndarray"):
        optim.SGD([np.ones(2)])
    with pytest.raises(ValueError, match="repeats a parameter"):
        optim.SGD([p, p])
    with pytest.raises(ValueError, match="not a leaf"):
        optim.SGD([Tensor(np.ones(2), requires_grad=True) * 2])
    with pytest.raises(ValueError, match="Nesterov momentum needs momentum > 0"):
        optim.SGD([p], nesterov=True)
    with pytest.raises(ValueError, match="invalid lr: -1"):
        optim.Adam([p], lr=-1)
    with pytest.raises(ValueError, match="betas must be two numbers"):
        optim.Adam([p], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="unknown settings \\['momentum'\\]"):
        optim.Adam([{"params": [p], "momentum": 0.9}])
    with pytest.raises(ValueError, match="only one of clipnorm and global_clipnorm"):
        optim.SGD([p], clipnorm=1.0, global_clipnorm=1.0)
    with pytest.raises(ValueError, match="on_nonfinite must be one of"):
        optim.SGD([p], on_nonfinite="warn")


def test_get_resolves_names_classes_and_instances():
    p = Parameter(np.ones(2))
    expected = {
        "sgd": optim.SGD,
        "momentum": optim.SGD,
        "rmsprop": optim.RMSprop,
        "adagrad": optim.Adagrad,
        "adam": optim.Adam,
        "adamw": optim.AdamW,
        "nadam": optim.NAdam,
    }
    for name, cls in expected.items():
        opt = optim.get(name, [p])
        assert type(opt) is cls and opt.param_groups[0]["params"] == [p]
    assert optim.get("momentum", [p]).param_groups[0]["momentum"] == 0.9
    assert optim.get("Adam", [p], learning_rate=0.3).lr == 0.3
    assert optim.get(optim.RMSprop, [p], alpha=0.5).param_groups[0]["alpha"] == 0.5
    unbound = optim.Adam(lr=0.1)
    assert optim.get(unbound, [p]) is unbound and unbound.param_groups[0]["params"] == [p]
    assert optim.Nadam is optim.NAdam


def test_get_errors_list_known_names():
    with pytest.raises(ValueError, match=r"unknown optimizer 'adamax'; known names: \['adagrad'"):
        optim.get("adamax")
    with pytest.raises(TypeError, match="expected an optimizer name, class or instance"):
        optim.get(3)
    with pytest.raises(TypeError, match="set them when making the optimizer"):
        optim.get(optim.SGD(lr=0.1), lr=0.2)


@pytest.mark.parametrize("name", CONFIGS)
def test_config_round_trip(name):
    w, opt = make(name, clipnorm=2.0)
    config = json.loads(json.dumps(opt.get_config()))
    clone = type(opt).from_config(config, [Parameter(w.data.copy())])
    assert clone.get_config() == opt.get_config()
    assert {k: v for k, v in clone.param_groups[0].items() if k != "params"} == {
        k: v for k, v in opt.param_groups[0].items() if k != "params"
    }


@pytest.mark.parametrize("name", CONFIGS)
def test_float64_gradients_keep_float32_state(name):
    w, opt = make(name)
    w.grad = np.ones((2, 3))  # e.g. written by hand in float64
    opt.step()
    assert w.data.dtype == np.float32
    assert all(v.dtype == np.float32 for v in opt.state[w].values() if isinstance(v, np.ndarray))


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: optim.Adam(ps, lr=0.01, weight_decay=0.1, amsgrad=True),
        lambda ps: optim.AdamW(ps, lr=0.01),
        lambda ps: optim.NAdam(ps, lr=0.01),
        lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.5, centered=True),
        lambda ps: optim.Adagrad(ps, lr=0.01, lr_decay=0.1),
    ],
)
def test_chunked_update_of_large_parameters_is_bit_identical(make, monkeypatch):
    """Large parameters are updated one cache-sized slice at a time; the result must not change."""
    rng = np.random.default_rng(0)
    start = rng.standard_normal((7, CHUNK // 7 * 5 + 11)).astype(np.float32)
    grads = [rng.standard_normal(start.shape).astype(np.float32) for _ in range(3)]

    def run(chunkable):
        monkeypatch.setattr(optim.Optimizer, "_chunkable", chunkable)
        p = Parameter(start.copy())
        opt = make([p])
        monkeypatch.setattr(type(opt), "_chunkable", chunkable)
        for g in grads:
            p.grad = g
            opt.step()
        return p.data, opt.state_dict()

    chunked, chunked_state = run(True)
    whole, whole_state = run(False)
    np.testing.assert_array_equal(chunked, whole)
    for key, value in whole_state["state"][0].items():
        np.testing.assert_array_equal(chunked_state["state"][0][key], value)
