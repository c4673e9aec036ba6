"""receptive_field: the standard recurrence, checked against values computed by hand and
against the output sizes nnlab's conv2d and max_pool2d actually produce."""

import numpy as np
import pytest

import nnlab.functional as F
from nnlab import Tensor, no_grad
from nnlab.models import cifar_cnn, lenet5, receptive_field, small_resnet

LENET_SPECS = [
    {"name": "conv1", "kernel": 5, "padding": 2},
    {"name": "pool1", "kind": "pool", "kernel": 2},
    {"name": "conv2", "kernel": 5},
    {"name": "pool2", "kind": "pool", "kernel": 2},
    {"name": "dense", "kind": "global"},
]


def columns(table, attribute):
    """One axis (height) of ``attribute`` for every row."""
    return [getattr(row, attribute)[0] for row in table]


def test_lenet_by_hand():
    # conv 5x5 (pad 2): field 5; pool 2: 5 + 1 = 6, jump 2; conv 5x5: 6 + 4 * 2 = 14;
    # pool 2: 14 + 1 * 2 = 16, jump 4. Centres: 0, 0 + 0.5, 0.5 + 2 * 2, 4.5 + 0.5 * 2.
    table = receptive_field(LENET_SPECS, (1, 28, 28))
    assert [row.name for row in table] == ["input", "conv1", "pool1", "conv2", "pool2", "dense"]
    assert columns(table, "size") == [28, 28, 14, 10, 5, 1]
    assert columns(table, "jump")[:5] == [1, 1, 2, 2, 4]
    assert columns(table, "field") == [1, 5, 6, 14, 16, 28]
    assert columns(table, "start")[:5] == [0, 0, 0.5, 4.5, 5.5]
    assert table[2].stride == (2, 2)  # a pooling window's stride defaults to its size


def test_lenet_model_gives_the_hand_computed_table():
    table = receptive_field(lenet5(), (1, 28, 28))
    by_hand = receptive_field(LENET_SPECS, (28, 28))
    assert [r.kind for r in table] == ["input", "conv", "pool", "conv", "pool", "global"]
    for attribute in ("size", "jump", "field", "start", "kernel", "stride", "padding"):
        assert columns(table, attribute) == columns(by_hand, attribute), attribute


def test_seed_cifar_network_by_hand():
    # valid 3x3 convs add 2 * jump; pools double the jump and add one jump
    table = receptive_field(cifar_cnn(), (3, 32, 32))
    assert [r.kind for r in table] == ["input"] + ["conv", "conv", "pool"] * 2 + ["conv", "global"]
    assert columns(table, "size")[:-1] == [32, 30, 28, 14, 12, 10, 5, 3]
    assert columns(table, "jump")[:-1] == [1, 1, 1, 2, 2, 2, 4, 4]
    assert columns(table, "field")[:-1] == [1, 3, 5, 6, 10, 14, 16, 24]
    assert columns(table, "start")[:-1] == [0, 1, 2, 2.5, 4.5, 6.5, 7.5, 11.5]
    assert table.final.field == (32, 32)  # the dense layers see the whole image


def test_stacked_3x3_convolutions_grow_as_the_seed_says():
    # seed 002: "Layer 1 neuron sees 3x3 pixels, Layer 2 5x5, Layer 3 7x7"
    table = receptive_field([{"kernel": 3, "padding": "same"}] * 3, (16, 16))
    assert columns(table, "field")[1:] == [3, 5, 7]
    assert columns(table, "size")[1:] == [16, 16, 16]


def test_dilation_stride_and_non_square_kernels():
    table = receptive_field(
        [{"kernel": (3, 5), "stride": (2, 1), "dilation": (2, 1)}, {"kernel": 3}], (20, 11)
    )
    conv = table[1]
    # effective kernels 5 (3 taps, dilation 2) and 5: sizes (20 - 5) // 2 + 1 = 8, 11 - 5 + 1
    assert conv.size == (8, 7) and conv.field == (5, 5) and conv.jump == (2, 1)
    assert table[2].field == (5 + 2 * 2, 5 + 2 * 1) and table[2].size == (6, 5)


def test_keras_same_padding_with_stride_pads_the_odd_pixel_last():
    # n = 7, k = 3, s = 2: ceil(7 / 2) = 4 outputs need (4 - 1) * 2 + 3 - 7 = 2 padding
    table = receptive_field([{"kernel": 3, "stride": 2, "padding": "same"}], (7, 8))
    # n = 8: (4 - 1) * 2 + 3 - 8 = 1 pixel of padding, after the last column
    assert table[1].size == (4, 4) and table[1].padding == (1, 0)
    assert table[1].start == (0, 1)


@pytest.mark.parametrize(
    "kernel, stride, padding, dilation",
    [(3, 1, 1, 1), (5, 2, 2, 1), (3, 2, 0, 2), (4, 3, 1, 1), ((3, 5), (1, 2), (0, 2), (1, 1))],
)
def test_output_sizes_match_conv2d_and_max_pool2d(kernel, stride, padding, dilation):
    x = Tensor(np.zeros((1, 1, 17, 19), np.float32))
    specs = [
        {"kernel": kernel, "stride": stride, "padding": padding, "dilation": dilation},
        {"kind": "pool", "kernel": 2},
    ]
    table = receptive_field(specs, x.shape)
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    with no_grad():
        w = Tensor(np.zeros((1, 1, kh, kw), np.float32))
        conv = F.conv2d(x, w, stride=stride, padding=padding, dilation=dilation)
        pooled = F.max_pool2d(conv, 2)
    assert table[1].size == conv.shape[2:]
    assert table[2].size == pooled.shape[2:]


def test_field_is_where_a_single_pixel_changes_the_output():
    # Perturb one input pixel: exactly the outputs whose field covers it may change.
    specs = [{"kernel": 3, "stride": 2}, {"kernel": 3, "dilation": 2}]
    table = receptive_field(specs, (23, 23))
    rng = np.random.default_rng(0)
    w1, w2 = (Tensor(rng.standard_normal((1, 1, 3, 3))) for _ in range(2))

    def net(x):
        with no_grad():
            out = F.conv2d(F.conv2d(Tensor(x), w1, stride=2), w2, dilation=2)
        return out.data[0, 0]

    x = rng.standard_normal((1, 1, 23, 23))
    row = table.final
    assert row.start == (5, 5) and row.field == (11, 11)  # output (0, 0) sees rows/cols 0..10
    inside, outside = x.copy(), x.copy()
    inside[0, 0, 10, 0] += 1.0  # the field's bottom-left corner
    outside[0, 0, 11, 0] += 1.0  # one row below it
    assert net(inside)[0, 0] != net(x)[0, 0]
    assert net(outside)[0, 0] == net(x)[0, 0]


def test_residual_blocks_contribute_their_convolution_path():
    model = small_resnet(input_shape=(3, 16, 16), filters=(4, 8), blocks_per_stage=1)
    table = receptive_field(model, (3, 16, 16))
    names = [r.name for r in table]
    assert names[-1].startswith("global_average_pooling2d")
    # stem 3 -> block 1: 5, 7 -> block 2 (stride 2): 9, then jump 2: 13
    assert columns(table, "field")[1:-1] == [3, 5, 7, 9, 13]
    assert columns(table, "size")[1:-1] == [16, 16, 16, 8, 8]


def test_text_table_and_errors():
    text = str(receptive_field(LENET_SPECS, (28, 28)))
    assert text.splitlines()[0].split()[:3] == ["layer", "type", "kernel"]
    assert "pool2" in text and "16" in text
    assert "3x1" in str(receptive_field([{"kernel": (3, 1)}], (5, 5)))
    with pytest.raises(ValueError, match="does not fit an input of size 4"):
        receptive_field([{"kernel": 5}], (4, 4))
    with pytest.raises(ValueError, match="at least 'kernel'"):
        receptive_field([{"stride": 2}], (4, 4))
    with pytest.raises(ValueError, match="padding must be"):
        receptive_field([{"kernel": 3, "padding": "full"}], (4, 4))


def test_model_layers_of_both_front_doors_padding_and_refusals():
    from nnlab import layers, nn
    from nnlab.nn.conv import Conv2d, ConvTranspose2d
    from nnlab.nn.pool import AdaptiveAvgPool2d, MaxPool2d

    model = nn.Sequential(
        Conv2d(1, 2, 3, padding=1),
        nn.ReLU(),
        MaxPool2d(2),
        Conv2d(2, 2, 3, stride=2, dilation=2),
        AdaptiveAvgPool2d(1),
    )
    table = receptive_field(model, (1, 1, 20, 20))
    assert [r.kind for r in table] == ["input", "conv", "pool", "conv", "global"]
    # 3 -> pool: 4 (jump 2) -> dilated 3x3 (span 5) stride 2: 4 + 4 * 2 = 12, jump 4
    assert columns(table, "field")[1:4] == [3, 4, 12]
    assert columns(table, "size")[1:4] == [20, 10, 3]
    padded = [layers.ZeroPadding2D(((1, 0), (2, 2))), layers.MaxPooling2D(2)]
    table = receptive_field(nnlab_sequential(padded), (1, 6, 6))
    assert table[1].kind == "pad" and table[1].size == (7, 10) and table[1].padding == (1, 2)
    assert table[2].size == (3, 5) and table[2].start == (-0.5, -1.5)
    for upsampling in (layers.UpSampling2D(2), ConvTranspose2d(1, 1, 2, stride=2)):
        with pytest.raises(ValueError, match="upsamples"):
            receptive_field(nnlab_sequential([upsampling]), (1, 4, 4))


def nnlab_sequential(layers):
    from nnlab.training import Sequential

    return Sequential(layers)
