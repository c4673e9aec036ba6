"""Callbacks driven by a fake model through the hooks in Keras's order, from given epoch logs."""

import csv
import io
import math
import re

import numpy as np
import pytest

from nnlab.nn import Parameter
from nnlab.optim import SGD
from nnlab.training.callbacks import (
    Callback,
    CallbackList,
    CSVLogger,
    EarlyStopping,
    History,
    LambdaCallback,
    LearningRateScheduler,
    ModelCheckpoint,
    MonitorCallback,
    ProgressBar,
    ReduceLROnPlateau,
    TerminateOnNaN,
)


class FakeModel:
    """What callbacks see of a Model. Its one weight holds the index of the last finished
    epoch and is changed in place, as optimizers do, so remembered weights must be copies."""

    def __init__(self, lr=0.1):
        self.w = np.zeros(1)
        self.optimizer = SGD([Parameter(np.zeros(1))], lr=lr)
        self.stop_training = False
        self.history = None
        self.saved = []

    def state_dict(self):
        return {"w": self.w}  # not a copy, on purpose

    def load_state_dict(self, state):
        self.w[...] = state["w"]

    def save(self, path):
        self.saved.append(("save", path))

    def save_weights(self, path):
        self.saved.append(("save_weights", path))


def fit(model, callbacks, epoch_logs, steps=2, verbose=0, batch_loss=None):
    """Call the hooks as Model.fit does; returns the epochs that ran. ``epoch_logs`` gives
    each epoch's logs; batch logs carry the epoch's 'loss' unless ``batch_loss`` is given."""
    cbs = CallbackList(callbacks, model=model, epochs=len(epoch_logs), steps=steps, verbose=verbose)
    model.stop_training = False
    ran, logs = [], {}
    cbs.on_train_begin({})
    for epoch, given in enumerate(epoch_logs):
        cbs.on_epoch_begin(epoch, {})
        for batch in range(steps):
            cbs.on_train_batch_begin(batch, {})
            loss = given.get("loss", 0.0) if batch_loss is None else batch_loss(epoch, batch)
            cbs.on_train_batch_end(batch, {"loss": loss})
            if model.stop_training:
                break
        model.w[...] = epoch
        val = {k[4:]: v for k, v in given.items() if k.startswith("val_")}
        if val and not model.stop_training:
            cbs.on_test_begin({})
            cbs.on_test_batch_begin(0, {})
            cbs.on_test_batch_end(0, val)
            cbs.on_test_end(val)
        logs = {**given, "learning_rate": model.optimizer.lr}
        cbs.on_epoch_end(epoch, logs)
        ran.append(epoch)
        if model.stop_training:
            break
    cbs.on_train_end(logs)
    return ran


def val_losses(*values):
    return [{"loss": 1.0, "val_loss": v} for v in values]


# ---- Callback, CallbackList, History ----------------------------------------------------------


class Recorder(Callback):
    def __init__(self):
        super().__init__()
        self.calls = []

    def on_train_begin(self, logs=None):
        self.calls.append("train_begin")

    def on_epoch_begin(self, epoch, logs=None):
        self.calls.append(f"epoch_begin {epoch}")

    def on_batch_begin(self, batch, logs=None):  # the old name still receives train batches
        self.calls.append(f"batch_begin {batch}")

    def on_train_batch_end(self, batch, logs=None):
        self.calls.append(f"batch_end {batch}")

    def on_test_begin(self, logs=None):
        self.calls.append("test_begin")

    def on_test_end(self, logs=None):
        self.calls.append("test_end")

    def on_epoch_end(self, epoch, logs=None):
        self.calls.append(f"epoch_end {epoch}")
        logs["seen_by_recorder"] = 1.0

    def on_train_end(self, logs=None):
        self.calls.append("train_end")


def test_hooks_run_in_keras_order_and_share_logs():
    recorder, history = Recorder(), History()
    fit(FakeModel(), [recorder, history], val_losses(0.5), steps=2)
    assert recorder.calls == [
        "train_begin",
        "epoch_begin 0",
        "batch_begin 0",
        "batch_end 0",
        "batch_begin 1",
        "batch_end 1",
        "test_begin",
        "test_end",
        "epoch_end 0",
        "train_end",
    ]
    # A callback earlier in the list can add to the logs the later ones see.
    assert history.history["seen_by_recorder"] == [1.0]


def test_callback_list_sets_model_and_params_and_adds_defaults():
    model, recorder = FakeModel(), Recorder()
    cbs = CallbackList(
        [recorder], add_history=True, add_progbar=True, model=model, epochs=3, steps=5, verbose=2
    )
    assert [type(c) for c in cbs] == [ProgressBar, Recorder, History]
    assert all(c.model is model for c in cbs)
    assert all(c.params == {"epochs": 3, "steps": 5, "verbose": 2} for c in cbs)
    assert len(CallbackList([History()], add_history=True)) == 1


def test_history_records_every_epoch_and_sets_model_history():
    model, history = FakeModel(lr=0.01), History()
    fit(
        model,
        [history],
        [{"loss": 0.5, "val_loss": 0.6}, {"loss": np.float32(0.25), "val_loss": 0.3}],
    )
    assert model.history is history
    assert history.epoch == [0, 1]
    assert history.history == {
        "loss": [0.5, 0.25],
        "val_loss": [0.6, 0.3],
        "learning_rate": [0.01, 0.01],
    }
    assert all(type(v) is float for values in history.history.values() for v in values)
    assert history.params == {"epochs": 2, "steps": 2, "verbose": 0}


# ---- MonitorCallback ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "monitor, direction",
    [
        ("val_loss", "min"),
        ("loss", "min"),
        ("mean_absolute_error", "min"),
        ("val_mae", "min"),
        ("accuracy", "max"),
        ("val_acc", "max"),
        ("val_sparse_categorical_accuracy", "max"),
        ("auc", "max"),
        ("val_precision", "max"),
        ("recall", "max"),
        ("val_f1_score", "max"),
    ],
)
def test_auto_mode_infers_direction_from_the_name(monitor, direction):
    assert MonitorCallback(monitor).direction == direction
    other = "max" if direction == "min" else "min"
    assert MonitorCallback(monitor, mode=other).direction == other


def test_is_improvement_respects_min_delta_direction_and_nan():
    low = MonitorCallback("val_loss", min_delta=0.1)
    assert low._is_improvement(1.0, None)
    assert low._is_improvement(0.85, 1.0)
    assert not low._is_improvement(0.95, 1.0)  # better, but by less than min_delta
    assert not low._is_improvement(float("nan"), None)
    high = MonitorCallback("val_accuracy", min_delta=-0.1)  # the sign of min_delta is ignored
    assert high._is_improvement(0.95, 0.8)
    assert not high._is_improvement(0.85, 0.8)


def test_invalid_mode_is_an_error():
    with pytest.raises(ValueError, match="mode must be 'auto', 'min' or 'max', got 'minimum'"):
        EarlyStopping(mode="minimum")


def test_missing_monitor_key_warns_and_lists_the_available_keys():
    stopper = EarlyStopping(monitor="val_accuracy", patience=0)
    with pytest.warns(UserWarning, match="'val_accuracy'.*available keys: loss, learning_rate"):
        ran = fit(FakeModel(), [stopper], [{"loss": 1.0}, {"loss": 2.0}])
    assert ran == [0, 1]  # nothing to monitor, so nothing stops training


# ---- EarlyStopping --------------------------------------------------------------------------


def test_early_stopping_stops_after_patience_and_restores_the_best_epoch(capsys):
    model = FakeModel()
    stopper = EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True, verbose=1)
    ran = fit(model, [stopper], val_losses(1.0, 0.9, 0.95, 0.96, 0.97))
    assert ran == [0, 1, 2, 3]
    assert stopper.stopped_epoch == 3
    assert stopper.best_epoch == 1
    assert stopper.best == pytest.approx(0.9)
    assert model.w[0] == 1.0  # epoch 1's weights, although epoch 3 ran last
    out = capsys.readouterr().out
    assert "Epoch 4: early stopping" in out
    assert "Restoring model weights from the end of the best epoch: 2." in out


def test_early_stopping_restores_even_when_patience_never_ran_out():
    model = FakeModel()
    stopper = EarlyStopping(patience=5, restore_best_weights=True)
    ran = fit(model, [stopper], val_losses(1.0, 0.8, 0.85, 0.9))
    assert ran == [0, 1, 2, 3]
    assert stopper.stopped_epoch == 0
    assert model.w[0] == 1.0


def test_early_stopping_restores_when_another_callback_stopped_training():
    model = FakeModel()
    stopper = EarlyStopping(patience=10, restore_best_weights=True)
    logs = [
        {"loss": 1.0, "val_loss": 0.5},
        {"loss": 0.8, "val_loss": 0.4},
        {"loss": 0.7, "val_loss": 0.45},
        {"loss": float("nan"), "val_loss": float("nan")},
    ]
    ran = fit(model, [TerminateOnNaN(), stopper], logs)
    assert ran == [0, 1, 2, 3]
    assert model.w[0] == 1.0


def test_early_stopping_without_restoring_leaves_the_last_weights():
    model = FakeModel()
    stopper = EarlyStopping(patience=1)
    assert fit(model, [stopper], val_losses(1.0, 1.1, 1.2)) == [0, 1]
    assert model.w[0] == 1.0 and stopper.best_weights is None


def test_early_stopping_patience_zero_max_mode_and_min_delta():
    accuracy = [{"val_accuracy": a} for a in (0.5, 0.7, 0.75, 0.6)]
    stopper = EarlyStopping(monitor="val_accuracy", patience=0, min_delta=0.1)
    assert fit(FakeModel(), [stopper], accuracy) == [0, 1, 2]  # +0.05 is not enough
    assert stopper.best == pytest.approx(0.7) and stopper.best_epoch == 1


def test_early_stopping_baseline_must_be_beaten():
    # Improving, but never below the baseline: stops after `patience` epochs.
    stopper = EarlyStopping(patience=2, baseline=0.5)
    assert fit(FakeModel(), [stopper], val_losses(0.9, 0.8, 0.7, 0.6)) == [0, 1]
    # Beating the baseline restarts the wait.
    stopper = EarlyStopping(patience=2, baseline=0.5)
    assert fit(FakeModel(), [stopper], val_losses(0.9, 0.4, 0.45, 0.46, 0.47)) == [0, 1, 2, 3]


def test_early_stopping_start_from_epoch_ignores_warm_up():
    stopper = EarlyStopping(patience=1, start_from_epoch=2, restore_best_weights=True)
    model = FakeModel()
    assert fit(model, [stopper], val_losses(0.1, 0.2, 0.9, 1.0, 1.1)) == [0, 1, 2, 3]
    assert stopper.best_epoch == 2 and model.w[0] == 2.0


def test_early_stopping_remembers_weights_when_first_values_are_nan():
    model = FakeModel()
    stopper = EarlyStopping(patience=3, restore_best_weights=True)
    fit(model, [stopper], val_losses(float("nan"), float("nan")))
    assert stopper.best is None and stopper.best_epoch == 0 and model.w[0] == 0.0


def test_early_stopping_is_reusable_across_fits():
    model, stopper = FakeModel(), EarlyStopping(patience=1)
    assert fit(model, [stopper], val_losses(1.0, 2.0, 3.0)) == [0, 1]
    assert fit(model, [stopper], val_losses(5.0, 4.0, 3.0)) == [0, 1, 2]
    assert stopper.best == 3.0


# ---- learning rate --------------------------------------------------------------------------


def lrs_after_each_epoch(model, callbacks, epoch_logs):
    seen = []
    recorder = LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(model.optimizer.lr))
    fit(model, [*callbacks, recorder], epoch_logs)
    return seen


def test_reduce_lr_on_plateau_patience_cooldown_and_min_lr(capsys):
    model = FakeModel(lr=0.1)
    reducer = ReduceLROnPlateau(factor=0.5, patience=2, cooldown=1, min_lr=0.02, verbose=1)
    lrs = lrs_after_each_epoch(model, [reducer], val_losses(*[1.0] * 12))
    assert lrs == pytest.approx(
        [0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.02, 0.02, 0.02, 0.02]
    )
    assert model.optimizer.param_groups[0]["lr"] == pytest.approx(0.02)
    assert "Epoch 3: ReduceLROnPlateau reducing learning rate to 0.05." in capsys.readouterr().out


def test_reduce_lr_on_plateau_improvements_reset_the_wait():
    reducer = ReduceLROnPlateau(factor=0.1, patience=2, min_delta=0.01)
    losses = val_losses(1.0, 0.5, 0.6, 0.4, 0.45, 0.395, 0.5)
    lrs = lrs_after_each_epoch(FakeModel(lr=1.0), [reducer], losses)
    # 0.395 beats 0.4 by less than min_delta: the third epoch without improvement reduces.
    assert lrs == pytest.approx([1.0, 1.0, 1.0, 1.0, 1.0, 0.1, 0.1])


def test_reduce_lr_on_plateau_max_mode_and_bad_factor():
    reducer = ReduceLROnPlateau(monitor="val_accuracy", factor=0.5, patience=1, min_delta=0)
    logs = [{"val_accuracy": a} for a in (0.5, 0.6, 0.6, 0.7)]
    assert lrs_after_each_epoch(FakeModel(lr=1.0), [reducer], logs) == [1.0, 1.0, 0.5, 0.5]
    with pytest.raises(ValueError, match="0 < factor < 1"):
        ReduceLROnPlateau(factor=1.0)


def test_learning_rate_scheduler_sets_lr_at_each_epoch_begin(capsys):
    model = FakeModel(lr=0.8)
    seen = []
    scheduler = LearningRateScheduler(lambda epoch, lr: lr if epoch == 0 else lr / 2, verbose=1)
    recorder = LambdaCallback(on_epoch_begin=lambda epoch, logs: seen.append(model.optimizer.lr))
    fit(model, [scheduler, recorder], [{"loss": 1.0}] * 4)
    assert seen == [0.8, 0.4, 0.2, 0.1]
    assert "Epoch 2: LearningRateScheduler setting learning rate to 0.4." in capsys.readouterr().out


def test_learning_rate_scheduler_takes_a_one_argument_schedule_and_checks_its_output():
    model = FakeModel()
    fit(model, [LearningRateScheduler(lambda epoch: 0.01 * (epoch + 1))], [{"loss": 1.0}] * 3)
    assert model.optimizer.lr == pytest.approx(0.03)
    with pytest.raises(ValueError, match="finite number >= 0, got 'fast' for epoch 0"):
        fit(FakeModel(), [LearningRateScheduler(lambda epoch, lr: "fast")], [{"loss": 1.0}])
    with pytest.raises(ValueError, match="got nan"):
        fit(FakeModel(), [LearningRateScheduler(lambda epoch, lr: math.nan)], [{"loss": 1.0}])


# ---- ModelCheckpoint ------------------------------------------------------------------------


def test_checkpoint_save_best_only_formats_the_path(tmp_path, capsys):
    model = FakeModel()
    path = str(tmp_path / "ckpt" / "model-{epoch:02d}-{val_loss:.2f}")
    checkpoint = ModelCheckpoint(path, save_best_only=True, verbose=1)
    fit(model, [checkpoint], val_losses(1.0, 0.9, 0.95, 0.8))
    folder = tmp_path / "ckpt"
    assert model.saved == [
        ("save", str(folder / "model-01-1.00")),
        ("save", str(folder / "model-02-0.90")),
        ("save", str(folder / "model-04-0.80")),
    ]
    assert folder.is_dir()  # made for the model's save
    out = capsys.readouterr().out
    assert "Epoch 1: val_loss improved from inf to 1.00000, saving model to" in out
    assert "Epoch 3: val_loss did not improve from 0.90000" in out


def test_checkpoint_every_epoch_weights_only(tmp_path):
    model = FakeModel()
    checkpoint = ModelCheckpoint(tmp_path / "w{epoch}.weights", save_weights_only=True)
    fit(model, [checkpoint], val_losses(1.0, 2.0))
    assert model.saved == [
        ("save_weights", str(tmp_path / "w1.weights")),
        ("save_weights", str(tmp_path / "w2.weights")),
    ]


def test_checkpoint_initial_threshold_and_max_mode():
    model = FakeModel()
    checkpoint = ModelCheckpoint(
        "m.{epoch}", monitor="val_accuracy", save_best_only=True, initial_value_threshold=0.6
    )
    fit(model, [checkpoint], [{"val_accuracy": a} for a in (0.5, 0.7, 0.65, 0.9)])
    assert model.saved == [("save", "m.2"), ("save", "m.4")]
    assert checkpoint.best == 0.9


def test_checkpoint_every_few_batches(tmp_path):
    model = FakeModel()
    checkpoint = ModelCheckpoint("b{epoch}-{batch}", save_freq=3)
    fit(model, [checkpoint], [{"loss": 1.0}] * 3, steps=2)
    assert model.saved == [("save", "b2-1"), ("save", "b3-2")]
    with pytest.raises(ValueError, match="save_freq"):
        ModelCheckpoint("x", save_freq=0)


def test_checkpoint_unknown_field_and_missing_monitor():
    with pytest.raises(ValueError, match="'val_acc'.*available are loss, val_loss"):
        fit(FakeModel(), [ModelCheckpoint("m-{val_acc:.2f}")], val_losses(1.0))
    model = FakeModel()
    with pytest.warns(UserWarning, match="available keys: loss, learning_rate"):
        fit(model, [ModelCheckpoint("m", save_best_only=True)], [{"loss": 1.0}])
    assert model.saved == []


# ---- TerminateOnNaN -------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_terminate_on_nan_stops_at_the_first_bad_batch(bad, capsys):
    model, batches = FakeModel(lr=0.5), []
    counter = LambdaCallback(on_batch_end=lambda batch, logs: batches.append(batch))
    losses = {(0, 0): 0.9, (0, 1): 0.7, (1, 0): 0.6, (1, 1): bad}
    ran = fit(
        model,
        [TerminateOnNaN(), counter],
        [{"loss": 1.0}] * 4,
        steps=3,
        batch_loss=lambda e, b: losses.get((e, b), 0.5),
    )
    assert ran == [0, 1] and batches == [0, 1, 2, 0, 1]
    out = capsys.readouterr().out
    assert f"Epoch 2, batch 2/3: invalid loss {bad}, terminating training" in out
    assert "last finite loss: 0.6, learning rate: 0.5" in out


def test_terminate_on_nan_can_raise():
    with pytest.raises(RuntimeError, match="Epoch 1, batch 1/2: invalid loss nan"):
        fit(FakeModel(), [TerminateOnNaN(raise_error=True)], [{"loss": math.nan}])


# ---- CSVLogger ------------------------------------------------------------------------------


def read_csv(path, separator=","):
    with open(path, newline="") as f:
        return list(csv.reader(f, delimiter=separator))


def test_csv_logger_writes_a_header_and_one_row_per_epoch(tmp_path):
    path = tmp_path / "log.csv"
    rows_seen = []
    # Flushed every epoch: a reader during training sees the rows so far.
    peek = LambdaCallback(on_epoch_end=lambda epoch, logs: rows_seen.append(len(read_csv(path))))
    logs = [{"loss": 0.5, "val_loss": 0.75}, {"loss": 0.25}]
    fit(FakeModel(lr=0.1), [CSVLogger(path), peek], logs)
    assert rows_seen == [2, 3]
    assert read_csv(path) == [
        ["epoch", "learning_rate", "loss", "val_loss"],
        ["0", "0.1", "0.5", "0.75"],
        ["1", "0.1", "0.25", "NA"],
    ]


def test_csv_logger_appends_under_the_existing_header(tmp_path):
    path = tmp_path / "log.tsv"
    fit(FakeModel(), [CSVLogger(path, separator="\t")], [{"loss": 1.0, "val_loss": 2.0}])
    fit(
        FakeModel(),
        [CSVLogger(path, separator="\t", append=True)],
        [{"val_loss": 3.0, "loss": 4.0, "extra": 5.0}],
    )
    assert read_csv(path, "\t") == [
        ["epoch", "learning_rate", "loss", "val_loss"],
        ["0", "0.1", "1.0", "2.0"],
        ["0", "0.1", "4.0", "3.0"],
    ]
    fit(FakeModel(), [CSVLogger(path)], [{"loss": 1.0}])  # append=False starts over
    assert read_csv(path) == [["epoch", "learning_rate", "loss"], ["0", "0.1", "1.0"]]


# ---- LambdaCallback -------------------------------------------------------------------------


def test_lambda_callback_calls_the_given_functions():
    calls = []
    callback = LambdaCallback(
        on_train_begin=lambda logs: calls.append("train_begin"),
        on_epoch_begin=lambda epoch, logs: calls.append(f"epoch_begin {epoch}"),
        on_batch_begin=lambda batch, logs: calls.append(f"batch_begin {batch}"),
        on_batch_end=lambda batch, logs: calls.append(f"batch_end {batch} {logs['loss']}"),
        on_epoch_end=lambda epoch, logs: calls.append(f"epoch_end {epoch}"),
        on_train_end=lambda logs: calls.append("train_end"),
        on_test_end=lambda logs: calls.append(f"test_end {logs['loss']}"),
    )
    fit(FakeModel(), [callback], [{"loss": 0.5, "val_loss": 0.25}], steps=1)
    assert calls == [
        "train_begin",
        "epoch_begin 0",
        "batch_begin 0",
        "batch_end 0 0.5",
        "test_end 0.25",
        "epoch_end 0",
        "train_end",
    ]
    with pytest.raises(TypeError, match="unknown hooks \\['on_epoch_middle'\\]"):
        LambdaCallback(on_epoch_middle=print)


# ---- ProgressBar ----------------------------------------------------------------------------

EPOCH_LOGS = [
    {"loss": 0.5, "accuracy": 0.75, "val_loss": 0.625, "val_accuracy": 0.7},
    {"loss": 0.25, "accuracy": 0.875, "val_loss": 0.5, "val_accuracy": 0.8},
]
TIMING = r"\d+(s|ms|us) \d+(s|ms|us)/step"


def test_progress_verbose_0_prints_nothing():
    out = io.StringIO()
    fit(FakeModel(), [ProgressBar(file=out)], EPOCH_LOGS, verbose=0)
    assert out.getvalue() == ""


@pytest.mark.parametrize("verbose", [1, 2, "auto"])
def test_progress_prints_one_line_per_epoch_when_not_a_terminal(verbose):
    out = io.StringIO()  # not a terminal: verbose=1 must not write a line per step
    fit(FakeModel(lr=1e-5), [ProgressBar(file=out)], EPOCH_LOGS, steps=4, verbose=verbose)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    pattern = (
        rf"Epoch 1/2 - 4/4 - {TIMING} - loss: 0\.5000 - accuracy: 0\.7500 - val_loss: 0\.6250 - "
        r"val_accuracy: 0\.7000 - learning_rate: 1\.0000e-05"
    )
    assert re.fullmatch(pattern, lines[0]), lines[0]
    assert lines[1].startswith("Epoch 2/2 - 4/4 - ")
    assert lines[1].endswith(
        "loss: 0.2500 - accuracy: 0.8750 - val_loss: 0.5000 - "
        "val_accuracy: 0.8000 - learning_rate: 1.0000e-05"
    )


def test_progress_own_verbose_overrides_the_loop_and_shows_a_stopped_epoch():
    out = io.StringIO()
    logs = [{"loss": 1.0}, {"loss": math.nan}]
    fit(
        FakeModel(),
        [TerminateOnNaN(), ProgressBar(verbose=2, file=out)],
        logs,
        steps=3,
        batch_loss=lambda e, b: logs[e]["loss"],
    )
    lines = out.getvalue().splitlines()
    assert [line.split(" - ")[:2] for line in lines] == [["Epoch 1/2", "3/3"], ["Epoch 2/2", "1/3"]]
    assert lines[1].endswith("loss: nan - learning_rate: 0.1000")


def test_progress_bar_on_a_terminal_draws_tqdm_with_the_logs():
    out = io.StringIO()
    fit(FakeModel(), [ProgressBar(file=out, interactive=True)], EPOCH_LOGS, steps=3, verbose=1)
    text = out.getvalue()
    assert "Epoch 1/2" in text and "Epoch 2/2" in text
    assert "3/3" in text and "\r" in text  # drawn in place
    assert "loss: 0.2500 - accuracy: 0.8750 - val_loss: 0.5000" in text


def test_progress_evaluate_outside_fit_gets_its_own_line():
    out = io.StringIO()
    cbs = CallbackList([ProgressBar(file=out)], model=FakeModel(), steps=2, verbose=2)
    cbs.on_test_begin({})
    for batch in range(2):
        cbs.on_test_batch_begin(batch, {})
        cbs.on_test_batch_end(batch, {"loss": 0.5})
    cbs.on_test_end({"loss": 0.5, "accuracy": 1.0})
    line = out.getvalue().strip()
    assert re.fullmatch(rf"Evaluate - 2/2 - {TIMING} - loss: 0\.5000 - accuracy: 1\.0000", line)
