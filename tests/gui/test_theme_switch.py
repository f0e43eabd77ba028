"""Switching the theme in a live window (View > Theme) must not crash it: QApplication.setStyle re-polishes every
widget and crashed in QWidget::testAttribute_helper in 5 of 10 first switches after this session's merges; the
style is now set once (gui/app/theme.py). Run in a child process: a crash there fails the test, not the run."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SWITCH = """
import time
from PySide6.QtWidgets import QApplication
app = QApplication([])
from gui.app.main_window import MainWindow

def settle(until=lambda: True, seconds=20.0):
    end = time.time() + seconds
    while not until() and time.time() < end:
        app.processEvents()
        time.sleep(0.02)

w = MainWindow()
w.resize(1500, 950)
w.show()
settle(lambda: w.last_snapshot is not None)
for i in range(6):
    w.set_theme("dark" if i % 2 == 0 else "light")
    settle(seconds=0.05)
print("switched", flush=True)
w.shutdown()
"""


def test_switching_the_theme_of_a_live_window_six_times_does_not_crash():
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run([sys.executable, "-c", SWITCH], capture_output=True, text=True, timeout=120, cwd=ROOT,
                          env=env)
    assert proc.returncode == 0 and proc.stdout == "switched\n", (proc.returncode, proc.stderr[-2000:])
