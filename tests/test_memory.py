"""Recurrent memory: the adding problem and copy task data, short training runs, the
gradient-norm measurement, the LSTM trace, the figures, and the acceptance run at T = 100."""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from nnlab import layers
from nnlab.autograd.tensor import Tensor
from nnlab.data.sequence_tasks import adding_problem, copy_task
from nnlab.experiments import memory
from nnlab.experiments.memory import CELLS, build_model, train_memory
from nnlab.experiments.recurrent_probes import decay_distance, input_gradient_norms, lstm_trace
from nnlab.plots_recurrent import plot_gradient_norms, plot_lstm_states, plot_memory_table


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    """Small GEMMs in a time loop: OpenBLAS's threads only wait for each other on a shared
    machine (see nnlab.experiments.common.one_blas_thread)."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield


# ---- data ----------------------------------------------------------------------------------


def test_adding_problem_marks_one_value_in_each_half_and_sums_them():
    x, y = adding_problem(500, 10, rng=0)
    assert x.shape == (500, 10, 2) and y.shape == (500, 1)
    assert x.dtype == y.dtype == np.float32
    values, markers = x[..., 0], x[..., 1]
    assert values.min() >= 0.0 and values.max() < 1.0
    assert set(np.unique(markers)) == {0.0, 1.0}
    np.testing.assert_array_equal(markers[:, :5].sum(axis=1), 1)
    np.testing.assert_array_equal(markers[:, 5:].sum(axis=1), 1)
    np.testing.assert_allclose(y[:, 0], (values * markers).sum(axis=1), rtol=1e-6)
    x2, y2 = adding_problem(500, 10, rng=0)
    np.testing.assert_array_equal(x, x2)  # seeded
    # every position of each half is used
    assert set(np.argmax(markers[:, :5], axis=1)) == set(range(5))
    assert set(np.argmax(markers[:, 5:], axis=1)) == set(range(5))


def test_adding_problem_mean_prediction_baseline_is_one_sixth():
    _, y = adding_problem(40000, 6, rng=1)
    assert float(np.mean(y)) == pytest.approx(1.0, abs=0.01)
    assert float(np.mean((y - 1.0) ** 2)) == pytest.approx(1 / 6, abs=0.004)


def test_copy_task_layout():
    x, y = copy_task(3, delay=4, rng=0, symbols=4, length=3)
    assert x.shape == (3, 10, 6) and y.shape == (3, 3) and y.dtype == np.int64
    np.testing.assert_array_equal(x.sum(axis=2), 1)  # one-hot
    tokens = x.argmax(axis=2)
    for row, symbols in zip(tokens, y, strict=True):
        # 3 symbols, delay - 1 = 3 blanks (4), the delimiter (5), then 3 blanks to read at
        assert row.tolist() == [*symbols, 4, 4, 4, 5, 4, 4, 4]
    assert y.min() >= 0 and y.max() < 4


# ---- training --------------------------------------------------------------------------------


def test_lstm_learns_the_adding_problem_at_t10_quickly():
    result = train_memory("adding", "LSTM", 10, epochs=8, n_train=2048, seed=0)
    assert result["error"] < 0.05 < memory.MEAN_BASELINE_MSE
    assert result["epochs"] == len(result["epoch_times"]) <= 8
    assert result["history"]["val_loss"][-1] < 0.05


def test_acceptance_lstm_solves_t100_and_simple_rnn_does_not():
    """The experiment's budget and seed 0 (about 12 s): LSTM reaches test MSE < 0.01 at
    T = 100, SimpleRNN stays near or above the mean-prediction baseline."""
    data = memory.task_data("adding", 100, memory.N_TRAIN, 0)
    lstm = train_memory("adding", "LSTM", 100, seed=0, data=data)
    rnn = train_memory("adding", "SimpleRNN", 100, seed=0, data=data)
    assert lstm["solved"] and lstm["error"] < 0.01
    assert not rnn["solved"] and rnn["error"] > 0.1
    assert rnn["epochs"] == memory.EPOCHS  # ran the whole budget


# ---- gradient norms against distance ----------------------------------------------------------


def test_gradient_norms_are_indexed_by_distance_from_the_last_step():
    x, y = adding_problem(16, 12, rng=0)
    model = build_model("adding", "SimpleRNN", seed=0)
    model(Tensor(x[:1]))  # build
    model.rnn.weight_hh.data[:] = 0  # no recurrence: only the last input reaches the loss
    norms = input_gradient_norms(model, x, y)
    assert norms.shape == (12,) and norms.dtype == np.float64
    assert norms[0] > 0 and np.all(norms[1:] == 0)


def test_tanh_rnn_gradient_norms_decay_with_distance_at_initialisation():
    x, y = adding_problem(64, 50, rng=0)
    norms = {
        cell: input_gradient_norms(build_model("adding", cell, seed=0), x, y) for cell in CELLS
    }
    rnn = norms["SimpleRNN"]
    assert rnn.shape == (50,) and np.all(rnn > 0)
    assert rnn[-10:].mean() < 0.05 * rnn[:5].mean()
    assert np.all(np.diff([rnn[k : k + 10].mean() for k in range(0, 50, 10)]) < 0)
    assert decay_distance(rnn, 1e-2) is not None and decay_distance(rnn, 1e-9) is None
    assert decay_distance([1.0, 0.5, 0.001], 1e-2) == 2


# ---- the LSTM trace --------------------------------------------------------------------------


def test_lstm_trace_follows_the_lstm_equations_and_matches_the_fused_layer():
    layer = layers.LSTM(5, rng=np.random.default_rng(0))
    x = np.random.default_rng(1).standard_normal((9, 3)).astype(np.float32)
    layer(Tensor(x[None]))  # build
    trace = lstm_trace(layer, x)  # raises if h differs from the fused layer's output
    assert {k: v.shape for k, v in trace.items()} == {k: (9, 5) for k in "hcifgo"}
    for gate in "ifo":
        assert 0 < trace[gate].min() and trace[gate].max() < 1
    c_prev = np.vstack([np.zeros((1, 5)), trace["c"][:-1]])
    np.testing.assert_allclose(
        trace["c"], trace["f"] * c_prev + trace["i"] * trace["g"], rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(trace["h"], trace["o"] * np.tanh(trace["c"]), atol=1e-6)
    fused = layers.LSTM(5, return_sequences=True)
    fused(Tensor(x[None]))
    fused.set_weights(layer.get_weights())
    np.testing.assert_allclose(fused(Tensor(x[None])).data[0], trace["h"], atol=1e-5)
    # the forget gate starts near sigmoid(1) (Keras's unit forget bias) for small inputs
    assert trace["f"].mean() > trace["i"].mean()


# ---- figures and the quick experiment ---------------------------------------------------------


def test_recurrent_figures(tmp_path):
    curves = {"a": np.array([1.0, 0.1, 0.01, 0.0]), "b": np.array([2.0, 2.0, 1.0, 1.0])}
    fig = plot_gradient_norms({"init": curves, "trained": curves}, path=tmp_path / "g.png")
    assert len(fig.axes) == 2 and (tmp_path / "g.png").stat().st_size > 0
    line = fig.axes[0].lines[0]
    np.testing.assert_allclose(line.get_ydata(), [1.0, 0.1, 0.01])  # the zero is left out
    assert fig.axes[0].lines[0].get_color() == fig.axes[1].lines[0].get_color()
    trace = {k: np.full((6, 3), 0.5) for k in "hcifgo"}
    fig = plot_lstm_states(trace, inputs=np.zeros((6, 2)), path=tmp_path / "s.png")
    assert len(fig.axes) == 7 + 6  # input strip, six heatmaps and their colour bars
    with pytest.raises(ValueError, match="trace lacks"):
        plot_lstm_states({"h": trace["h"]})
    fig = plot_memory_table([[0.1, 0.001]], ["LSTM"], ["T=10", "T=50"], solved=[[False, True]])
    assert [t.get_text() for t in fig.axes[0].texts] == ["0.1", "0.001 \u2713"]


def test_memory_experiment_quick_run(tmp_path, capsys):
    result = memory.run(out_dir=tmp_path, quick=True, seed=0)
    out = capsys.readouterr().out
    assert "adding problem" in out and "copy task" in out and "time per epoch" in out
    for path in result["plots"].values():
        assert (tmp_path / path.split("/")[-1]).stat().st_size > 0
    metrics = result["metrics"]
    assert set(metrics["gradient_norms"]) == {"init", "trained"}
    assert len(metrics["gradient_norms"]["init"]["LSTM"]) == memory.QUICK_ADDING_LENGTHS[-1]
    assert set(metrics["time_per_epoch"]) == set(CELLS)
