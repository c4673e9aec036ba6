"""Saving and loading: bit-identical round trips, exact resume in a fresh process, atomic
writes, and rejection (with a clear message) of damaged, foreign and crafted files."""

import json
import os
import struct
import subprocess
import sys
import textwrap
import tracemalloc
import zipfile

import numpy as np
import pytest
import safetensors.numpy

import nnlab
from nnlab import layers, nn
from nnlab.io import CorruptFileError, load_model, load_weights, save_model, save_weights
from nnlab.training import Sequential


@pytest.fixture(scope="module")
def iris():
    from sklearn.datasets import load_iris
    from sklearn.preprocessing import StandardScaler

    x, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(x).astype(np.float32), y


def make_model(seed=0, units=16, metrics=None):
    nnlab.manual_seed(seed)
    model = Sequential(
        [
            layers.Dense(units, activation="relu"),
            layers.BatchNormalization(),
            layers.Dropout(0.3),
            layers.Dense(3, activation="softmax"),
        ],
        seed=seed,
    )
    model.compile(
        optimizer=nnlab.optim.Adam(lr=0.01),
        loss="sparse_categorical_crossentropy",
        metrics=metrics,
    )
    return model


def assert_same_state(a: dict, b: dict):
    assert sorted(a) == sorted(b)
    for key in a:
        assert a[key].dtype == b[key].dtype, key
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def assert_same_optimizer_state(a: dict, b: dict):
    assert a["param_groups"] == b["param_groups"]
    assert sorted(a["state"]) == sorted(b["state"])
    for index, entries in a["state"].items():
        assert sorted(entries) == sorted(b["state"][index])
        for name, value in entries.items():
            if isinstance(value, np.ndarray):
                assert value.dtype == b["state"][index][name].dtype
                np.testing.assert_array_equal(value, b["state"][index][name])
            else:
                assert value == b["state"][index][name]


@pytest.fixture(scope="module")
def trained(iris, tmp_path_factory):
    x, y = iris
    model = make_model()
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    path = tmp_path_factory.mktemp("io") / "model.nnlab"
    save_model(model, path)
    return model, path


# ---- round trips ----------------------------------------------------------------------------


def test_load_gives_identical_predictions_weights_and_optimizer_state(iris, trained):
    x, _ = iris
    model, path = trained
    loaded = load_model(path)
    assert type(loaded) is Sequential
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert_same_state(loaded.state_dict(), model.state_dict())
    assert type(loaded.optimizer) is nnlab.optim.Adam
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert_same_optimizer_state(loaded.optimizer.state_dict(), model.optimizer.state_dict())
    assert loaded.optimizer.state_dict()["state"][0]["step"] == 20  # 2 epochs of 10 batches
    assert type(loaded.loss) is type(model.loss)
    assert loaded.loss.get_config() == model.loss.get_config()
    # Every random stream continues where the saved one stopped.
    assert loaded.rng.bit_generator.state == model.rng.bit_generator.state
    assert loaded.layers[2].rng.bit_generator.state == model.layers[2].rng.bit_generator.state


def test_file_is_a_plain_zip_of_json_and_safetensors(trained):
    model, path = trained
    with zipfile.ZipFile(path) as archive:
        assert archive.namelist() == [
            "config.json",
            "model.safetensors",
            "optimizer.json",
            "optimizer.safetensors",
            "rng.json",
        ]
        assert all(i.compress_type == zipfile.ZIP_STORED for i in archive.infolist())
        config = json.loads(archive.read("config.json"))
        weights = safetensors.numpy.load(archive.read("model.safetensors"))
        opt_arrays = safetensors.numpy.load(archive.read("optimizer.safetensors"))
        rng = json.loads(archive.read("rng.json"))
    assert config["format"] == "nnlab.model" and config["format_version"] == 1
    assert config["class_name"] == "training.Sequential"
    assert config["build_input"] == {"shape": [1, 4], "dtype": "float32"}
    assert config["compile"]["optimizer"]["class_name"] == "Adam"
    assert config["compile"]["loss"]["class_name"] == "SparseCategoricalCrossentropy"
    assert_same_state(weights, dict(model.state_dict()))
    np.testing.assert_array_equal(
        opt_arrays["state.0.exp_avg"], model.optimizer.state[model.layers[0].weight]["exp_avg"]
    )
    paths = [group["paths"] for group in rng["generators"]]
    # model.rng was seeded on its own; the layers all share the library Generator.
    assert paths == [["rng"], ["0.rng", "1.rng", "2.rng", "3.rng"]]


def test_saving_twice_gives_the_same_bytes(trained, tmp_path):
    model, _ = trained
    save_model(model, tmp_path / "a.nnlab")
    save_model(model, tmp_path / "b.nnlab")
    assert (tmp_path / "a.nnlab").read_bytes() == (tmp_path / "b.nnlab").read_bytes()


def test_shared_generators_stay_shared_and_are_new(trained):
    model, path = trained
    loaded = load_model(path)
    shared = loaded.layers[0].rng
    assert all(layer.rng is shared for layer in loaded.layers)
    assert loaded.rng is not shared
    assert shared is not nnlab.get_generator() and shared is not model.layers[0].rng
    assert shared.bit_generator.state == model.layers[0].rng.bit_generator.state


def test_loading_does_not_move_the_library_generator(trained):
    _, path = trained
    nnlab.manual_seed(123)
    expected = np.random.default_rng(123).random()
    load_model(path)
    assert nnlab.get_generator().random() == expected


def test_resume_in_process_is_exact(iris, tmp_path):
    x, y = iris
    straight = make_model()
    straight.fit(x, y, epochs=4, batch_size=16, verbose=0)
    first = make_model()
    first.fit(x, y, epochs=2, batch_size=16, verbose=0)
    save_model(first, tmp_path / "half.nnlab")
    resumed = load_model(tmp_path / "half.nnlab")
    resumed.fit(x, y, epochs=2, batch_size=16, verbose=0)
    assert_same_state(resumed.state_dict(), straight.state_dict())
    assert_same_optimizer_state(resumed.optimizer.state_dict(), straight.optimizer.state_dict())


RESUME_SCRIPT = textwrap.dedent(
    """
    import sys
    import numpy as np
    from nnlab.io import load_model, save_weights
    model_path, data_path, out_path = sys.argv[1:4]
    data = np.load(data_path)
    model = load_model(model_path)
    model.fit(data["x"], data["y"], epochs=5, batch_size=16, shuffle=True, verbose=0)
    save_weights(model, out_path)
    """
)


def test_resume_in_a_fresh_process_is_bit_identical(iris, tmp_path):
    """10 epochs straight == 5 epochs, save, load in a new interpreter, 5 more epochs."""
    x, y = iris
    straight = make_model(seed=7)
    straight.fit(x, y, epochs=10, batch_size=16, shuffle=True, verbose=0)

    first = make_model(seed=7)
    first.fit(x, y, epochs=5, batch_size=16, shuffle=True, verbose=0)
    save_model(first, tmp_path / "half.nnlab")
    np.savez(tmp_path / "data.npz", x=x, y=y)
    out = tmp_path / "resumed.safetensors"
    args = [str(tmp_path / "half.nnlab"), str(tmp_path / "data.npz"), str(out)]
    done = subprocess.run(
        [sys.executable, "-c", RESUME_SCRIPT, *args], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    resumed = safetensors.numpy.load_file(str(out))
    assert_same_state(resumed, dict(straight.state_dict()))
    # The dropout and shuffling streams matter: without them the weights would differ.
    assert not np.array_equal(resumed["0.weight"], first.state_dict()["0.weight"])


def test_pytorch_style_modules_and_other_bit_generators_resume_exactly(iris, tmp_path):
    x, y = iris

    def build():
        nnlab.manual_seed(1)
        mt = np.random.Generator(np.random.MT19937(5))
        model = Sequential(
            [
                nn.Linear(4, 12, rng=1),
                nn.ReLU(),
                nn.Dropout(0.2),  # a child Generator of its own
                layers.Dropout(0.1, rng=mt),  # array-valued MT19937 state
                nn.Linear(12, 3, rng=2),
            ],
            seed=mt,  # shared by the model's shuffling and one layer
        )
        model.compile(optimizer=nnlab.optim.NAdam(lr=0.01), loss=nn.CrossEntropyLoss())
        return model

    straight = build()
    straight.fit(x, y, epochs=4, batch_size=32, verbose=0)
    first = build()
    first.fit(x, y, epochs=2, batch_size=32, verbose=0)
    save_model(first, tmp_path / "m.nnlab")
    resumed = load_model(tmp_path / "m.nnlab")
    assert resumed.rng is resumed.layers[3].rng
    assert resumed.layers[2].rng is not resumed.rng
    assert type(resumed.rng.bit_generator) is np.random.MT19937
    resumed.fit(x, y, epochs=2, batch_size=32, verbose=0)
    assert_same_state(resumed.state_dict(), straight.state_dict())
    assert_same_optimizer_state(resumed.optimizer.state_dict(), straight.optimizer.state_dict())


def test_compiled_but_never_trained_model_round_trips(iris, tmp_path):
    x, y = iris
    model = make_model()
    model.build((4,))
    save_model(model, tmp_path / "fresh.nnlab")
    loaded = load_model(tmp_path / "fresh.nnlab")
    assert loaded.optimizer.param_groups == [] and loaded.optimizer.state == {}
    model.fit(x, y, epochs=1, verbose=0)
    loaded.fit(x, y, epochs=1, verbose=0)
    assert_same_state(loaded.state_dict(), model.state_dict())


def test_unbuilt_uncompiled_model_round_trips(tmp_path):
    nnlab.manual_seed(0)
    model = Sequential([layers.Dense(4)], seed=0)
    save_model(model, tmp_path / "empty.nnlab")
    loaded = load_model(tmp_path / "empty.nnlab")
    assert not loaded.built and loaded.optimizer is None and loaded.loss is None
    assert loaded.rng.bit_generator.state == model.rng.bit_generator.state


def test_compile_false_skips_optimizer_and_loss(trained):
    _, path = trained
    loaded = load_model(path, compile=False)
    assert loaded.optimizer is None and loaded.loss is None


def test_metrics_are_saved_by_config(iris, tmp_path):
    x, y = iris
    model = make_model(metrics=["accuracy", nnlab.metrics.BinaryAccuracy(threshold=0.3)])
    model.fit(x, y, epochs=1, verbose=0)
    save_model(model, tmp_path / "m.nnlab")
    loaded = load_model(tmp_path / "m.nnlab")
    assert [type(m) for m in loaded.compiled_metrics] == [type(m) for m in model.compiled_metrics]
    assert [m.get_config() for m in loaded.compiled_metrics] == [
        m.get_config() for m in model.compiled_metrics
    ]
    assert loaded.evaluate(x, y, return_dict=True) == model.evaluate(x, y, return_dict=True)


def test_pytorch_style_loss_module_round_trips(iris, tmp_path):
    x, y = iris
    nnlab.manual_seed(0)
    model = Sequential([layers.Dense(3)], seed=0)
    model.compile(optimizer="sgd", loss=nn.CrossEntropyLoss(label_smoothing=0.1))
    model.fit(x, y, epochs=1, verbose=0)
    save_model(model, tmp_path / "m.nnlab")
    loaded = load_model(tmp_path / "m.nnlab")
    assert loaded.evaluate(x, y) == model.evaluate(x, y)


def test_custom_loss_function_is_left_out_with_a_warning(iris, tmp_path):
    x, y = iris

    def my_loss(y_true, y_pred):
        return nnlab.losses.sparse_categorical_crossentropy(y_true, y_pred)

    nnlab.manual_seed(0)
    model = Sequential([layers.Dense(3, activation="softmax")], seed=0)
    model.compile(optimizer="adam", loss=my_loss)
    model.fit(x, y, epochs=1, verbose=0)
    with pytest.warns(UserWarning, match="loss 'my_loss' cannot be described by a config"):
        save_model(model, tmp_path / "m.nnlab")
    with pytest.warns(UserWarning, match="saved without part of its state"):
        loaded = load_model(tmp_path / "m.nnlab")
    assert loaded.loss is None
    assert_same_optimizer_state(loaded.optimizer.state_dict(), model.optimizer.state_dict())
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_save_refuses_an_unregistered_model_class(tmp_path):
    class Custom(Sequential):
        pass

    with pytest.raises(ValueError, match="Custom: its class is not registered"):
        save_model(Custom([layers.Dense(2)]), tmp_path / "c.nnlab")
    with pytest.raises(TypeError, match="use save_weights"):
        save_model(nn.Linear(2, 2), tmp_path / "c.nnlab")
    assert os.listdir(tmp_path) == []


# ---- weights only ---------------------------------------------------------------------------


def test_save_weights_load_weights_round_trip(iris, trained, tmp_path):
    x, _ = iris
    model, _ = trained
    save_weights(model, tmp_path / "w.safetensors")
    other = make_model(seed=3)
    other.build((4,))
    assert not np.array_equal(other.predict(x), model.predict(x))
    load_weights(other, tmp_path / "w.safetensors")
    np.testing.assert_array_equal(other.predict(x), model.predict(x))
    # A plain safetensors file any tool can read.
    assert_same_state(
        safetensors.numpy.load_file(str(tmp_path / "w.safetensors")), dict(model.state_dict())
    )


def test_load_weights_into_a_different_model_names_every_mismatch(trained, tmp_path):
    model, _ = trained
    save_weights(model, tmp_path / "w.safetensors")
    other = make_model(units=8)
    other.build((4,))
    before = other.state_dict()
    with pytest.raises(ValueError) as info:
        load_weights(other, tmp_path / "w.safetensors")
    message = str(info.value)
    assert "w.safetensors" in message
    assert "size mismatch for 0.weight: copying a param with shape (16, 4)" in message
    assert "the shape in current model is (8, 4)" in message
    for key in ("0.bias", "1.gamma", "1.beta", "1.moving_mean", "1.moving_variance", "3.weight"):
        assert f"size mismatch for {key}" in message
    assert_same_state(other.state_dict(), before)  # nothing changed


def test_load_weights_missing_and_unexpected_keys(trained, tmp_path):
    model, _ = trained
    state = dict(model.state_dict())
    state.pop("3.bias")
    state["4.weight"] = np.zeros(2, np.float32)
    safetensors.numpy.save_file(state, str(tmp_path / "w.safetensors"))
    with pytest.raises(ValueError, match='Missing key.*"3.bias"(.|\n)*Unexpected key.*"4.weight"'):
        load_weights(model, tmp_path / "w.safetensors")


def test_load_weights_into_an_unbuilt_model_says_build_first(trained, tmp_path):
    model, _ = trained
    save_weights(model, tmp_path / "w.safetensors")
    with pytest.raises(ValueError, match=r"not built yet: call model.build\(input_shape\)"):
        load_weights(make_model(), tmp_path / "w.safetensors")


def test_load_weights_rejects_model_files_and_bad_safetensors(trained, tmp_path):
    model, path = trained
    with pytest.raises(CorruptFileError, match="whole-model file.*use nnlab.io.load_model"):
        load_weights(model, path)
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x01\x02")
    with pytest.raises(CorruptFileError, match="fewer than the 8-byte header length"):
        load_weights(model, bad)
    save_weights(model, bad)
    bad.write_bytes(bad.read_bytes()[:-10])
    with pytest.raises(CorruptFileError, match="bad.safetensors: tensor data ends at byte"):
        load_weights(model, bad)


# ---- atomic writes --------------------------------------------------------------------------


def test_failed_fsync_leaves_the_previous_file_intact(iris, trained, tmp_path, monkeypatch):
    x, y = iris
    model, _ = trained
    path = tmp_path / "model.nnlab"
    save_model(model, path)
    before = path.read_bytes()
    changed = load_model(path)
    changed.fit(x, y, epochs=1, verbose=0)

    def broken_fsync(fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        save_model(changed, path)
    with pytest.raises(OSError, match="disk full"):
        save_weights(changed, tmp_path / "w.safetensors")
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.nnlab"]  # no temp files, no partial weights file
    np.testing.assert_array_equal(load_model(path).predict(x), model.predict(x))


def test_write_failing_midway_leaves_the_previous_file_intact(trained, tmp_path, monkeypatch):
    model, _ = trained
    path = tmp_path / "model.nnlab"
    save_model(model, path)
    before = path.read_bytes()
    calls = []
    real_writestr = zipfile.ZipFile.writestr

    def failing_writestr(self, info, data, *args, **kwargs):
        calls.append(info)
        if len(calls) == 3:
            raise KeyboardInterrupt  # even an interrupt must clean up
        return real_writestr(self, info, data, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", failing_writestr)
    with pytest.raises(KeyboardInterrupt):
        save_model(model, path)
    monkeypatch.undo()
    assert len(calls) == 3
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.nnlab"]
    load_model(path)


# ---- damaged, foreign and crafted files -----------------------------------------------------


def members_of(path) -> dict:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def write_zip(path, members: dict, compress=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compress) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def with_member(trained_path, tmp_path, name, data):
    members = members_of(trained_path)
    if data is None:
        members.pop(name)
    else:
        members[name] = data
    out = tmp_path / "crafted.nnlab"
    write_zip(out, members)
    return out


def edit_config(trained_path, tmp_path, edit):
    config = json.loads(members_of(trained_path)["config.json"])
    edit(config)
    return with_member(trained_path, tmp_path, "config.json", json.dumps(config).encode())


def safetensors_blob(header: dict, data: bytes) -> bytes:
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


def test_empty_file(tmp_path):
    (tmp_path / "e.nnlab").write_bytes(b"")
    with pytest.raises(CorruptFileError, match="e.nnlab: empty file, not an nnlab model file"):
        load_model(tmp_path / "e.nnlab")


def test_random_bytes(tmp_path):
    (tmp_path / "r.nnlab").write_bytes(np.random.default_rng(0).bytes(1000))
    with pytest.raises(CorruptFileError, match=r"r.nnlab: not an nnlab model file \(bad magic"):
        load_model(tmp_path / "r.nnlab")


def test_truncated_archive(trained, tmp_path):
    _, path = trained
    data = path.read_bytes()
    for cut in (len(data) // 2, len(data) - 10, 30):
        (tmp_path / "t.nnlab").write_bytes(data[:cut])
        with pytest.raises(CorruptFileError, match="zip archive is truncated or damaged"):
            load_model(tmp_path / "t.nnlab")


def test_flipped_byte_fails_the_crc(trained, tmp_path):
    _, path = trained
    data = bytearray(path.read_bytes())
    data[data.index(b'"format"') + 3] ^= 0x01  # inside config.json, stored uncompressed
    (tmp_path / "f.nnlab").write_bytes(bytes(data))
    with pytest.raises(CorruptFileError, match="member config.json is damaged.*CRC"):
        load_model(tmp_path / "f.nnlab")


@pytest.mark.parametrize("name", ["config.json", "model.safetensors", "rng.json"])
def test_missing_member(trained, tmp_path, name):
    path = with_member(trained[1], tmp_path, name, None)
    with pytest.raises(CorruptFileError, match=rf"missing member\(s\) \['{name}'\]"):
        load_model(path)


def test_missing_optimizer_member(trained, tmp_path):
    path = with_member(trained[1], tmp_path, "optimizer.safetensors", None)
    with pytest.raises(CorruptFileError, match="missing member optimizer.json or optimizer.safe"):
        load_model(path)
    assert load_model(path, compile=False).optimizer is None


@pytest.mark.parametrize(
    "data,problem",
    [
        (b"{not json", "is not valid JSON"),
        (b"\xff\xfe", "is not valid JSON"),
        (b"[1, 2]", "must hold a JSON object, got list"),
        (b'{"format": 1, "format": 2}', r"duplicate keys \['format'\]"),
        (b"[" * 100_000 + b"]" * 100_000, "is not valid JSON"),
    ],
)
def test_config_that_is_not_a_json_object(trained, tmp_path, data, problem):
    path = with_member(trained[1], tmp_path, "config.json", data)
    with pytest.raises(CorruptFileError, match=f"crafted.nnlab: config.json .*{problem}"):
        load_model(path)


@pytest.mark.parametrize(
    "version,problem",
    [
        (2, r"unsupported format version 2 \(this nnlab reads version 1; .*newer nnlab"),
        (0, r"unsupported format version 0 \(this nnlab reads version 1\)"),
        ("1", r"unsupported format version '1'"),
        (None, "unsupported format version None"),
    ],
)
def test_unknown_format_version(trained, tmp_path, version, problem):
    path = edit_config(trained[1], tmp_path, lambda c: c.update(format_version=version))
    with pytest.raises(CorruptFileError, match=problem):
        load_model(path)


def test_wrong_format_name(trained, tmp_path):
    path = edit_config(trained[1], tmp_path, lambda c: c.update(format="keras"))
    with pytest.raises(CorruptFileError, match="has format 'keras', expected 'nnlab.model'"):
        load_model(path)


@pytest.mark.parametrize("name", ["os.system", "builtins.eval", "subprocess.Popen", "Popen"])
def test_unregistered_model_class_is_never_imported(trained, tmp_path, name):
    path = edit_config(trained[1], tmp_path, lambda c: c.update(class_name=name))
    with pytest.raises(CorruptFileError, match=f"unknown layer class '{name}' in config"):
        load_model(path)


def test_unregistered_layer_class_inside_the_model_config(trained, tmp_path):
    def edit(config):
        config["config"]["layers"][1]["class_name"] = "builtins.eval"

    path = edit_config(trained[1], tmp_path, edit)
    with pytest.raises(
        CorruptFileError, match="cannot rebuild training.Sequential.*unknown layer class 'built"
    ):
        load_model(path)


def test_registered_class_that_is_not_a_model(trained, tmp_path):
    path = edit_config(trained[1], tmp_path, lambda c: c.update(class_name="layers.Dense"))
    with pytest.raises(CorruptFileError, match="names 'layers.Dense', which is not a Model"):
        load_model(path)


def test_bad_layer_arguments(trained, tmp_path):
    def edit(config):
        config["config"]["layers"][0]["config"]["units"] = -3

    path = edit_config(trained[1], tmp_path, edit)
    with pytest.raises(CorruptFileError, match="Dense units must be a positive integer, got -3"):
        load_model(path)


@pytest.mark.parametrize(
    "build,problem",
    [
        ({"shape": [1, 10**9, 10**9], "dtype": "float32"}, "has more than 67108864 elements"),
        ({"shape": [1, 4], "dtype": "object"}, "build_input must be"),
        ({"shape": [1, -4], "dtype": "float32"}, "build_input must be"),
    ],
)
def test_bad_build_input(trained, tmp_path, build, problem):
    path = edit_config(trained[1], tmp_path, lambda c: c.update(build_input=build))
    with pytest.raises(CorruptFileError, match=problem):
        load_model(path)


def test_unknown_optimizer_loss_and_metric_classes(trained, tmp_path):
    cases = [
        (lambda c: c["compile"]["optimizer"].update(class_name="os.system"), "unknown optimizer"),
        (lambda c: c["compile"]["optimizer"]["config"].update(evil=1), "unexpected keyword"),
        (lambda c: c["compile"]["loss"].update(class_name="eval"), "unknown loss class 'eval'"),
        (lambda c: c["compile"]["loss"].update(kind="pickle"), "unknown loss kind 'pickle'"),
        (
            lambda c: c["compile"].update(metrics=[{"class_name": "exec", "config": {}}]),
            "unknown metric class 'exec'",
        ),
    ]
    for edit, problem in cases:
        path = edit_config(trained[1], tmp_path, edit)
        with pytest.raises(CorruptFileError, match=f"config.json compile: .*{problem}"):
            load_model(path)


def test_pickle_payload_is_refused_and_never_run(tmp_path):
    import pickle

    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    (tmp_path / "evil.nnlab").write_bytes(pickle.dumps(Payload()))
    with pytest.raises(CorruptFileError, match="pickle is never loaded. It looks like a pickle"):
        load_model(tmp_path / "evil.nnlab")
    (tmp_path / "evil0.nnlab").write_bytes(pickle.dumps(Payload(), protocol=0))
    with pytest.raises(CorruptFileError, match="looks like a pickle"):
        load_model(tmp_path / "evil0.nnlab")
    assert not marker.exists()


def test_weights_file_given_to_load_model(trained, tmp_path):
    save_weights(trained[0], tmp_path / "w.safetensors")
    with pytest.raises(CorruptFileError, match="weights-only safetensors file: use .*load_weights"):
        load_model(tmp_path / "w.safetensors")


def test_compressed_members_are_refused(trained, tmp_path):
    out = tmp_path / "deflated.nnlab"
    write_zip(out, members_of(trained[1]), compress=zipfile.ZIP_DEFLATED)
    with pytest.raises(CorruptFileError, match="member config.json is compressed"):
        load_model(out)


def test_zip_member_declaring_a_huge_size(trained, tmp_path):
    """The central directory claims 4 GiB for a member: refused before reading anything."""
    data = bytearray(trained[1].read_bytes())
    central = data.index(b"PK\x01\x02")  # first central-directory entry: config.json
    struct.pack_into("<II", data, central + 20, 0xFFFF0000, 0xFFFF0000)  # sizes
    (tmp_path / "huge.nnlab").write_bytes(bytes(data))
    tracemalloc.start()
    try:
        with pytest.raises(CorruptFileError, match="config.json declares 4294901760 bytes"):
            load_model(tmp_path / "huge.nnlab")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50 * 2**20


def test_zip_member_running_past_the_end(trained, tmp_path):
    data = bytearray(trained[1].read_bytes())
    central = data.index(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 42, len(data) - 10)  # local header offset
    (tmp_path / "past.nnlab").write_bytes(bytes(data))
    with pytest.raises(CorruptFileError, match="config.json runs past the end of the file"):
        load_model(tmp_path / "past.nnlab")


F32_2x2 = {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}


@pytest.mark.parametrize(
    "blob,problem",
    [
        (b"\x00" * 5, "fewer than the 8-byte header length"),
        (struct.pack("<Q", 10**6) + b"{}", "header length 1000000 exceeds the file"),
        (struct.pack("<Q", 2**63) + b"{}", "exceeds the file .* or the 100000000-byte limit"),
        (struct.pack("<Q", 5) + b"{oops", "safetensors header is not valid JSON"),
        (safetensors_blob([], b""), "safetensors header is not a JSON object"),
        (
            safetensors_blob(
                {"w": {"dtype": "F32", "shape": [10**6, 10**6], "data_offsets": [0, 16]}},
                b"\0" * 16,
            ),
            r"tensor 'w' of dtype F32 and shape \[1000000, 1000000\] needs 4000000000000 bytes",
        ),
        (
            safetensors_blob({"w": F32_2x2, "v": {**F32_2x2, "data_offsets": [8, 24]}}, b"\0" * 24),
            r"tensor 'v' has data_offsets \[8, 24\] which overlaps the previous tensor",
        ),
        (
            safetensors_blob(
                {"w": F32_2x2, "v": {**F32_2x2, "data_offsets": [20, 36]}}, b"\0" * 36
            ),
            r"tensor 'v' has data_offsets \[20, 36\] which leaves a gap",
        ),
        (
            safetensors_blob({"w": {**F32_2x2, "data_offsets": [0, 16]}}, b"\0" * 8),
            "tensor data ends at byte 16 but the file holds 8 bytes of data",
        ),
        (
            safetensors_blob({"w": {**F32_2x2, "data_offsets": [16, 0]}}, b"\0" * 16),
            r"data_offsets \[16, 0\] span -16",
        ),
        (
            safetensors_blob({"w": {**F32_2x2, "dtype": "F99"}}, b"\0" * 16),
            "tensor 'w' has unsupported dtype 'F99'",
        ),
        (
            safetensors_blob({"w": {**F32_2x2, "dtype": "object"}}, b"\0" * 16),
            "unsupported dtype 'object'",
        ),
        (
            safetensors_blob({"w": {**F32_2x2, "shape": [2, -2]}}, b"\0" * 16),
            r"tensor 'w' has invalid shape \[2, -2\]",
        ),
        (
            safetensors_blob({"w": {**F32_2x2, "shape": [2.0, 2]}}, b"\0" * 16),
            r"invalid shape \[2.0, 2\]",
        ),
        (
            safetensors_blob({"w": {**F32_2x2, "data_offsets": [0]}}, b"\0" * 16),
            r"invalid data_offsets \[0\]",
        ),
        (
            safetensors_blob({"w": {**F32_2x2, "exec": "x"}}, b"\0" * 16),
            "needs exactly dtype, shape and data_offsets",
        ),
        (
            safetensors_blob({"__metadata__": {"a": 1}, "w": F32_2x2}, b"\0" * 16),
            "__metadata__ must map strings to strings",
        ),
    ],
)
def test_crafted_safetensors_member(trained, tmp_path, blob, problem):
    path = with_member(trained[1], tmp_path, "model.safetensors", blob)
    tracemalloc.start()
    try:
        with pytest.raises(
            CorruptFileError, match=f"crafted.nnlab: model.safetensors: .*{problem}"
        ):
            load_model(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50 * 2**20  # failed before allocating what the header declares
    # load_weights applies the same checks to a bare file.
    (tmp_path / "w.safetensors").write_bytes(blob)
    with pytest.raises(CorruptFileError, match=f"w.safetensors: .*{problem}"):
        load_weights(trained[0], tmp_path / "w.safetensors")


def test_weights_with_a_wrong_shape_or_missing_key(trained, tmp_path):
    model, path = trained
    state = dict(model.state_dict())
    state["0.weight"] = np.zeros((16, 5), np.float32)
    crafted = with_member(path, tmp_path, "model.safetensors", safetensors.numpy.save(state))
    with pytest.raises(
        CorruptFileError,
        match=r"model.safetensors does not match the model rebuilt from config.json(.|\n)*"
        r"size mismatch for 0.weight: copying a param with shape \(16, 5\)",
    ):
        load_model(crafted)
    state = dict(model.state_dict())
    del state["3.bias"]
    crafted = with_member(path, tmp_path, "model.safetensors", safetensors.numpy.save(state))
    with pytest.raises(CorruptFileError, match='Missing key\\(s\\) in state_dict: "3.bias"'):
        load_model(crafted)


def test_optimizer_state_that_does_not_fit(trained, tmp_path):
    model, path = trained
    arrays = safetensors.numpy.load(members_of(path)["optimizer.safetensors"])
    arrays["state.0.exp_avg"] = np.zeros((3, 3), np.float32)
    crafted = with_member(path, tmp_path, "optimizer.safetensors", safetensors.numpy.save(arrays))
    with pytest.raises(
        CorruptFileError, match="optimizer state does not fit.*has shape \\(3, 3\\)"
    ):
        load_model(crafted)
    arrays["state.0.__class__"] = arrays.pop("state.0.exp_avg")
    arrays["state.0; rm"] = np.zeros(1, np.float32)
    crafted = with_member(path, tmp_path, "optimizer.safetensors", safetensors.numpy.save(arrays))
    with pytest.raises(CorruptFileError, match="unexpected optimizer array 'state.0; rm'"):
        load_model(crafted)
    saved = json.loads(members_of(path)["optimizer.json"])
    saved["param_names"][0] = "0.__dict__"
    crafted = with_member(path, tmp_path, "optimizer.json", json.dumps(saved).encode())
    with pytest.raises(CorruptFileError, match="unknown or repeated parameter names"):
        load_model(crafted)


@pytest.mark.parametrize(
    "edit,problem",
    [
        (lambda g: g[0].update(paths=["forward"]), "'forward' is not a Generator attribute"),
        (lambda g: g[0].update(paths=["0.__class__"]), "'0.__class__' is not a Generator attr"),
        (lambda g: g[0].update(paths=["9.rng"]), "has no module for path '9.rng'"),
        (lambda g: g[0].update(paths=["optimizer"]), "'optimizer' is not a Generator attr"),
        (lambda g: g[0].update(paths=[]), "needs a non-empty list of attribute paths"),
        (lambda g: g[0]["state"].update(bit_generator="os"), "invalid generator state"),
        (lambda g: g[0]["state"].update(state={"state": "x"}), "invalid generator state"),
        (lambda g: g[0]["seed_seq"].update(pool_size=10**9), "invalid seed sequence"),
    ],
)
def test_bad_rng_state(trained, tmp_path, edit, problem):
    saved = json.loads(members_of(trained[1])["rng.json"])
    edit(saved["generators"])
    crafted = with_member(trained[1], tmp_path, "rng.json", json.dumps(saved).encode())
    with pytest.raises(CorruptFileError, match=f"rng.json generator 0: .*{problem}"):
        load_model(crafted)


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "nope.nnlab")


def test_zero_dimensional_buffers_round_trip_through_safetensors(tmp_path):
    # BatchNorm's num_batches_tracked is a 0-d array: it came back as shape (1,) and the
    # weights of any PyTorch-style model with batch norm would not load.
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2))
    model(np.ones((4, 1, 5, 5), np.float32))  # one training step of statistics
    path = tmp_path / "bn.safetensors"
    save_weights(model, path)
    fresh = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2))
    load_weights(fresh, path)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(fresh.state_dict()[key], value)
    assert fresh.state_dict()["1.num_batches_tracked"].shape == ()
    keras_style = Sequential([nn.Linear(3, 4), nn.BatchNorm1d(4)], input_shape=(3,))
    keras_style.save(tmp_path / "model.nnlab")
    loaded = nnlab.load(tmp_path / "model.nnlab")
    assert loaded.state_dict()["1.num_batches_tracked"].shape == ()
