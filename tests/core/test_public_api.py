"""The public Python API is ``from core import NAME``: README's "From Python" shows it that way and runs."""
import ast
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import core
from core.config import MODELS

ROOT = Path(__file__).resolve().parents[2]


def _from_python_blocks() -> list:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## From Python"):]
    section = section[:section.index("\n## ", 1)]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def _core_imports(code: str) -> list:
    """(module, name) of every ``from core... import name`` in ``code``."""
    return [(n.module, a.name) for n in ast.walk(ast.parse(code))
            if isinstance(n, ast.ImportFrom) and n.module and n.module.split(".")[0] == "core" for a in n.names]


def test_readme_imports_every_name_it_uses_from_core_itself():
    imports = [pair for block in _from_python_blocks() for pair in _core_imports(block)]
    names = {name for _, name in imports}
    assert {"ExperimentConfig", "Trainer", "chi1", "phase", "PRESETS", "Comparison", "make_plan", "run_sweep"} <= names
    assert [m for m, _ in imports if m != "core"] == [], "README's From Python imports from core's sub-modules"
    missing = sorted(n for n in names if n not in core.__all__)
    assert not missing, f"used in README but not in core.__all__: {missing}"


def test_names_the_readme_mentions_in_its_list_are_public():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## From Python"):text.index("## Performance")]
    for name in ("load_csv", "chain_rule", "measure_cell", "SerialExecutor", "LocalExecutor", "DaskExecutor",
                 "save_experiment", "load_experiment", "MLP", "ConfigError", "configure_process"):
        assert f"`{name}" in section and name in core.__all__, name


def test_every_public_name_resolves_and_is_listed_by_dir():
    import core.sweep
    for name in core.__all__:
        assert getattr(core, name) is not None, name
    assert set(core.__all__) <= set(dir(core))
    assert core.measure_cell is core.sweep.measure
    with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
        core.not_a_name  # noqa: B018


def test_the_readme_examples_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)   # the sweep example writes depth.csv
    for block in _from_python_blocks():
        exec(compile(block, "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "ordered: gradients vanish" in out and "B relu" in out
    assert (tmp_path / "depth.csv").read_text().count("\n") == 4   # a header and three cells


def test_import_core_loads_neither_numpy_nor_qt():
    code = ("import sys, core; bad = [m for m in sys.modules if m.split('.')[0] in "
            "('numpy', 'PySide6', 'pyqtgraph', 'shiboken6')]; assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)


@pytest.mark.parametrize("kind", list(MODELS))
def test_model_objects_keep_params_layer_params_backward_and_loss_and_grads(kind):
    t = core.Trainer(core.ExperimentConfig(model=kind, dataset="adding", seq_len=5, depth=2, width=8, samples=64))
    net, X, y = t.network, t.data.X_train[:16], t.data.y_train[:16]
    assert len(net.params) == net.n_layers == 3 and all(isinstance(p, tuple) for p in net.params)
    assert all(np.shares_memory(a, b) for a, b in zip(net.layer_params(0), net.params[0]))
    loss, grads = net.loss_and_grads(X, y)
    assert [[g.shape for g in layer] for layer in grads] == [[p.shape for p in layer] for layer in net.params]
    assert loss == pytest.approx(net.loss(X, y), rel=1e-12)
    r = net.backward(X, y)
    assert r.loss == pytest.approx(loss, rel=1e-12) and len(r.delta_norms) == net.n_layers
    for mine, theirs in zip(r.grads, grads):   # the same gradients, however the flat vector is laid out
        for a, b in zip(mine, theirs):
            np.testing.assert_allclose(a, b, rtol=1e-12)
