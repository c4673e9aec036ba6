"""nnlab.plots: each figure's axes, titles and labels, and the data actually drawn."""

import numpy as np
import pytest
from matplotlib.collections import PathCollection, QuadMesh
from matplotlib.contour import ContourSet
from matplotlib.figure import Figure

import nnlab.functional as F
from nnlab import nn, plots
from nnlab.autograd import Tensor
from nnlab.evaluation import evaluate_classifier

HISTORY = {
    "loss": [1.0, 0.6, 0.4],
    "accuracy": [0.5, 0.7, 0.8],
    "val_loss": [1.1, 0.7, 0.5],
    "val_accuracy": [0.45, 0.65, 0.75],
}
POINTS = np.array([[-1.0, -1.0], [1.0, 1.0], [-1.0, 1.0], [1.0, -1.0], [0.5, 0.0]])


def sigmoid_of_difference(X):
    """A binary 'model': P(class 1) = sigmoid(x0 - x1), one column."""
    return 1 / (1 + np.exp(-(X[:, 0] - X[:, 1])))


def three_regions(X):
    """A 3-class 'model' with one-hot outputs: class by the sign pattern of the two features."""
    labels = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
    return np.eye(3)[labels]


class History:
    def __init__(self, history):
        self.history = history


# ---- history ----------------------------------------------------------------------------------


def test_history_plots_train_and_validation_curves():
    fig = plots.plot_history(History(HISTORY))
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    loss_ax, acc_ax = fig.axes
    assert (loss_ax.get_title(), acc_ax.get_title()) == ("Model loss", "Model accuracy")
    assert loss_ax.get_xlabel() == "Epoch" and acc_ax.get_ylabel() == "Accuracy"
    for ax, name in ((loss_ax, "loss"), (acc_ax, "accuracy")):
        train, val = ax.get_lines()
        assert (train.get_label(), val.get_label()) == ("train", "validation")
        np.testing.assert_array_equal(train.get_xdata(), [1, 2, 3])
        np.testing.assert_array_equal(train.get_ydata(), HISTORY[name])
        np.testing.assert_array_equal(val.get_ydata(), HISTORY["val_" + name])


def test_history_selects_metrics_and_puts_loss_first():
    fig = plots.plot_history({"accuracy": [0.1, 0.2], "loss": [2.0, 1.0]})
    assert [ax.get_title() for ax in fig.axes] == ["Model loss", "Model accuracy"]
    assert [len(ax.get_lines()) for ax in fig.axes] == [1, 1]  # no val_ values, no val line
    fig = plots.plot_history({**HISTORY, "learning_rate": [0.1, 0.1, 0.01]})
    assert len(fig.axes) == 2  # the learning rate is a setting, plotted only on request
    fig = plots.plot_history({**HISTORY, "learning_rate": [0.1, 0.1, 0.01]}, ["learning_rate"])
    assert fig.axes[0].get_title() == "Model learning rate"
    fig = plots.plot_history(HISTORY, metrics=["accuracy"])
    assert len(fig.axes) == 1
    np.testing.assert_array_equal(fig.axes[0].get_lines()[1].get_ydata(), HISTORY["val_accuracy"])
    with pytest.raises(ValueError, match=r"no values for \['auc'\]"):
        plots.plot_history(HISTORY, metrics=["auc"])


# ---- decision boundary ------------------------------------------------------------------------


def test_binary_decision_boundary_draws_the_probability_map_and_the_half_contour():
    fig = plots.plot_decision_boundary(sigmoid_of_difference, POINTS, [0, 0, 0, 1, 1], None, 15)
    ax = fig.axes[0]
    assert len(fig.axes) == 2  # the plot and its colour bar
    assert ax.get_title() == "Decision boundary"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("Feature 1", "Feature 2")
    xx, yy = plots.decision_grid(POINTS, 15)
    mesh = next(c for c in ax.collections if isinstance(c, QuadMesh))
    expected = sigmoid_of_difference(np.column_stack([xx.ravel(), yy.ravel()]))
    np.testing.assert_allclose(np.ravel(mesh.get_array()), expected)
    contour = next(c for c in ax.collections if isinstance(c, ContourSet))
    np.testing.assert_array_equal(contour.levels, [0.5])
    points = next(c for c in ax.collections if isinstance(c, PathCollection))
    np.testing.assert_array_equal(points.get_offsets(), POINTS)


def test_multiclass_decision_boundary_draws_argmax_regions():
    y = [0, 2, 1, 1, 2]
    fig = plots.plot_decision_boundary(three_regions, POINTS, y, resolution=12, title="Regions")
    ax = fig.axes[0]
    assert len(fig.axes) == 1 and ax.get_title() == "Regions"
    xx, yy = plots.decision_grid(POINTS, 12)
    mesh = next(c for c in ax.collections if isinstance(c, QuadMesh))
    labels = three_regions(np.column_stack([xx.ravel(), yy.ravel()])).argmax(axis=1)
    np.testing.assert_array_equal(np.ravel(mesh.get_array()), labels)
    assert not any(isinstance(c, ContourSet) for c in ax.collections)


def test_decision_boundary_accepts_a_label_predicting_model():
    class Labels:
        def predict(self, X):
            return three_regions(X).argmax(axis=1)

    fig = plots.plot_decision_boundary(Labels(), POINTS, [0, 2, 1, 1, 2], resolution=8)
    mesh = next(c for c in fig.axes[0].collections if isinstance(c, QuadMesh))
    assert set(np.ravel(mesh.get_array())) == {0, 1, 2}


def test_decision_grid_spans_the_data_with_padding():
    xx, yy = plots.decision_grid(POINTS, 5, padding=0.5)
    np.testing.assert_allclose(xx[0], [-2, -1, 0, 1, 2])
    np.testing.assert_allclose(yy[:, 0], [-2, -1, 0, 1, 2])
    with pytest.raises(ValueError, match=r"shape \(N, 2\), got \(3, 3\)"):
        plots.decision_grid(np.zeros((3, 3)))


# ---- confusion matrix -------------------------------------------------------------------------


def test_confusion_matrix_heatmap_holds_the_counts():
    cm = np.array([[5, 1, 0], [2, 3, 1], [0, 0, 4]])
    fig = plots.plot_confusion_matrix(cm, class_names=["a", "b", "c"])
    ax = fig.axes[0]
    np.testing.assert_array_equal(ax.images[0].get_array(), cm)
    assert [t.get_text() for t in ax.texts] == [str(v) for v in cm.ravel()]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b", "c"]
    assert ax.get_title() == "Confusion matrix"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("Predicted label", "True label")


def test_normalized_confusion_matrix_shows_row_fractions():
    cm = np.array([[3, 1], [0, 0]])  # class 1 never occurs: its row stays zero, not NaN
    ax = plots.plot_confusion_matrix(cm, normalize=True).axes[0]
    np.testing.assert_allclose(ax.images[0].get_array(), [[0.75, 0.25], [0, 0]])
    assert [t.get_text() for t in ax.texts] == ["0.75", "0.25", "0.00", "0.00"]
    assert ax.get_title() == "Confusion matrix (normalized)"


def test_confusion_matrix_from_a_report_and_errors():
    report = evaluate_classifier(three_regions, POINTS, [0, 2, 1, 1, 2], class_names="xyz")
    ax = plots.plot_confusion_matrix(report).axes[0]
    np.testing.assert_array_equal(ax.images[0].get_array(), report.confusion_matrix)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["x", "y", "z"]
    with pytest.raises(ValueError, match=r"square \(C, C\), got shape \(2, 3\)"):
        plots.plot_confusion_matrix(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="got 1 class_names for a 2-class matrix"):
        plots.plot_confusion_matrix(np.eye(2), class_names=["a"])


# ---- sample predictions -----------------------------------------------------------------------


def test_sample_predictions_grid_titles_and_colours():
    images = np.arange(10 * 64, dtype=float).reshape(10, 64)
    y_true = np.arange(10) % 3
    y_pred = np.array([0, 1, 0, 0, 1, 2, 0, 1, 2, 0])  # sample 2 is wrong (2 -> 0)
    conf = np.linspace(0.5, 0.95, 10)
    fig = plots.plot_sample_predictions(
        images, y_true, y_pred, conf, class_names=["zero", "one", "two"], n=6
    )
    axes = fig.axes
    assert len(axes) == 6
    assert axes[0].get_title() == "zero/zero (50%)"
    assert axes[2].get_title() == "two/zero (60%)"
    assert axes[2].title.get_color() == "red" and axes[0].title.get_color() == "green"
    np.testing.assert_array_equal(axes[3].images[0].get_array(), images[3].reshape(8, 8))


def test_sample_predictions_reshape_rules():
    flat = np.arange(2 * 12, dtype=float).reshape(2, 12)
    fig = plots.plot_sample_predictions(flat, [0, 1], [0, 1], None, image_shape=(3, 4))
    assert fig.axes[1].get_title() == "1/1"
    np.testing.assert_array_equal(fig.axes[1].images[0].get_array(), flat[1].reshape(3, 4))
    nchw = np.arange(2 * 16, dtype=float).reshape(2, 1, 4, 4)
    fig = plots.plot_sample_predictions(nchw, [0, 1], [1, 1], [0.7, 0.9])
    np.testing.assert_array_equal(fig.axes[0].images[0].get_array(), nchw[0, 0])
    with pytest.raises(ValueError, match="pass image_shape"):
        plots.plot_sample_predictions(flat, [0, 1], [0, 1], None)
    with pytest.raises(ValueError, match="got 2 images, 3 true and 2 predicted labels"):
        plots.plot_sample_predictions(nchw, [0, 1, 1], [0, 1], None)


# ---- activations ------------------------------------------------------------------------------


def numeric_derivative(module, x, h=1e-6):
    """Central differences of nnlab's forward pass, in float64."""
    return (module(Tensor(x + h)).data - module(Tensor(x - h)).data) / (2 * h)


def test_activation_derivatives_equal_numeric_derivatives():
    fig = plots.plot_activations()
    assert [ax.get_title() for ax in fig.axes] == list(plots.DEFAULT_ACTIVATIONS)
    for ax in fig.axes:
        function, derivative = ax.get_lines()[:2]
        assert (function.get_label(), derivative.get_label()) == ("f(x)", "f'(x)")
        x = derivative.get_xdata()
        module = nn.activation.get(ax.get_title())
        np.testing.assert_allclose(function.get_ydata(), module(Tensor(x)).data, atol=1e-12)
        smooth = np.abs(x) > 1e-3  # relu, leaky_relu, elu and selu have a kink at 0
        expected = numeric_derivative(module, x[smooth])
        np.testing.assert_allclose(derivative.get_ydata()[smooth], expected, atol=1e-4)
        assert ax.get_xlabel() == "x"


def test_activation_curves_match_closed_forms():
    x = np.linspace(-4, 4, 81)
    y, dy = plots.activation_curve("sigmoid", x)
    s = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(y, s, atol=1e-12)
    np.testing.assert_allclose(dy, s * (1 - s), atol=1e-12)
    y, dy = plots.activation_curve("tanh", x)
    np.testing.assert_allclose(dy, 1 - np.tanh(x) ** 2, atol=1e-12)
    _, dy = plots.activation_curve("relu", x)
    np.testing.assert_array_equal(dy, (x > 0).astype(float))
    y, _ = plots.activation_curve("swish", x)
    np.testing.assert_allclose(y, F.silu(Tensor(x)).data)


def test_activations_selection_and_errors():
    fig = plots.plot_activations(["relu", "gelu"])
    assert [ax.get_title() for ax in fig.axes] == ["relu", "gelu"]
    with pytest.raises(ValueError, match="softmax is not elementwise"):
        plots.plot_activations(["softmax"])
    with pytest.raises(ValueError, match="unknown activation 'nope'"):
        plots.plot_activations(["nope"])


# ---- architecture comparison ------------------------------------------------------------------


def test_architecture_bars_have_the_values_written_on_them():
    results = {"small": 0.91, "medium": 0.95, "large": 0.972}
    ax = plots.plot_architecture_comparison(results).axes[0]
    np.testing.assert_allclose([p.get_height() for p in ax.patches], [0.91, 0.95, 0.972])
    assert [t.get_text() for t in ax.texts] == ["0.910", "0.950", "0.972"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["small", "medium", "large"]
    assert ax.get_title() == "Architecture comparison"
    assert ax.get_ylabel() == "Test accuracy"
    assert ax.get_ylim()[0] == 0


def test_architecture_comparison_picks_the_metric_from_dicts():
    results = {"mlp": {"test_loss": 0.3, "test_accuracy": 0.9}, "cnn": {"test_loss": 1.7}}
    ax = plots.plot_architecture_comparison(results, metric="test_loss").axes[0]
    np.testing.assert_allclose([p.get_height() for p in ax.patches], [0.3, 1.7])
    assert ax.get_ylabel() == "Test loss"
    with pytest.raises(ValueError, match="results\\['cnn'\\] has no 'test_accuracy'"):
        plots.plot_architecture_comparison(results)
    with pytest.raises(ValueError, match="results is empty"):
        plots.plot_architecture_comparison({})


# ---- saving -----------------------------------------------------------------------------------

PLOTTERS = {
    "history": lambda path: plots.plot_history(HISTORY, path=path),
    "boundary": lambda path: plots.plot_decision_boundary(
        sigmoid_of_difference, POINTS, [0, 0, 0, 1, 1], path=path, resolution=10
    ),
    "confusion": lambda path: plots.plot_confusion_matrix(np.eye(2, dtype=int), path=path),
    "samples": lambda path: plots.plot_sample_predictions(
        np.zeros((2, 4)), [0, 1], [0, 0], [0.9, 0.6], path=path
    ),
    "activations": lambda path: plots.plot_activations(["relu"], path=path),
    "bars": lambda path: plots.plot_architecture_comparison({"a": 0.5}, path=path),
}


@pytest.mark.parametrize("name", sorted(PLOTTERS))
def test_path_writes_a_png_into_new_folders(tmp_path, name):
    path = tmp_path / "figures" / name / "plot.png"
    fig = PLOTTERS[name](path)
    assert isinstance(fig, Figure)
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 1000
