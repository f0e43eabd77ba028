"""Screenshots of a rewound window (issue 21): a story trained to its last epoch, then rewound to about a third of
the way in, both pages, light and dark. Run: QT_QPA_PLATFORM=offscreen .venv/bin/python docs/rewind_screenshots.py"""
from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _wait(app, until, timeout=60.0) -> None:
    end = time.monotonic() + timeout
    while not until():
        if time.monotonic() > end:
            raise TimeoutError("the window did not get there in time")
        app.processEvents()
        time.sleep(0.01)


def shoot(app, name: str, theme: str, out: Path) -> None:
    from gui.app.main_window import MainWindow
    w = MainWindow()
    w.resize(1280, 800)
    w.show()
    _wait(app, lambda: w.last_snapshot is not None)
    w.set_theme(theme)
    gen = w.last_snapshot.generation
    w.load_preset(name)
    _wait(app, lambda: w.last_snapshot.generation > gen and not w.model._step_pending)
    for _ in range(w.config.epochs):
        e = w.last_snapshot.epoch
        w.step_epoch()
        _wait(app, lambda: (w.last_snapshot.epoch > e or w.last_snapshot.divergence is not None)
              and not w.model._step_pending)
        if w.last_snapshot.divergence is not None:
            break
    d = w.dashboard
    d.rewind.widget.slider.setValue(max(0, (d.rewind.widget.slider.maximum()) // 3))
    for page, label in ((0, "gradients"), (1, "inside")):
        w.plotPages.setCurrentIndex(page)
        for _ in range(20):
            app.processEvents()
            time.sleep(0.02)
        assert w.save_screenshot(str(out / f"rewound-{name}-{label}-{theme}.png"))
    w.shutdown()
    w.close()


def main() -> None:
    from PySide6.QtWidgets import QApplication
    app = QApplication.instance() or QApplication(sys.argv)
    out = ROOT / "docs" / "rewind"
    out.mkdir(exist_ok=True)
    for name in sys.argv[1:] or ("vanishing-sigmoid", "rnn-vanishing"):
        for theme in ("light", "dark"):
            shoot(app, name, theme, out)


if __name__ == "__main__":
    main()
