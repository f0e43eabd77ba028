"""Many seeds at once: log10 ||dL/dz_l|| per seed through the sweep executors, the band and Hanin & Rolnick's fan."""
import math
import subprocess
import sys
from pathlib import Path

import numpy as np

from core import ExperimentConfig, Trainer
from core.measure.seeds import band, hanin_fan, seed_delta_norms, seeds_csv
from core.sweep.executors import SerialExecutor

ROOT = Path(__file__).resolve().parents[2]
CFG = ExperimentConfig(depth=6, width=16, activation="relu", init="he", samples=200, seed=5)


def test_each_row_is_that_seeds_own_backward_pass():
    logs = seed_delta_norms(CFG, 3, SerialExecutor())
    assert logs.shape == (3, CFG.depth + 1)
    for i in range(3):
        t = Trainer(CFG.replace(seed=5 + i))
        d = t.data
        r = t.network.backward(d.X_train, d.y_train)
        np.testing.assert_allclose(logs[i], np.log10(r.delta_norms), rtol=1e-12)
    assert not np.allclose(logs[0], logs[1])   # the seeds differ


def test_band_quantiles_and_fan():
    logs = np.array([[0.0, 1.0], [1.0, 2.0], [2.0, np.nan], [3.0, 4.0], [4.0, 5.0]])
    lo, med, hi = band(logs)
    assert med[0] == 2.0 and lo[0] == np.quantile([0, 1, 2, 3, 4], 0.1) and hi[0] == np.quantile([0, 1, 2, 3, 4], 0.9)
    assert med[1] == 3.0   # the NaN seed left out
    fan = hanin_fan(CFG, np.zeros(CFG.depth + 1))
    beta1 = CFG.depth / CFG.width
    assert math.isclose(fan[1][0], 1.2815515655446004 * math.sqrt(5 * beta1) / (2 * math.log(10)))
    assert fan[1][-1] == 0.0 and np.all(np.diff(fan[1][:-1]) < 0)   # widest at layer 1, none at the output
    assert hanin_fan(CFG.replace(activation="tanh"), np.zeros(7)) is None
    assert hanin_fan(CFG.replace(residual=True), np.zeros(7)) is None
    text = seeds_csv(np.array([[0.5, np.inf]]), 7)
    assert text == "seed,log10_delta_norm_1,log10_delta_norm_2\n7,0.5,\n"


def test_cli_seeds(tmp_path):
    out = tmp_path / "s.csv"
    r = subprocess.run([sys.executable, str(ROOT / "main.py"), "--headless", "--seeds", "3", "--depth", "4",
                        "--width", "8", "--activation", "relu", "--init", "he", "--samples", "100", "--out", str(out),
                        "--workers", "1"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    assert out.read_text().splitlines()[0].startswith("seed,log10_delta_norm_1")
    assert len(out.read_text().splitlines()) == 4 and "Hanin & Rolnick" in r.stderr
    bad = subprocess.run([sys.executable, str(ROOT / "main.py"), "--headless", "--seeds", "0"],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert bad.returncode == 2 and "seeds must be an integer from 1 to 10000" in bad.stderr
