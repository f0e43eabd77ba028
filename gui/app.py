"""Start the window: ``python main.py [--preset NAME] [config flags]`` (or ``make run``).

The window takes the same flags as the command line (``--config``, ``--preset``, ``--depth`` ...);
bad ones exit with status 2 and one line on stderr, before any window opens.
"""
from __future__ import annotations

import sys

from core import ConfigError
from core.cli import EXIT_BAD_INPUT, UsageError, build_parser, config_from_args


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = build_parser().parse_args(argv)
        config = config_from_args(args)
    except (UsageError, ConfigError) as e:
        print(f"main.py: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT

    from PySide6.QtWidgets import QApplication

    from .main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Gradient-flow simulator")
    window = MainWindow(config)
    if args.preset:
        window.show_lesson(args.preset)
    window.show()
    return app.exec()
