"""The README's PyTorch-style example runs as written and trains."""

import pathlib
import re

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_readme_pytorch_style_loop_runs():
    text = README.read_text()
    code = re.search(r"PyTorch style.*?```python\n(.*?)```", text, re.S).group(1)
    namespace: dict = {}
    exec(compile(code, str(README), "exec"), namespace)  # the documented snippet itself
    model, x, y = namespace["model"], namespace["x"], namespace["y"]
    assert float(namespace["F"].cross_entropy(model(x), y)) < 0.2  # chance level is ~ln 3
    assert (model(x).argmax(1) == y).mean() > 0.95
    assert namespace["schedule"].last_epoch == 20 * len(namespace["batches"])
