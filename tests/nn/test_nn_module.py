"""Module behaviour through the core layers: registration, names, state_dict, modes, configs,
containers and input-shape error messages."""

import json

import numpy as np
import pytest

import nnlab
import nnlab.functional as F
from nnlab import Tensor, optim
from nnlab.autograd.graph import is_grad_enabled
from nnlab.nn.activation import ReLU, Tanh
from nnlab.nn.container import ModuleDict, ModuleList, Sequential
from nnlab.nn.dropout import Dropout
from nnlab.nn.embedding import Embedding
from nnlab.nn.flatten import Flatten, Unflatten
from nnlab.nn.linear import Linear
from nnlab.nn.module import Module, Parameter, evaluating, registered
from nnlab.nn.norm import BatchNorm1d, BatchNorm2d, LayerNorm

from oracles import torch_module


class Block(Module):
    def __init__(self):
        super().__init__()
        self.fc = Linear(3, 4, rng=0)
        self.norm = BatchNorm1d(4)
        self.scale = Parameter(np.ones(4, np.float32))
        self.register_buffer("steps", np.zeros((), np.int64))

    def forward(self, x):
        return self.norm(self.fc(x)) * self.scale


def _model(seed=0):
    return Sequential(
        Linear(6, 5, rng=seed), BatchNorm1d(5), Dropout(0.5, rng=seed), Linear(5, 2, rng=seed + 1)
    )


def _x(shape=(8, 6), seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


# ---- registration and names ---------------------------------------------------------------


def test_named_parameters_and_buffers_follow_pytorch_names():
    block = Block()
    assert [n for n, _ in block.named_parameters()] == [
        "scale",
        "fc.weight",
        "fc.bias",
        "norm.weight",
        "norm.bias",
    ]
    assert [n for n, _ in block.named_buffers()] == [
        "steps",
        "norm.running_mean",
        "norm.running_var",
        "norm.num_batches_tracked",
    ]
    assert [n for n, _ in Linear(2, 3, bias=False).named_parameters()] == ["weight"]
    assert list(BatchNorm1d(3, affine=False).state_dict()) == [
        "running_mean",
        "running_var",
        "num_batches_tracked",
    ]
    assert list(BatchNorm1d(3, track_running_stats=False).state_dict()) == ["weight", "bias"]
    assert list(LayerNorm(3, bias=False).state_dict()) == ["weight"]
    assert list(LayerNorm(3, elementwise_affine=False).state_dict()) == []


def test_sequential_names_children_by_position():
    names = [n for n, _ in _model().named_parameters()]
    assert names == ["0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias"]


def test_parameter_shapes_match_pytorch():
    layer = Linear(3, 7)
    assert (layer.weight.shape, layer.bias.shape) == ((7, 3), (7,))
    assert Embedding(10, 4).weight.shape == (10, 4)
    assert LayerNorm((2, 5)).weight.shape == (2, 5)
    bn = BatchNorm2d(6)
    assert bn.num_batches_tracked.shape == () and bn.num_batches_tracked.dtype == np.int64
    np.testing.assert_array_equal(bn.running_var, np.ones(6))


def test_layers_are_registered_for_configs():
    for cls in (
        Linear,
        BatchNorm1d,
        BatchNorm2d,
        LayerNorm,
        Embedding,
        Dropout,
        Flatten,
        Sequential,
        ModuleList,
    ):
        assert registered(f"nn.{cls.__name__}") is cls


# ---- state_dict ---------------------------------------------------------------------------


def test_state_dict_round_trip_reproduces_outputs():
    source, target = _model(0), _model(5)
    source(Tensor(_x()))  # move the running statistics away from their initial values
    source.eval()
    target.eval()
    assert not np.allclose(source(Tensor(_x())).data, target(Tensor(_x())).data)
    state = source.state_dict()
    assert state["1.num_batches_tracked"] == 1
    target.load_state_dict(state)
    np.testing.assert_array_equal(source(Tensor(_x())).data, target(Tensor(_x())).data)
    state["0.weight"][...] = 0  # state_dict returns copies
    assert np.any(source[0].weight.data != 0)


def test_load_state_dict_reports_every_problem_by_key_and_changes_nothing():
    model = _model()
    before = model.state_dict()
    state = model.state_dict()
    del state["1.running_var"]
    state["9.weight"] = np.zeros(3)
    state["0.weight"] = np.zeros((4, 6))
    with pytest.raises(ValueError) as info:
        model.load_state_dict(state)
    message = str(info.value)
    assert 'Missing key(s) in state_dict: "1.running_var"' in message
    assert 'Unexpected key(s) in state_dict: "9.weight"' in message
    assert "size mismatch for 0.weight: copying a param with shape (4, 6)" in message
    assert "the shape in current model is (5, 6)" in message
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key])


def test_load_state_dict_non_strict_returns_missing_and_unexpected():
    model = _model()
    state = {"0.weight": np.ones((5, 6), np.float32), "extra": np.zeros(1)}
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert unexpected == ["extra"] and "0.bias" in missing and "0.weight" not in missing
    np.testing.assert_array_equal(model[0].weight.data, 1.0)


# ---- modes --------------------------------------------------------------------------------


def test_train_eval_propagates_to_every_child():
    model = Sequential(Block(), _model())
    model.eval()
    assert all(not m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_dropout_and_batch_norm_follow_the_mode():
    model = Sequential(BatchNorm1d(6), Dropout(0.5, rng=0))
    x = _x(seed=1)
    y_train = model(Tensor(x)).data
    assert np.mean(y_train == 0) > 0.3  # masks active
    assert model[0].num_batches_tracked == 1
    model.eval()
    y_eval = model(Tensor(x)).data
    bn = model[0]
    expected = (x - bn.running_mean) / np.sqrt(bn.running_var + 1e-5)
    np.testing.assert_allclose(y_eval, expected, rtol=1e-5, atol=1e-6)
    assert model[0].num_batches_tracked == 1  # eval does not count batches


def test_batch_norm_momentum_none_is_a_cumulative_average():
    bn = BatchNorm1d(3, momentum=None, dtype=np.float64)
    batches = [np.random.default_rng(i).normal(i, 1.0, size=(10, 3)) for i in range(3)]
    for batch in batches:
        bn(Tensor(batch))
    np.testing.assert_allclose(bn.running_mean, np.mean([b.mean(0) for b in batches], 0))
    np.testing.assert_allclose(bn.running_var, np.mean([b.var(0, ddof=1) for b in batches], 0))


def test_dropout_layers_own_reproducible_generators():
    nnlab.manual_seed(0)
    a, b = Dropout(0.5), Dropout(0.5)
    x = Tensor(np.ones((20, 20)))
    mask_a, mask_b = a(x).data, b(x).data
    assert not np.array_equal(mask_a, mask_b)  # independent streams
    nnlab.manual_seed(0)
    np.testing.assert_array_equal(Dropout(0.5)(x).data, mask_a)
    np.testing.assert_array_equal(Dropout(0.5, rng=3)(x).data, Dropout(0.5, rng=3)(x).data)
    with pytest.raises(ValueError, match=r"must be in \[0, 1\], got 1.5"):
        Dropout(1.5)


# ---- initialisation -----------------------------------------------------------------------


def test_linear_initializers_and_seeds():
    np.testing.assert_array_equal(Linear(3, 4, rng=7).weight.data, Linear(3, 4, rng=7).weight.data)
    layer = Linear(
        3, 4, weight_initializer="zeros", bias_initializer={"name": "constant", "value": 0.1}
    )
    np.testing.assert_array_equal(layer.weight.data, 0.0)
    np.testing.assert_allclose(layer.bias.data, 0.1)
    assert layer.weight.dtype == np.float32
    layer = Linear(300, 200, weight_initializer="he_uniform", rng=0, dtype=np.float64)
    assert layer.weight.dtype == np.float64
    assert np.abs(layer.weight.data).max() <= np.sqrt(6 / 300)
    before = layer.weight.data.copy()
    layer.reset_parameters(rng=1)
    assert not np.array_equal(before, layer.weight.data)


# ---- configs ------------------------------------------------------------------------------

LAYERS = [
    lambda: Linear(4, 3),
    lambda: Linear(
        4,
        3,
        bias=False,
        weight_initializer="he_normal",
        bias_initializer={"name": "constant", "value": 0.5},
        dtype=np.float64,
    ),
    lambda: BatchNorm1d(4, eps=1e-3, momentum=0.01, affine=False),
    lambda: BatchNorm2d(4, momentum=None, track_running_stats=False),
    lambda: LayerNorm((2, 4), eps=1e-6, bias=False),
    lambda: Embedding(10, 4, padding_idx=-1),
    lambda: Dropout(0.25),
    lambda: Flatten(0, 2),
    lambda: Sequential(Flatten(), Linear(8, 4), BatchNorm1d(4), Dropout(0.1)),
    lambda: ModuleList([Linear(2, 2), LayerNorm(2)]),
]


@pytest.mark.parametrize("make", LAYERS)
def test_get_config_from_config_round_trip(make):
    layer = make()
    config = json.loads(json.dumps(layer.get_config()))  # JSON-serialisable
    rebuilt = type(layer).from_config(config)
    assert type(rebuilt) is type(layer)
    assert rebuilt.get_config() == layer.get_config()
    assert repr(rebuilt) == repr(layer)
    assert {k: v.shape for k, v in rebuilt.state_dict().items()} == {
        k: v.shape for k, v in layer.state_dict().items()
    }


def test_config_values():
    assert Linear(4, 3, bias=False).get_config() == {
        "in_features": 4,
        "out_features": 3,
        "bias": False,
        "weight_initializer": None,
        "bias_initializer": None,
        "dtype": "float32",
    }
    assert Embedding(10, 4, padding_idx=-1).get_config()["padding_idx"] == 9
    old_file_keys = {"start_axis": 2, "end_axis": 3}  # Flatten's keys before PyTorch's names
    assert Flatten.from_config(old_file_keys).get_config() == {"start_dim": 2, "end_dim": 3}
    assert Sequential(Flatten()).get_config() == {
        "layers": [
            {"name": "0", "class_name": "nn.Flatten", "config": {"start_dim": 1, "end_dim": -1}}
        ]
    }
    with pytest.raises(ValueError, match="cannot save initializer"):
        Linear(2, 2, weight_initializer=lambda shape, rng=None, dtype=None: None).get_config()
    with pytest.raises(ValueError, match="unknown layer class 'Nope'"):
        Sequential.from_config({"layers": [{"class_name": "Nope", "config": {}}]})


def test_reprs():
    assert repr(Linear(4, 3, bias=False)) == "Linear(in_features=4, out_features=3, bias=False)"
    assert repr(BatchNorm1d(4)) == (
        "BatchNorm1d(4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)"
    )
    assert repr(LayerNorm(4)) == "LayerNorm((4,), eps=1e-05, elementwise_affine=True)"
    assert repr(Embedding(10, 3, padding_idx=0)) == "Embedding(10, 3, padding_idx=0)"
    assert repr(Sequential(Dropout(0.2))) == "Sequential(\n  (0): Dropout(p=0.2)\n)"


# ---- containers ---------------------------------------------------------------------------


def test_sequential_indexing_len_iter_append():
    layers = [Linear(6, 5), BatchNorm1d(5), Linear(5, 2)]
    model = Sequential(*layers)
    assert len(model) == 3 and list(model) == layers
    assert model[0] is layers[0] and model[-1] is layers[2]
    head = model[1:]
    assert isinstance(head, Sequential) and list(head._modules) == ["1", "2"]  # names kept
    model.append(Dropout(0.0))
    assert len(model) == 4 and "3" in model._modules
    np.testing.assert_allclose(
        model(Tensor(_x())).data, layers[2](layers[1](layers[0](Tensor(_x())))).data, rtol=1e-6
    )
    with pytest.raises(IndexError, match="index 7 is out of range for Sequential of length 4"):
        model[7]
    with pytest.raises(TypeError, match="must be a Module, got function"):
        Sequential(lambda x: x)


def test_sequential_delete_and_insert_renumber_like_pytorch():
    a, b, c = Flatten(), Dropout(0.1), Dropout(0.2)
    model = Sequential(a, b)
    model.insert(1, c)
    assert list(model._modules.items()) == [("0", a), ("1", c), ("2", b)]
    del model[0]
    assert list(model._modules.items()) == [("0", c), ("1", b)]
    assert not hasattr(model, "2")
    model[1] = a
    assert model[1] is a


def test_module_list_registers_parameters():
    blocks = ModuleList([Linear(2, 3), Linear(3, 1, bias=False)])
    assert [n for n, _ in blocks.named_parameters()] == ["0.weight", "0.bias", "1.weight"]
    assert isinstance(blocks[:1], ModuleList) and len(blocks[:1]) == 1
    with pytest.raises(NotImplementedError, match="iterate over it"):
        blocks(Tensor(np.ones(2)))


# ---- input-shape errors -------------------------------------------------------------------


@pytest.mark.parametrize(
    "layer,shape,message",
    [
        (
            Linear(64, 10),
            (32, 30),
            r"Linear\(in_features=64\) got input of shape \(32, 30\): the last dimension must be "
            r"64 \(build Linear\(30, 10\)",
        ),
        (
            BatchNorm1d(16),
            (32, 8),
            r"BatchNorm1d\(16\) expects input of shape \(N, C\) or \(N, C, L\) with C on axis 1, "
            r"got \(32, 8\); axis 1 must hold the 16 channels but has 8: build BatchNorm1d\(8\)",
        ),
        (BatchNorm1d(16), (32, 5, 16), r"channels seem to be last.*x.transpose\(0, 2, 1\)"),
        (BatchNorm1d(16), (2, 16, 3, 3), r"got \(2, 16, 3, 3\); give it a 2-D or 3-D input"),
        (
            BatchNorm2d(3),
            (8, 32, 32, 3),
            r"BatchNorm2d\(3\) expects input of shape \(N, C, H, W\)"
            r".*x.transpose\(0, 3, 1, 2\)",
        ),
        (
            LayerNorm((4, 5)),
            (2, 5, 4),
            r"LayerNorm\(\(4, 5\)\) expects input whose last 2 dimension\(s\) are \(4, 5\), got "
            r"\(2, 5, 4\)",
        ),
        (Flatten(), (5,), r"Flatten\(start_dim=1, end_dim=-1\) got a 1-D input"),
    ],
)
def test_input_shape_errors_name_layer_shape_and_fix(layer, shape, message):
    with pytest.raises(ValueError, match=message):
        layer(Tensor(np.zeros(shape, np.float32)))


def test_embedding_index_error_names_layer_and_range():
    with pytest.raises(IndexError, match=r"Embedding\(10, 3\): .*index 10.*\[0, 9\]"):
        Embedding(10, 3)(np.array([[1, 10]]))
    with pytest.raises(ValueError, match=r"padding_idx must be within \[-10, 9\]"):
        Embedding(10, 3, padding_idx=10)


def test_evaluating_turns_off_training_and_gradients_and_restores_the_mode():
    model = Sequential(Linear(2, 2), Dropout(0.5))
    model.train()
    with pytest.raises(RuntimeError, match="inside"):
        with evaluating(model):
            assert not model.training and not model[1].training
            assert not is_grad_enabled()
            raise RuntimeError("inside")
    assert model.training and model[1].training and is_grad_enabled()
    model.eval()
    with evaluating(model):
        pass
    assert not model.training
    with evaluating(lambda x: x):  # no train/eval: only no_grad
        assert not is_grad_enabled()


def test_unflatten_inverts_flatten_keeps_dtype_and_round_trips():
    x = np.arange(2 * 3 * 4 * 5, dtype=np.float64).reshape(2, 3, 4, 5)
    flat = Flatten()(Tensor(x))
    back = Unflatten(1, (3, 4, 5))(flat)
    assert back.dtype == np.float64
    np.testing.assert_array_equal(back.data, x)
    np.testing.assert_array_equal(Unflatten(-1, (2, 2))(Tensor(np.zeros((3, 4)))).shape, (3, 2, 2))
    layer = Unflatten(1, (3, 20))
    assert registered("nn.Unflatten").from_config(layer.get_config()).unflattened_size == (3, 20)
    with pytest.raises(ValueError, match="must exist and hold 60 values"):
        layer(Tensor(np.zeros((2, 59))))


def test_apply_visits_children_before_parents_as_pytorch():
    torch = torch_module()

    def visit(order):
        return lambda module: order.append(type(module).__name__)

    ours, theirs = [], []
    Sequential(Linear(2, 2), Sequential(ReLU(), Linear(2, 2)), Tanh()).apply(visit(ours))
    tnn = torch.nn
    tnn.Sequential(
        tnn.Linear(2, 2), tnn.Sequential(tnn.ReLU(), tnn.Linear(2, 2)), tnn.Tanh()
    ).apply(visit(theirs))
    assert ours == theirs == ["Linear", "ReLU", "Linear", "Sequential", "Tanh", "Sequential"]


def test_requires_grad_false_freezes_a_part_of_the_model():
    model = Sequential(Linear(2, 3, rng=0), ReLU(), Linear(3, 1, rng=1))
    assert model[0].requires_grad_(False) is model[0]
    frozen = model[0].weight.data.copy()
    opt = optim.SGD(model.parameters(), lr=0.1)
    F.mse_loss(model(Tensor(np.ones((4, 2), np.float32))), np.zeros((4, 1), np.float32)).backward()
    opt.step()
    assert model[0].weight.grad is None and model[0].bias.grad is None
    np.testing.assert_array_equal(model[0].weight.data, frozen)
    assert model[2].weight.grad is not None
    model.requires_grad_()
    assert all(p.requires_grad for p in model.parameters())


def test_state_dict_keys_come_in_torchs_order_and_tied_modules_load_back():
    torch = torch_module()
    tnn = torch.nn
    ours = Sequential(Linear(2, 2), BatchNorm1d(2), Linear(2, 2))
    theirs = tnn.Sequential(tnn.Linear(2, 2), tnn.BatchNorm1d(2), tnn.Linear(2, 2))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    shared, tshared = Linear(3, 3, rng=0), tnn.Linear(3, 3)
    tied = Sequential(shared, ReLU(), shared)
    assert list(tied.state_dict()) == list(
        tnn.Sequential(tshared, tnn.ReLU(), tshared).state_dict()
    )
    tied.load_state_dict(tied.state_dict())  # both names of the shared layer are there
    assert len(tied.parameters()) == 2  # yet each parameter is trained once


def test_module_dict_registers_by_key_like_torch():
    torch = torch_module()
    blocks = ModuleDict({"enc": Linear(3, 4), "dec": Linear(4, 3)})
    theirs = torch.nn.ModuleDict({"enc": torch.nn.Linear(3, 4), "dec": torch.nn.Linear(4, 3)})
    assert list(blocks.state_dict()) == list(theirs.state_dict())
    blocks.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = np.ones((2, 3), np.float32)
    expected = theirs["dec"](theirs["enc"](torch.from_numpy(x))).detach().numpy()
    np.testing.assert_allclose(blocks["dec"](blocks["enc"](x)).data, expected, rtol=1e-6)
    assert list(blocks) == ["enc", "dec"] and "enc" in blocks and len(blocks) == 2
    rebuilt = ModuleDict.from_config(blocks.get_config())
    assert list(rebuilt.keys()) == ["enc", "dec"] and len(rebuilt.parameters()) == 4
    del blocks["enc"]
    assert list(blocks.state_dict()) == ["dec.weight", "dec.bias"]
    with pytest.raises(TypeError, match="ModuleDict\\['x'\\] must be a Module"):
        blocks["x"] = 3
    with pytest.raises(NotImplementedError, match="has no forward"):
        blocks(x)
