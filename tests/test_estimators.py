"""The scikit-learn estimators: sklearn's estimator checks, accuracy on real datasets, and how
they behave in Pipeline, GridSearchCV, clone, pickle and on bad input."""

import pickle
import subprocess
import sys

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris, make_blobs
from sklearn.dummy import DummyRegressor
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import (
    check_sample_weight_equivalence_on_dense_data,
    parametrize_with_checks,
)

import nnlab
from nnlab.estimators import NeuralNetClassifier, NeuralNetRegressor

# Float32 training: weighted and repeated fits agree to ~2e-7 relative (float64: exactly
# enough, see test_sample_weight_equals_repetition_in_float64), the check wants rtol=1e-7.
_FLOAT32_SAMPLE_WEIGHT = (
    "float32 training: sample_weight=k and k repeated rows give the same fit up to float32 "
    "rounding (~2e-7 relative), above the check's rtol=1e-7; it passes in float64"
)


def _expected_failed_checks(estimator):
    return {"check_sample_weight_equivalence_on_dense_data": _FLOAT32_SAMPLE_WEIGHT}


@parametrize_with_checks(
    [NeuralNetClassifier(epochs=20, random_state=0), NeuralNetRegressor(epochs=20, random_state=0)],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.mark.parametrize(
    "estimator",
    [NeuralNetClassifier(epochs=20, batch_size="auto"), NeuralNetRegressor(epochs=20)],
    ids=["classifier", "regressor"],
)
def test_sample_weight_equals_repetition_in_float64(estimator):
    nnlab.set_default_dtype("float64")
    try:
        check_sample_weight_equivalence_on_dense_data(type(estimator).__name__, estimator)
    finally:
        nnlab.set_default_dtype("float32")


def _split(load):
    X, y = load(return_X_y=True)
    return train_test_split(X, y, test_size=0.2, random_state=42)


def test_iris_accuracy_in_pipeline():
    X_train, X_test, y_train, y_test = _split(load_iris)
    model = make_pipeline(StandardScaler(), NeuralNetClassifier(random_state=0))
    model.fit(X_train, y_train)
    assert model.score(X_test, y_test) >= 0.93
    proba = model.predict_proba(X_test)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    assert list(model[-1].classes_) == [0, 1, 2]


def test_breast_cancer_accuracy_binary():
    X_train, X_test, y_train, y_test = _split(load_breast_cancer)
    model = make_pipeline(StandardScaler(), NeuralNetClassifier(epochs=50, random_state=0))
    model.fit(X_train, y_train)
    net = model[-1]
    assert net.model_.layers[-1].units == 1  # binary: one sigmoid unit
    assert model.score(X_test, y_test) >= 0.95
    assert net.n_iter_ == 50 and len(net.loss_curve_) == 50
    assert net.loss_curve_[-1] < 0.5 * net.loss_curve_[0]
    assert net.val_loss_curve_ is None


def test_diabetes_regression_beats_dummy():
    X_train, X_test, y_train, y_test = _split(load_diabetes)
    net = NeuralNetRegressor(hidden_layer_sizes=(32,), epochs=100, alpha=1e-3, random_state=0)
    model = TransformedTargetRegressor(
        regressor=make_pipeline(StandardScaler(), net), transformer=StandardScaler()
    )
    model.fit(X_train, y_train)
    dummy = DummyRegressor().fit(X_train, y_train).score(X_test, y_test)
    score = model.score(X_test, y_test)
    assert score >= dummy + 0.4, (score, dummy)
    assert model.predict(X_test).shape == y_test.shape


def test_multi_output_regression():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    y = np.column_stack([X @ [1.0, -2.0, 0.5, 0.0], np.tanh(X[:, 0] * X[:, 1])])
    model = NeuralNetRegressor(hidden_layer_sizes=(32,), epochs=100, random_state=0).fit(X, y)
    assert model.n_outputs_ == 2
    prediction = model.predict(X)
    assert prediction.shape == (300, 2) and prediction.dtype == np.float64
    assert model.score(X, y) > 0.9


def test_grid_search_over_pipeline():
    X_train, X_test, y_train, y_test = _split(load_iris)
    pipe = Pipeline([("scale", StandardScaler()), ("net", NeuralNetClassifier(random_state=0))])
    grid = {
        "net__hidden_layer_sizes": [(4,), (32,)],
        "net__learning_rate": [1e-4, 1e-2],
        "net__epochs": [30],
    }
    search = GridSearchCV(pipe, grid, cv=3).fit(X_train, y_train)
    assert search.best_params_["net__learning_rate"] == 1e-2
    assert search.best_params_["net__hidden_layer_sizes"] in [(4,), (32,)]
    assert search.best_score_ >= 0.9
    assert search.score(X_test, y_test) >= 0.9
    best_units = search.best_params_["net__hidden_layer_sizes"][0]
    assert search.best_estimator_[-1].model_.layers[0].units == best_units


def test_same_random_state_gives_identical_results():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)

    def fit(seed):
        params = dict(hidden_layer_sizes=(16, 16), dropout=0.2, epochs=5, early_stopping=True)
        return NeuralNetClassifier(**params, random_state=seed).fit(X, y)

    first, second, other = fit(3), fit(3), fit(4)
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    assert first.loss_curve_ == second.loss_curve_
    assert first.val_loss_curve_ == second.val_loss_curve_
    assert not np.array_equal(first.predict_proba(X), other.predict_proba(X))


def test_worker_processes_give_the_same_scores():
    # n_jobs=2 pickles the estimator into worker processes; the seeded fits must not change.
    X, y = load_iris(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), NeuralNetClassifier(epochs=20, random_state=0))
    serial = cross_val_score(pipe, X, y, cv=3, n_jobs=1)
    parallel = cross_val_score(pipe, X, y, cv=3, n_jobs=2)
    np.testing.assert_array_equal(parallel, serial)
    assert serial.mean() >= 0.8


def test_random_state_none_does_not_touch_numpy_global_state():
    X, y = make_blobs(n_samples=60, centers=2, random_state=0)
    np.random.seed(123)
    expected = np.random.random_sample()
    np.random.seed(123)
    NeuralNetClassifier(epochs=2).fit(X, y)
    assert np.random.random_sample() == expected


def test_early_stopping_stops_and_restores_best_epoch():
    X, y = make_blobs(n_samples=400, centers=2, cluster_std=0.5, random_state=0)
    patience = 3
    model = NeuralNetClassifier(
        hidden_layer_sizes=(8,),
        learning_rate=0.05,
        epochs=300,
        early_stopping=True,
        patience=patience,
        random_state=0,
    ).fit(X, y)
    assert model.n_iter_ < 300
    assert len(model.val_loss_curve_) == model.n_iter_
    # Keras semantics: training stops `patience` epochs after the best one.
    best = int(np.argmin(model.val_loss_curve_))
    assert model.n_iter_ == best + patience + 1
    assert model.score(X, y) == 1.0


def test_alpha_shrinks_weights():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)

    def kernel_norm(alpha):
        model = NeuralNetClassifier(
            (16,), epochs=50, learning_rate=0.01, alpha=alpha, random_state=0
        )
        model.fit(X, y)
        assert model.score(X, y) >= 0.95
        return sum(float((layer.kernel**2).sum()) for layer in model.model_.layers)

    assert kernel_norm(0.01) < 0.5 * kernel_norm(0.0)


def test_string_labels_binary():
    X, y = make_blobs(n_samples=100, centers=2, random_state=1)
    labels = np.array(["no", "yes"])[y]
    model = NeuralNetClassifier(epochs=30, random_state=0).fit(X, labels)
    assert list(model.classes_) == ["no", "yes"]
    proba = model.predict_proba(X)
    assert proba.shape == (100, 2)
    np.testing.assert_array_equal(model.predict(X), model.classes_[proba.argmax(axis=1)])
    assert model.score(X, labels) >= 0.95


def test_clone_copies_params_not_fit():
    model = NeuralNetClassifier(hidden_layer_sizes=(7, 3), learning_rate=0.01, random_state=5)
    model.fit(*make_blobs(n_samples=30, centers=3, random_state=0))
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    assert not hasattr(copy, "model_") and not hasattr(copy, "classes_")


def test_pickle_round_trip_keeps_predictions():
    X, y = load_iris(return_X_y=True)
    model = NeuralNetClassifier((16,), epochs=10, dropout=0.1, random_state=0).fit(X, y)
    before = model.predict_proba(X)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict_proba(X), before)
    np.testing.assert_array_equal(model.predict_proba(X), before)  # the original still works
    assert restored.history_ == model.history_
    # the restored network is compiled: it can train on
    restored.model_.fit(X.astype(np.float32), y, epochs=1, verbose=0)

    regressor = NeuralNetRegressor((8,), epochs=5, random_state=0).fit(X, X[:, :2])
    again = pickle.loads(pickle.dumps(regressor))
    np.testing.assert_array_equal(again.predict(X), regressor.predict(X))


def test_predict_before_fit_raises_not_fitted():
    X = np.zeros((2, 3))
    for method in (NeuralNetClassifier().predict, NeuralNetClassifier().predict_proba):
        with pytest.raises(NotFittedError, match="NeuralNetClassifier instance is not fitted"):
            method(X)
    with pytest.raises(NotFittedError):
        NeuralNetRegressor().predict(X)


def test_wrong_number_of_features_at_predict():
    X, y = make_blobs(n_samples=40, n_features=4, random_state=0)
    model = NeuralNetClassifier(epochs=2).fit(X, y)
    message = "X has 3 features, but NeuralNetClassifier is expecting 4 features as input"
    with pytest.raises(ValueError, match=message):
        model.predict(X[:, :3])


@pytest.mark.parametrize(
    "params, message",
    [
        ({"hidden_layer_sizes": (10, 0)}, "hidden_layer_sizes must be a positive int"),
        ({"batch_size": 0}, "batch_size must be an int >= 1 or 'auto', got 0"),
        ({"dropout": 1.0}, r"dropout must be a number in \[0.0, 1.0\), got 1.0"),
        ({"learning_rate": 0}, r"learning_rate must be a number in \(0.0, inf\), got 0"),
        ({"optimizer": "adamm"}, "unknown optimizer 'adamm'"),
        ({"activation": "relux"}, "unknown activation 'relux'"),
        ({"random_state": "x"}, "random_state must be None, an int"),
    ],
)
def test_bad_hyperparameters_fail_at_fit(params, message):
    X, y = make_blobs(n_samples=20, random_state=0)
    model = NeuralNetClassifier(epochs=1, **params)  # __init__ stores, fit validates
    with pytest.raises(ValueError, match=message):
        model.fit(X, y)


def test_bad_sample_weight_and_single_class():
    X, y = make_blobs(n_samples=20, centers=2, random_state=0)
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(20,\)"):
        NeuralNetClassifier(epochs=1).fit(X, y, sample_weight=np.ones(19))
    with pytest.raises(ValueError, match="finite and non-negative"):
        NeuralNetClassifier(epochs=1).fit(X, y, sample_weight=-np.ones(20))
    with pytest.raises(ValueError, match="only one class: 1"):
        NeuralNetClassifier(epochs=1).fit(X, np.ones(20, dtype=int))


def test_feature_names_from_dataframe():
    pytest.importorskip("pandas")
    X, y = load_iris(return_X_y=True, as_frame=True)
    model = NeuralNetClassifier(epochs=2, random_state=0).fit(X, y)
    np.testing.assert_array_equal(model.feature_names_in_, np.array(X.columns, dtype=object))
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        model.predict(X.to_numpy())


def test_import_nnlab_does_not_import_sklearn():
    code = "import sys, nnlab; print('sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
