import subprocess
import sys

import pytest

from core import ConfigError, ExperimentConfig


def test_defaults_round_trip():
    cfg = ExperimentConfig()
    assert ExperimentConfig.from_dict(cfg.to_dict()) == cfg
    assert ExperimentConfig.from_dict({}) == cfg


@pytest.mark.parametrize("field,value,expected", [
    ("depth", 0, "depth must be an integer from 1 to 300, got 0"),
    ("depth", 301, "depth must be an integer from 1 to 300"),
    ("depth", 2.5, "got 2.5"),
    ("depth", True, "depth must be an integer"),
    ("width", 2000, "width must be an integer from 1 to 1024"),
    ("activation", "swish2", "activation must be one of sigmoid, tanh, relu"),
    ("init", "kaiming", "init must be one of normal, uniform, xavier, he"),
    ("init_gain", 0, "init_gain must be a number greater than 0"),
    ("lr", float("nan"), "lr must be a number greater than 0"),
    ("lr", float("inf"), "lr must be"),
    ("lr", "0.1", "lr must be a number"),
    ("clip_norm", -1.0, "clip_norm must be null (no clipping) or a number greater than 0"),
    ("residual", "yes", "residual must be true or false"),
    ("dataset", "mnist", "dataset must be one of xor, circles"),
    ("dtype", "float8", "dtype must be one of float64, float32, float16, bfloat16"),
    ("seed", -1, "seed must be an integer from 0"),
    ("batch_size", 0, "batch_size must be an integer from 1"),
])
def test_bad_values_name_the_field_the_value_and_what_is_allowed(field, value, expected):
    with pytest.raises(ConfigError, match=None) as info:
        ExperimentConfig.from_dict({field: value})
    assert expected in str(info.value)
    assert info.value.field == field
    assert isinstance(info.value, ValueError)


def test_unknown_keys_are_rejected_by_name():
    with pytest.raises(ConfigError, match="unknown config field 'detph'"):
        ExperimentConfig.from_dict({"detph": 3})


def test_integral_floats_are_accepted_as_integers():
    assert ExperimentConfig.from_dict({"depth": 4.0}).depth == 4


def test_core_imports_no_qt():
    code = "import sys, core, core.cli, core.training.session; bad = [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph', 'PyQt'))]; assert not bad, bad"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_long_bad_value_is_quoted_cut_to_200_characters():
    with pytest.raises(ConfigError) as info:
        ExperimentConfig.from_dict({"activation": "x" * 5000})
    text = str(info.value)
    assert text.startswith("activation must be one of sigmoid") and "(5002 characters)" in text
    assert len(text) < 500


def test_field_specs_are_frozen_dataclasses_with_editor_hints():
    from dataclasses import FrozenInstanceError

    from core.config import FIELD_SPECS, FieldSpec, _choice, _int
    assert set(FIELD_SPECS) == {f for f in ExperimentConfig.__dataclass_fields__}
    assert all(isinstance(s, FieldSpec) and s.tip and s.label for s in FIELD_SPECS.values())
    with pytest.raises(FrozenInstanceError):
        FIELD_SPECS["depth"].hi = 5
    assert _int(1, 3).check("n", 2) == 2 and _choice({"a": "A", "b": "B"}).labels == ("A", "B")
    with pytest.raises(ConfigError, match="n must be an integer from 1 to 3, got 4"):
        _int(1, 3).check("n", 4)
