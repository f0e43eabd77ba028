"""Issue 23's remaining gallery rows on a reduced size: the sequence-length study (rnn, lstm, gru on recall, memory
half-life against Pascanu's bound), he-2015's "He trains, Xavier stalls", schoenholz-2017's trainable depth."""
import math

import numpy as np
import pytest

from core import ExperimentConfig
from core.measure.theory import depth_scale
from core.stories.reproductions import REPRODUCTIONS, sequence_length as sl, signals, spectra


def test_registry_rows():
    assert len(REPRODUCTIONS["he-2015"].checks) == 4
    assert len(REPRODUCTIONS["schoenholz-2017"].checks) == 3
    rep = REPRODUCTIONS["sequence-length"]
    assert len(rep.checks) == 6 and "scaled down" in rep.setup
    ExperimentConfig.from_dict(dict(rep.story))


def test_half_life_of_known_chains():
    t = np.arange(30, dtype=float)
    assert sl.half_life(0.5 ** (29 - t)) == pytest.approx(1.0, rel=1e-12)     # halves every step back
    assert sl.half_life(0.9 ** (29 - t)) == pytest.approx(math.log(2) / -math.log(0.9), rel=1e-12)
    assert sl.half_life(np.ones(30)) == math.inf                             # does not shrink
    assert math.isnan(sl.half_life(np.r_[0.0, np.ones(29)]))                 # zero: no log


def test_sequence_length_small_rnn_fails_where_gated_learn():
    rnn_short, rnn_long, lstm_long, gru_long, rnn_ratio, lstm_ratio = sl.sequence_length("small")
    assert rnn_short == 1.0 and rnn_long == 0.0          # T = 5 learnt, T = 20 not
    assert lstm_long == 1.0 and gru_long == 1.0          # the gated cells still learn at T = 20
    assert 0 < rnn_ratio <= 1.0                           # the RNN's half-life is within Pascanu's bound
    assert lstm_ratio > 1.0                               # the LSTM's memory outlasts it


def test_study_table_quotes_the_study():
    s = sl.Study((5, 20), 1, {m: (1.0, 0.0) for m in sl.MODELS}, {}, {m: 2.0 for m in sl.MODELS}, 0.5)
    lines = sl.table_lines(s)
    assert lines[0].startswith("| model | T = 5 | T = 20 |")
    assert "| rnn | 1.00 | 0.00 | 2 |" in lines
    assert s.bound_half_life == pytest.approx(1.0)
    assert sl.Study((5,), 1, {}, {}, {}, 1.2).bound_half_life == math.inf


def test_he_trains_xavier_stalls_small():
    he, xavier = signals.he_training("small")
    assert he < 0.5 and 0.95 <= xavier <= 1.05


def test_trainable_depth_small():
    assert 6 * depth_scale("tanh", spectra.TRAINABLE_SIGMA_W2, 0.05) == pytest.approx(13.77, abs=0.01)
    shallow, deep = spectra.trainable_depth("small")
    assert shallow < 0.5 and 0.95 <= deep <= 1.05
