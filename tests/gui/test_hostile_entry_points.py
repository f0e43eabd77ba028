"""Issue 25: the phase diagram's module entry and the screenshot's full disk, as a user runs them."""
import os
import subprocess
import sys

import pytest

from core import ExperimentConfig
from core.sweep import SerialExecutor, make_plan, run_sweep
from tests.mounts import small_disk  # noqa: F401 - a fixture

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODULE = [sys.executable, "-m", "gui.phase_diagram"]


def run(args, timeout=120):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", GRADFLOW_SETTINGS_OFF="1")
    p = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, "\n".join(l for l in p.stderr.splitlines() if "propagateSizeHints" not in l)


@pytest.fixture(scope="module")
def sweep_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("pd") / "sweep.csv"
    plan = make_plan(ExperimentConfig(depth=2, width=4, samples=40, epochs=1), ["depth=1,2", "init_gain=1,2"])
    run_sweep(plan, str(path), SerialExecutor(), quiet=True)
    return path


def test_the_phase_diagram_module_draws_a_sweep(sweep_csv, tmp_path):
    code, out, err = run(MODULE + [str(sweep_csv), str(tmp_path / "pd.png"), "grad_gain"])
    assert code == 0 and err == "" and (tmp_path / "pd.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("args,expected", [
    ([], "expected 2 or 3 arguments, got 0"),
    (["{csv}"], "expected 2 or 3 arguments, got 1"),
    (["{csv}", "{tmp}/o.png", "nope"], "metric must be one of train_loss"),
    (["{tmp}/missing.csv", "{tmp}/o.png"], "cannot be read"),
    (["/dev/zero", "{tmp}/o.png"], "is not a regular file"),
    (["{cut}", "{tmp}/o.png"], "has no complete rows"),
    (["{csv}", "/proc/o.png"], "cannot write '/proc/o.png'"),
])
def test_the_phase_diagram_module_refuses_bad_usage_in_one_line(sweep_csv, tmp_path, args, expected):
    cut = tmp_path / "cut.csv"
    header, first = sweep_csv.read_text().split("\n")[:2]
    cut.write_text(header + "\n" + first[:15] + "\n")
    argv = [a.format(csv=sweep_csv, tmp=tmp_path, cut=cut) for a in args]
    code, out, err = run(MODULE + argv)
    assert code == 2 and err.startswith("python -m gui.phase_diagram: error: ") and expected in err, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err and not (tmp_path / "o.png").exists()


def test_a_screenshot_on_a_full_disk_is_one_line_of_ours_not_libpngs(small_disk):  # noqa: F811
    code, out, err = run([sys.executable, "main.py", "--depth", "2", "--width", "8", "--epochs", "1",
                          "--screenshot", str(small_disk / "shot.png")])
    assert code == 1 and "libpng" not in err
    assert err.strip() == f"main.py: error: Could not write {small_disk / 'shot.png'}: No space left on device"
    assert os.listdir(small_disk) == []
