"""Issue 25: a config file of hundreds of MB under the reader's size cap is refused from its first bytes, before it
is read or parsed (200 MB of numbers took ~100 s to be refused); an experiment of any size is still parsed."""
import codecs
import json

import pytest

import core.cli as cli
import core.io.reader as reader
from core import ConfigError, ExperimentConfig, Trainer
from core.io.reader import HEAD_BYTES, MAX_BYTES
from core.io.records import CONFIG_MAX_BYTES, experiment_json, load_experiment


@pytest.fixture
def no_parse(monkeypatch):
    """Fail the test if the whole file is decoded or parsed; the cap is MAX_BYTES whatever memory is free."""
    def never(*args, **kwargs):
        raise AssertionError("the whole file was decoded or parsed")
    monkeypatch.setattr(reader, "parse", never)
    monkeypatch.setattr(reader, "decode", never)
    monkeypatch.setattr("core.runtime.resources.available_memory", lambda: 64 * MAX_BYTES)


def sparse(tmp_path, head: bytes, size: int, name="big.json"):
    """A file of ``size`` bytes that starts with ``head`` (the rest NUL bytes that use no disk)."""
    path = tmp_path / name
    with open(path, "wb") as fh:
        fh.write(head)
        fh.truncate(size)
    return str(path)


@pytest.mark.parametrize("head", [b'{"depth": 3, "pad": [7,7,7,7,', b'\n  {\n "pad": "xxxx',
                                  codecs.BOM_UTF8 + b'{"lr": 0.1, "pad": [0.125, 0.125,'])
def test_a_200_mb_config_is_refused_from_its_first_bytes(tmp_path, no_parse, head):
    size = 200 * 2**20
    path = sparse(tmp_path, head, size)
    with pytest.raises(ConfigError) as info:
        load_experiment(path, "config")
    assert info.value.field == "config"
    assert f"is {size:,} bytes, too large for a config file" in str(info.value)
    assert f"at most {CONFIG_MAX_BYTES:,} bytes" in str(info.value) and '"format"' in str(info.value)


def test_a_200_mb_list_is_refused_from_its_first_bytes(tmp_path, no_parse):
    path = sparse(tmp_path, b" [7,7,7,", 200 * 2**20)
    with pytest.raises(ConfigError, match="config must be a JSON object of field: value pairs .* got a list"):
        load_experiment(path, "config")


def test_the_command_line_refuses_it_with_one_line(tmp_path, no_parse, capsys):
    path = sparse(tmp_path, b'{"depth": 3, "pad": [7,', 200 * 2**20)
    assert cli.main(["--headless", "--config", path]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "too large for a config file" in err[0]


def test_a_real_padded_config_is_refused_and_a_small_one_still_reads(tmp_path):
    pad = ",".join(["7"] * (CONFIG_MAX_BYTES // 2))
    big = tmp_path / "big.json"
    big.write_text('{"depth": 3, "pad": [' + pad + "]}")
    with pytest.raises(ConfigError, match="too large for a config file"):
        load_experiment(str(big), "config")
    small = tmp_path / "small.json"   # the same content under the limit: refused by what it says, as before
    small.write_text('{"depth": 3, "pad": [7, 7]}')
    with pytest.raises(ConfigError, match="unknown config field 'pad'"):
        load_experiment(str(small), "config")


@pytest.mark.parametrize("reorder", [False, True])
def test_an_experiment_larger_than_the_config_limit_still_reads(tmp_path, reorder):
    """An experiment may be large (its history grows with its epochs): over the limit it is parsed as before,
    whether it opens with "format" (as this program writes it) or with another of its keys."""
    config = ExperimentConfig(depth=2, width=4, samples=40, epochs=2)
    t = Trainer(config)
    t.run()
    doc = json.loads(experiment_json(config, t.history))
    if reorder:
        doc = {"config": doc.pop("config"), **doc}
    text = json.dumps(doc, indent=1)
    text = text[:2] + " " * (CONFIG_MAX_BYTES + HEAD_BYTES) + text[2:]   # white space is JSON: no other change
    path = tmp_path / "experiment.json"
    path.write_bytes(codecs.BOM_UTF8 + text.encode())
    loaded, history = load_experiment(str(path))
    assert loaded == config and history is not None
    assert history.scalar("train_loss").tolist() == t.history.scalar("train_loss").tolist()
