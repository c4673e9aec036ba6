"""The Keras-style Model: compile / fit / evaluate / predict over nnlab's engine.

``fit`` runs the loop; the work of one batch is ``train_step`` (and ``test_step`` for
validation and ``evaluate``), which models such as GANs and VAEs override, never ``fit``.
"""

import numpy as np

from nnlab import backend, losses, optim
from nnlab import functional as F
from nnlab import metrics as metric_lookup
from nnlab.autograd.graph import no_grad
from nnlab.autograd.tensor import Tensor
from nnlab.nn.module import Module
from nnlab.training import data
from nnlab.training.callbacks import CallbackList, History, ProgressBar


class Model(Module):
    """A trainable model with Keras's training API.

    Subclass it and define ``call`` (Keras's name) or ``forward`` (PyTorch's), with the
    layers assigned in ``__init__``; or use ``Sequential``. Input sizes of Keras-style layers
    are inferred on the first call; ``fit`` builds the model on the first sample before the
    optimizer collects the parameters.

    Args:
        name: the model's name.
        seed: seed (or Generator) for shuffling; default: the library's Generator.
    """

    # Models whose train_step computes its own loss (VAE: the negative ELBO; GAN: both
    # players' losses) name it here; their compile() then takes no loss.
    builtin_loss: str | None = None

    def __init__(self, name=None, seed=None):
        super().__init__()
        self.name = name or type(self).__name__.lower()
        self.rng = backend.get_generator(seed)
        self.built = False
        self.optimizer = self.loss = None
        self.compiled_metrics: list = []
        self.stop_training = False
        self.history = None

    def forward(self, *args, **kwargs):
        call = getattr(self, "call", None)
        if call is None:
            raise NotImplementedError(
                f"{type(self).__name__} defines neither call() (Keras) nor forward() (PyTorch)"
            )
        return call(*args, **kwargs)

    # ---- building ---------------------------------------------------------------------------
    def build(self, input_shape) -> "Model":
        """Create every lazily built parameter by running one zero sample of ``input_shape``
        (batch axis excluded or None) through the model in inference mode."""
        shape = tuple(input_shape)
        shape = shape[1:] if shape and shape[0] is None else shape
        self._build_from(np.zeros((1,) + shape, backend.default_dtype()))
        return self

    def _build_from(self, sample: np.ndarray) -> None:
        self._build_sample = np.zeros_like(sample[:1])  # remembered for summary()
        training = self.training
        self.eval()
        with no_grad():
            self(Tensor(sample))
        self.train(training)
        self.built = True

    # ---- compile ----------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None):
        """Choose the optimizer, the loss and the metrics reported during training.

        Args:
            optimizer: a name ('sgd', 'adam', 'rmsprop', ...) or an Optimizer (bound to the
                model's parameters when it is built).
            loss: a Keras loss name ('mse', 'categorical_crossentropy', ...), a Loss, a
                function ``f(y_true, y_pred)`` giving per-sample losses, or a PyTorch-style loss
                module called as ``module(y_pred, y_true)``.
            metrics: names ('accuracy', 'precision', 'recall', 'auc', 'mae', 'mse') or Metric
                objects; 'accuracy' picks binary/categorical/sparse from the loss.
        """
        self.optimizer = optim.get(optimizer)
        self.loss = _resolve_loss(loss)
        loss_name = getattr(self.loss, "name", None)
        self.compiled_metrics = [metric_lookup.get(m, loss=loss_name) for m in (metrics or [])]
        return self

    def _check_compiled(self) -> None:
        if self.optimizer is None or (self.loss is None and self.builtin_loss is None):
            raise RuntimeError(
                f"{type(self).__name__} must be compiled before training or evaluating: call "
                "model.compile(optimizer=..., loss=...) first"
            )

    def _ensure_ready(self, x) -> None:
        """Compiled, built from the sample ``x``, and the optimizer bound to the parameters."""
        self._check_compiled()
        if not self.built:
            self._build_from(x[:1])
        if not self.optimizer.param_groups:
            self.optimizer.build(self.parameters())

    # ---- one batch --------------------------------------------------------------------------
    def compute_loss(self, y, y_pred, sample_weight=None) -> Tensor:
        """The compiled loss plus every regularization penalty of the layers."""
        loss = self.loss(y, y_pred, sample_weight)
        for penalty in self.losses:
            loss = loss + penalty
        return loss

    def train_step(self, batch) -> dict:
        """One optimizer step on ``batch`` = (x, y, sample_weight); returns per-batch logs."""
        x, y, sample_weight = batch
        y_pred = self(Tensor(x))
        loss = self.compute_loss(y, y_pred, sample_weight)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        self._update_metrics(y, y_pred, sample_weight)
        return {"loss": loss.item()}

    def test_step(self, batch) -> dict:
        """The loss (and metric updates) of ``batch`` in inference mode, without gradients."""
        x, y, sample_weight = batch
        with no_grad():
            y_pred = self(Tensor(x))
            loss = self.compute_loss(y, y_pred, sample_weight)
        self._update_metrics(y, y_pred, sample_weight)
        return {"loss": loss.item()}

    def _update_metrics(self, y, y_pred, sample_weight) -> None:
        for metric in self.compiled_metrics:
            metric.update_state(y, y_pred.data, sample_weight)

    def _reset_metrics(self) -> None:
        for metric in self.compiled_metrics:
            metric.reset_state()

    def _logs(self, means: data.RunningMeans) -> dict:
        return {**means.result(), **{m.name: float(m.result()) for m in self.compiled_metrics}}

    # ---- fit --------------------------------------------------------------------------------
    def fit(
        self,
        x,
        y=None,
        batch_size=None,
        epochs=1,
        verbose="auto",
        callbacks=None,
        validation_split=0.0,
        validation_data=None,
        shuffle=True,
        class_weight=None,
        sample_weight=None,
        initial_epoch=0,
    ):
        """Train for ``epochs - initial_epoch`` epochs of shuffled mini-batches.

        Args:
            x, y: inputs and targets (NumPy arrays; integer class labels accepted).
            batch_size: samples per update (default 32); ``len(x)`` is batch gradient
                descent, 1 is stochastic gradient descent.
            epochs: index of the last epoch (Keras semantics with ``initial_epoch``).
            verbose: 'auto' or 1 (progress bar; one line per epoch when not on a terminal),
                2 (one line per epoch) or 0 (silent).
            callbacks: Callback objects, called in Keras's order.
            validation_split: fraction of the data, taken from the end before shuffling,
                held out for validation. ``validation_data=(x, y[, sample_weight])`` instead.
            shuffle: reshuffle the training samples each epoch (with the model's Generator).
            class_weight: {class: weight} or 'balanced'; weights training samples only.
            sample_weight: per-sample weights of the training loss.
        Returns:
            The History callback; ``history.history`` maps 'loss', metric names, their
            'val_' versions and 'learning_rate' to one value per epoch.
        """
        self._check_compiled()
        batch_size = 32 if batch_size is None else int(batch_size)
        train, val = self._training_batches(
            x, y, batch_size, validation_split, shuffle, class_weight, sample_weight
        )
        if validation_data is not None:
            val = data.validation_tuple(validation_data)
        history = History()
        cbs = self._callback_list(callbacks, history, verbose, epochs, len(train))
        self.stop_training = False
        cbs.on_train_begin({})
        logs = {}
        try:
            for epoch in range(initial_epoch, epochs):
                cbs.on_epoch_begin(epoch, {})
                logs = self._train_epoch(train, cbs)
                if val is not None and not self.stop_training:
                    val_logs = self._evaluate_arrays(val, batch_size, cbs)
                    logs.update({f"val_{k}": v for k, v in val_logs.items()})
                logs["learning_rate"] = float(self.optimizer.lr)
                cbs.on_epoch_end(epoch, logs)
                if self.stop_training:
                    break
        finally:
            # Even when training is interrupted: EarlyStopping restores the best weights
            # here and CSVLogger closes its file.
            cbs.on_train_end(logs)
        return history

    def _training_batches(
        self, x, y, batch_size, validation_split, shuffle, class_weight, sample_weight
    ):
        """The epoch's batches, and the validation arrays split off (or None)."""
        if data.is_batch_source(x):
            if y is not None or validation_split or sample_weight is not None:
                raise ValueError(
                    "when x yields batches (e.g. ImageAugmenter.flow), y and sample weights "
                    "come from it and validation_split is not available: pass y=None and "
                    "validation_data=(x_val, y_val)"
                )
            return data.SourceBatches(x, backend.default_dtype(), class_weight), None
        x, y = data.as_input(x, backend.default_dtype()), data.as_target(y)
        data.check_lengths(x=x, y=y, sample_weight=sample_weight)
        arrays, val = (x, y, data.sample_weights(y, sample_weight, class_weight)), None
        if validation_split:
            arrays, val = data.split_validation(arrays, validation_split)
        return data.ArrayBatches(arrays, batch_size, shuffle, self.rng), val

    def _callback_list(self, callbacks, history, verbose, epochs, steps):
        verbose = 1 if verbose == "auto" else int(verbose)
        # The progress display goes first so its epoch line is finished before other
        # callbacks print; History goes last so it records what the others added.
        display = [ProgressBar(verbose=verbose)] if verbose else []
        cbs = CallbackList([*display, *(callbacks or []), history])
        cbs.set_model(self)
        cbs.set_params({"epochs": epochs, "steps": steps, "verbose": verbose})
        return cbs

    def _train_epoch(self, batches, cbs) -> dict:
        self.train()
        self._reset_metrics()
        means = data.RunningMeans()
        for step, batch in enumerate(batches):
            self._ensure_ready(batch[0])
            cbs.on_train_batch_begin(step, {})
            means.update(self.train_step(batch), len(batch[0]))
            cbs.on_train_batch_end(step, self._logs(means))
            if self.stop_training:
                break
        return self._logs(means)

    def _evaluate_arrays(self, arrays, batch_size, cbs) -> dict:
        self.eval()
        self._reset_metrics()
        means = data.RunningMeans()
        cbs.on_test_begin({})
        for step, batch in enumerate(data.ArrayBatches(arrays, batch_size, False, self.rng)):
            cbs.on_test_batch_begin(step, {})
            means.update(self.test_step(batch), len(batch[0]))
            cbs.on_test_batch_end(step, self._logs(means))
        logs = self._logs(means)
        cbs.on_test_end(logs)
        self.train()
        return logs

    # ---- evaluate and predict ---------------------------------------------------------------
    def evaluate(
        self,
        x,
        y=None,
        batch_size=None,
        verbose=0,
        sample_weight=None,
        callbacks=None,
        return_dict=False,
    ):
        """Loss and metrics on (x, y) in inference mode: a float, [loss, *metrics] or a dict."""
        x, y = data.as_input(x, backend.default_dtype()), data.as_target(y)
        data.check_lengths(x=x, y=y, sample_weight=sample_weight)
        self._ensure_ready(x)
        batch_size = batch_size or 32
        cbs = CallbackList(list(callbacks or []))
        cbs.set_model(self)
        cbs.set_params({"steps": -(-len(x) // batch_size), "verbose": verbose})
        weights = None if sample_weight is None else np.asarray(sample_weight)
        logs = self._evaluate_arrays((x, y, weights), batch_size, cbs)
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size=None, verbose=0) -> np.ndarray:
        """Model outputs for ``x`` in inference mode, batch by batch, as one array."""
        x = data.as_input(x, backend.default_dtype())
        if len(x) == 0:
            raise ValueError("predict got no samples")
        if not self.built:
            self._build_from(x[:1])
        training = self.training
        self.eval()
        size = batch_size or 32
        with no_grad():
            outputs = [self(Tensor(x[i : i + size])).data for i in range(0, len(x), size)]
        self.train(training)
        return np.concatenate(outputs)

    def predict_proba(self, x, batch_size=None) -> np.ndarray:
        """Class probabilities: the outputs, passed through softmax/sigmoid first when the
        loss was compiled with ``from_logits=True``."""
        out = self.predict(x, batch_size)
        if getattr(self.loss, "fn_kwargs", {}).get("from_logits"):
            out = F.softmax(Tensor(out)).data if out.shape[-1] > 1 else F.sigmoid(Tensor(out)).data
        return out

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One optimizer step on exactly this batch; returns the loss (and metrics)."""
        x, y = data.as_input(x, backend.default_dtype()), data.as_target(y)
        self._ensure_ready(x)
        self.train()
        self._reset_metrics()
        weights = data.sample_weights(y, sample_weight, class_weight)
        logs = {**self.train_step((x, y, weights)), **self._logs(data.RunningMeans())}
        return logs if return_dict else _as_result(logs)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        x, y = data.as_input(x, backend.default_dtype()), data.as_target(y)
        self._ensure_ready(x)
        self._reset_metrics()
        self.eval()
        weights = None if sample_weight is None else np.asarray(sample_weight)
        logs = {**self.test_step((x, y, weights)), **self._logs(data.RunningMeans())}
        self.train()
        return logs if return_dict else _as_result(logs)

    def predict_on_batch(self, x) -> np.ndarray:
        return self.predict(x, batch_size=len(x))

    # ---- saving -----------------------------------------------------------------------------
    # nnlab.io sits above training (it needs every registered layer class), so these methods
    # reach it at call time rather than importing it into this lower layer.
    def save(self, path) -> None:
        """Save config, weights, optimizer and RNG state to one file (see ``nnlab.io``)."""
        from nnlab import io

        io.save_model(self, path)

    def save_weights(self, path) -> None:
        """Save the weights alone to a ``.safetensors`` file."""
        from nnlab import io

        io.save_weights(self, path)

    def load_weights(self, path) -> None:
        """Load weights written by ``save_weights``; names and shapes must match."""
        from nnlab import io

        io.load_weights(self, path)

    def summary(self, print_fn=print) -> str:
        """A Keras-style table: each layer, its output shape and parameter count; totals."""
        from nnlab.training.summary import summary_text

        text = summary_text(self)
        if print_fn is not None:
            print_fn(text)
        return text


def _resolve_loss(loss):
    if loss is None:
        return None
    if isinstance(loss, Module):  # PyTorch-style loss module: module(prediction, target)
        return _ModuleLoss(loss)
    return losses.get(loss)


class _ModuleLoss:
    """Adapts ``nn.CrossEntropyLoss()`` and friends to the (y_true, y_pred) convention."""

    def __init__(self, module):
        self.module, self.name = module, type(module).__name__

    def __call__(self, y_true, y_pred, sample_weight=None):
        if sample_weight is not None:
            raise ValueError(
                f"{self.name} does not take sample weights; compile with a Keras-style loss "
                "(e.g. 'sparse_categorical_crossentropy') to use sample_weight or class_weight"
            )
        return self.module(y_pred, y_true)


def _as_result(logs: dict):
    values = list(logs.values())
    return values[0] if len(values) == 1 else values
