"""Start the window: ``python main.py`` (or ``make run``)."""
from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from PySide6.QtWidgets import QApplication

    from .main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Gradient-flow simulator")
    window = MainWindow()
    window.show()
    return app.exec()
