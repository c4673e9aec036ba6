"""The Keras-style Model: compile/fit/evaluate/predict semantics on real data."""

import numpy as np
import pytest

import nnlab
from nnlab import layers, nn
from nnlab.training import Model, Sequential
from nnlab.training.callbacks import Callback, EarlyStopping, TerminateOnNaN

from oracles import torch_module


@pytest.fixture(scope="module")
def iris():
    from sklearn.datasets import load_iris
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    x, y = load_iris(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=42)
    scaler = StandardScaler().fit(x_train)
    return scaler.transform(x_train), scaler.transform(x_test), y_train, y_test


def iris_model(seed=0):
    nnlab.manual_seed(seed)
    model = Sequential(
        [layers.Dense(16, activation="relu"), layers.Dense(3, activation="softmax")], seed=seed
    )
    model.compile(
        optimizer=nnlab.optim.Adam(lr=0.02),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


class StepCounter(Callback):
    def __init__(self):
        super().__init__()
        self.train_batches, self.epochs = 0, []

    def on_train_batch_end(self, batch, logs=None):
        self.train_batches += 1

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append(epoch)


def test_fit_learns_iris_and_logs_keras_keys(iris):
    x_train, x_test, y_train, y_test = iris
    model = iris_model()
    history = model.fit(x_train, y_train, epochs=40, batch_size=16, validation_split=0.2, verbose=0)
    keys = set(history.history)
    assert {"loss", "accuracy", "val_loss", "val_accuracy", "learning_rate"} <= keys
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert history.history["learning_rate"] == pytest.approx([0.02] * 40)
    loss, accuracy = model.evaluate(x_test, y_test)
    assert accuracy >= 0.9
    assert model.evaluate(x_test, y_test, return_dict=True)["accuracy"] == accuracy


def test_validation_split_holds_out_the_last_samples(iris):
    x_train, _, y_train, _ = iris
    model = iris_model()
    history = model.fit(x_train, y_train, epochs=2, validation_split=0.25, verbose=0)
    n_val = int(round(len(x_train) * 0.25))
    val = model.evaluate(x_train[-n_val:], y_train[-n_val:], return_dict=True)
    assert history.history["val_loss"][-1] == pytest.approx(val["loss"], rel=1e-6)


@pytest.mark.parametrize("batch_size,steps", [(None, 4), (120, 1), (1, 120), (50, 3)])
def test_batch_size_sets_steps_per_epoch(iris, batch_size, steps):
    x_train, _, y_train, _ = iris
    counter = StepCounter()
    iris_model().fit(
        x_train, y_train, batch_size=batch_size, epochs=1, callbacks=[counter], verbose=0
    )
    assert counter.train_batches == steps


def test_initial_epoch_counts_to_epochs(iris):
    x_train, _, y_train, _ = iris
    counter = StepCounter()
    history = iris_model().fit(
        x_train, y_train, epochs=5, initial_epoch=3, callbacks=[counter], verbose=0
    )
    assert counter.epochs == [3, 4]
    assert history.epoch == [3, 4]


def test_same_seed_same_training(iris):
    x_train, _, y_train, _ = iris
    a, b = iris_model(1), iris_model(1)
    a.fit(x_train, y_train, epochs=3, verbose=0)
    b.fit(x_train, y_train, epochs=3, verbose=0)
    for (k, va), vb in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        np.testing.assert_array_equal(va, vb, err_msg=k)


def test_predict_and_predict_proba(iris):
    x_train, x_test, y_train, _ = iris
    model = iris_model()
    model.fit(x_train, y_train, epochs=2, verbose=0)
    probs = model.predict(x_test, batch_size=7)
    assert probs.shape == (len(x_test), 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1, rtol=1e-5)
    with nnlab.no_grad():
        direct = model.eval()(nnlab.Tensor(x_test.astype(np.float32))).data
    np.testing.assert_allclose(probs, direct, rtol=1e-6)
    np.testing.assert_array_equal(model.predict_proba(x_test), probs)


def test_predict_proba_applies_softmax_for_logit_models(iris):
    x_train, x_test, y_train, _ = iris
    model = Sequential([layers.Dense(3)], seed=0)
    loss = nnlab.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile("adam", loss)
    model.fit(x_train, y_train, epochs=1, verbose=0)
    logits = model.predict(x_test)
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(model.predict_proba(x_test), expected, rtol=1e-5)


def test_class_weight_and_sample_weight_scale_the_loss(iris):
    x_train, _, y_train, _ = iris
    x, y = x_train[:8], y_train[:8]
    model = iris_model()
    base = model.test_on_batch(x, y)[0]
    doubled = model.test_on_batch(x, y, sample_weight=np.full(8, 2.0))[0]
    assert doubled == pytest.approx(2 * base, rel=1e-5)
    weights = {0: 3.0, 1: 1.0, 2: 1.0}
    trained = iris_model().train_on_batch(x, y, class_weight=weights)[0]
    per_sample = nnlab.losses.sparse_categorical_crossentropy(y, model.predict(x)).data
    expected = np.mean(per_sample * np.where(y == 0, 3.0, 1.0))
    assert trained == pytest.approx(expected, rel=1e-5)


def test_pytorch_style_modules_and_loss_module_train(iris):
    x_train, x_test, y_train, y_test = iris
    model = Sequential([nn.Linear(4, 16, rng=0), nn.ReLU(), nn.Linear(16, 3, rng=1)], seed=0)
    model.compile(nnlab.optim.Adam(lr=0.02), nn.CrossEntropyLoss())
    model.fit(x_train, y_train, epochs=30, verbose=0)
    assert (model.predict(x_test).argmax(axis=1) == y_test).mean() >= 0.9
    with pytest.raises(ValueError, match="does not take sample weights"):
        model.fit(x_train, y_train, class_weight="balanced", verbose=0)


def test_early_stopping_and_terminate_on_nan_stop_fit(iris):
    x_train, _, y_train, _ = iris
    model = iris_model()
    stopper = EarlyStopping(monitor="loss", patience=0, min_delta=10.0)
    history = model.fit(x_train, y_train, epochs=20, callbacks=[stopper], verbose=0)
    assert len(history.history["loss"]) == 2
    exploding = Sequential([layers.Dense(3)], seed=0)
    exploding.compile(nnlab.optim.SGD(lr=1e30, on_nonfinite="ignore"), "mse")
    with np.errstate(all="ignore"):
        history = exploding.fit(
            x_train,
            np.eye(3)[y_train] * 1e30,
            epochs=5,
            batch_size=8,
            callbacks=[TerminateOnNaN()],
            verbose=0,
        )
    assert len(history.history.get("loss", [])) <= 1


def test_custom_train_step_is_used_by_fit(iris):
    x_train, _, y_train, _ = iris

    class Counting(Model):
        def __init__(self):
            super().__init__(seed=0)
            self.dense = layers.Dense(3, activation="softmax")
            self.calls = 0

        def forward(self, x):
            return self.dense(x)

        def train_step(self, batch):
            self.calls += 1
            return {**super().train_step(batch), "calls": float(self.calls)}

    model = Counting()
    model.compile("sgd", "sparse_categorical_crossentropy")
    history = model.fit(x_train, y_train, epochs=1, batch_size=40, verbose=0)
    assert model.calls == 3
    assert history.history["calls"] == [pytest.approx((1 * 40 + 2 * 40 + 3 * 40) / 120)]


def test_regularization_penalty_is_part_of_the_loss(iris):
    x_train, _, y_train, _ = iris
    plain = Sequential([layers.Dense(3, activation="softmax", rng=0)], seed=0)
    penalised = Sequential(
        [
            layers.Dense(
                3, activation="softmax", kernel_regularizer=nnlab.regularizers.L2(0.5), rng=0
            )
        ],
        seed=0,
    )
    for m in (plain, penalised):
        m.compile("sgd", "sparse_categorical_crossentropy")
    a = plain.test_on_batch(x_train, y_train)
    b = penalised.test_on_batch(x_train, y_train)
    kernel = penalised.layers[0].weight.data
    assert b - a == pytest.approx(0.5 * np.sum(kernel**2), rel=1e-4)


def test_summary_lists_layers_shapes_and_params():
    model = Sequential(
        [layers.Dense(10, activation="relu", name="hidden"), layers.Dense(3, name="out")],
        input_shape=(4,),
    )
    text = model.summary(print_fn=None)
    assert "hidden (Dense)" in text and "(None, 10)" in text and "(None, 3)" in text
    assert "Total params: 83" in text  # 4*10+10 + 10*3+3


def test_clear_errors(iris):
    x_train, _, y_train, _ = iris
    model = Sequential([layers.Dense(3)])
    with pytest.raises(RuntimeError, match="must be compiled"):
        model.fit(x_train, y_train)
    model.compile("adam", "mse")
    with pytest.raises(ValueError, match="same number of samples"):
        model.fit(x_train, y_train[:-1])
    with pytest.raises(ValueError, match="validation_split"):
        model.fit(x_train, y_train, validation_split=1.5)


def test_config_round_trip_rebuilds_the_same_architecture():
    model = Sequential(
        [layers.Dense(5, activation="tanh"), layers.Dropout(0.2), layers.Dense(2)], input_shape=(3,)
    )
    clone = Sequential.from_config(model.get_config())
    assert clone.get_config() == model.get_config()
    assert [p.shape for p in clone.parameters()] == [p.shape for p in model.parameters()]


class _Batches:
    """A minimal batch source: fixed (x, y) batches, as ImageAugmenter.flow yields them."""

    def __init__(self, x, y, size):
        self.x, self.y, self.size = x, y, size

    def __len__(self):
        return -(-len(self.x) // self.size)

    def __iter__(self):
        for i in range(0, len(self.x), self.size):
            yield self.x[i : i + self.size], self.y[i : i + self.size]


def test_fit_accepts_a_batch_source(iris):
    x_train, x_test, y_train, y_test = iris
    counter = StepCounter()
    model = iris_model()
    history = model.fit(
        _Batches(x_train, y_train, 30),
        epochs=30,
        callbacks=[counter],
        validation_data=(x_test, y_test),
        verbose=0,
    )
    assert counter.train_batches == 30 * 4
    assert history.history["val_accuracy"][-1] >= 0.9
    with pytest.raises(ValueError, match="y and sample weights come from it"):
        model.fit(_Batches(x_train, y_train, 30), y_train)
    with pytest.raises(ValueError, match="balanced"):
        model.fit(_Batches(x_train, y_train, 30), class_weight="balanced")


def _bn_model(seed):
    model = Sequential(
        [layers.Dense(8, activation="relu"), layers.BatchNormalization(), layers.Dense(3)],
        input_shape=(4,),
        seed=seed,
    )
    return model


def test_get_weights_and_set_weights_move_a_model_across():
    source, target = _bn_model(0), _bn_model(1)
    x = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    weights = source.get_weights()
    assert [w.shape for w in weights] == [(8, 4), (8,), (8,), (8,), (8,), (8,), (3, 8), (3,)]
    target.set_weights(weights)
    source.eval(), target.eval()
    np.testing.assert_array_equal(target(x).data, source(x).data)
    weights[0][:] = 7.0  # copies: changing them leaves the model alone
    assert not np.any(source.get_weights()[0] == 7.0)
    with pytest.raises(ValueError, match="set_weights got 7 arrays for 8 weights"):
        target.set_weights(weights[:-1])
    with pytest.raises(ValueError, match=r"size mismatch for 0.weight"):
        target.set_weights([np.zeros((4, 8))] + weights[1:])


def test_count_params_matches_keras_and_the_summary():
    model = _bn_model(0)
    # Dense 4*8+8, BatchNormalization 4*8 (gamma, beta, moving mean and variance), Dense 8*3+3
    assert model.count_params() == 40 + 32 + 27
    assert f"Total params: {model.count_params():,d}" in model.summary(print_fn=None)
    torch = torch_module()
    pair = nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 3))
    assert pair.count_params() == sum(
        p.numel()
        for p in torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Linear(8, 3)).parameters()
    )
    with pytest.raises(ValueError, match="Sequential is not built yet"):
        Sequential([layers.Dense(3)]).count_params()


def test_pop_and_get_layer():
    model = Sequential([layers.Dense(4, name="hidden"), layers.Dense(2, name="out")])
    assert model.get_layer("hidden") is model.layers[0]
    assert model.get_layer(index=-1).name == "out"
    assert model.pop().name == "out" and [layer.name for layer in model.layers] == ["hidden"]
    with pytest.raises(ValueError, match="has no layer named 'nope'; it has \\['hidden'\\]"):
        model.get_layer("nope")
    with pytest.raises(ValueError, match="exactly one of name or index"):
        model.get_layer()
    model.pop()
    with pytest.raises(IndexError, match="has no layers to pop"):
        model.pop()


def test_fit_explains_that_it_takes_arrays_not_generators():
    model = Sequential([layers.Dense(1)])
    model.compile("sgd", "mse")
    batches = ((np.ones((2, 3)), np.ones((2, 1))) for _ in range(3))
    with pytest.raises(TypeError, match="a generator has neither"):
        model.fit(batches, epochs=1, verbose=0)


def test_subclassed_model_may_define_keras_call_or_torch_forward():
    class WithCall(Model):
        def __init__(self):
            super().__init__()
            self.hidden, self.out = layers.Dense(8, activation="relu"), layers.Dense(3)

        def call(self, x):
            return self.out(self.hidden(x))

    rng = np.random.default_rng(0)
    model = WithCall()
    loss = nnlab.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(nnlab.optim.Adam(lr=0.02), loss)
    x = rng.normal(size=(64, 4))
    y = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0)  # a rule the model can learn
    history = model.fit(x, y, epochs=30, verbose=0)
    assert history.history["loss"][-1] < 0.7 * history.history["loss"][0]
    assert model.count_params() == 4 * 8 + 8 + 8 * 3 + 3
    with pytest.raises(NotImplementedError, match="defines neither call\\(\\) \\(Keras\\) nor"):
        Model()(np.ones((1, 2)))
