"""The Jacobian tab with the free-probability density (issue 23), offscreen, for docs/screenshots.sh:

    python docs/jacobian_screenshot.py ACTIVATION INIT THEME OUT.png
"""
import sys
import time

from PySide6.QtWidgets import QApplication


def main(activation: str, init: str, theme: str, out: str) -> int:
    app = QApplication([])
    from core import ExperimentConfig
    from gui.app.main_window import MainWindow

    def settle(until=lambda: True, seconds: float = 20.0) -> None:
        end = time.time() + seconds
        while not until() and time.time() < end:
            app.processEvents()
            time.sleep(0.02)

    w = MainWindow()
    w.resize(1500, 950)
    w.show()
    settle(lambda: w.last_snapshot is not None)
    w.set_theme(theme)
    gen = w.last_snapshot.generation
    w.set_config(ExperimentConfig(depth=9, width=64, activation=activation, init=init, samples=256))
    settle(lambda: w.last_snapshot.generation > gen)
    panel, tabs = w.dashboard.jacobian, w.dashboard.lessonTabs
    tabs.setCurrentIndex(tabs.indexOf(panel.widget))
    settle(seconds=0.4)
    w.dashboard.draw_shown()
    settle(seconds=0.4)
    ok = w.save_screenshot(out)
    w.shutdown()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
