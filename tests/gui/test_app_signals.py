"""Ctrl+C and SIGTERM close the real window as its Close button does: settings saved, trainer stopped."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _catches(pid: int, signum: int) -> bool:
    """Has process ``pid`` installed a handler for ``signum`` (its SigCgt mask in /proc)?"""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    mask = next(int(line.split()[1], 16) for line in status.splitlines() if line.startswith("SigCgt:"))
    return bool(mask >> (signum - 1) & 1)


def start(args, tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "HOME": str(tmp_path)}
    env.pop("GRADFLOW_SETTINGS_OFF", None)
    proc = subprocess.Popen([sys.executable, "main.py", *args], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not _catches(proc.pid, signal.SIGTERM):  # Python's default only catches SIGINT
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    time.sleep(1.0)  # let the window come up and go idle (a signal before it exists is handled too)
    return proc


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads handler masks from /proc")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_closes_the_idle_window_saving_settings(tmp_path, signum):
    proc = start(["--depth", "7", "--width", "9"], tmp_path)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signum, err  # not killed by the signal, not aborted by a running QThread
    assert "Traceback" not in err
    saved = list((tmp_path / "config").rglob("*.conf"))
    assert len(saved) == 1, saved
    text = saved[0].read_text()
    assert '\\"depth\\": 7' in text and '\\"width\\": 9' in text and "geometry" in text


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads handler masks from /proc")
def test_sigterm_during_a_screenshot_run_writes_no_file(tmp_path):
    shot = tmp_path / "shots" / "window.png"
    shot.parent.mkdir()
    proc = start(["--depth", "2", "--width", "8", "--samples", "2000", "--epochs", "1000000", "--screenshot",
                  str(shot)], tmp_path)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM and "Traceback" not in err
    assert os.listdir(shot.parent) == []
