"""Start the window: ``python main.py [--preset NAME] [config flags]`` (or ``make run``).

The window takes the same flags as the command line (``--config``, ``--preset``, ``--depth`` ...);
bad ones exit with status 2 and one line on stderr, before any window opens. Without any,
it reopens the last session's config. ``--screenshot FILE.png`` trains for ``--epochs`` in the
window, saves a PNG of it and exits (works with QT_QPA_PLATFORM=offscreen); ``--record FILE.gif``
does the same, saving an animation (gui/recorder.py).
"""
from __future__ import annotations

import os
import sys

from core import ConfigError
from core.cli import EXIT_BAD_INPUT, UsageError, build_parser, check_writable, config_from_args, parse_compare

ORGANISATION, APPLICATION = "gradient-flow", "simulator"
THEMES = ("system", "light", "dark")   # gui.theme.THEMES, without importing Qt before the arguments are checked


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = build_parser().parse_args(argv)
        config = config_from_args(args)
        compare = parse_compare(args.compare, config) if args.compare else None
        if args.screenshot:
            check_writable("screenshot", args.screenshot)
            if not args.screenshot.lower().endswith(".png"):
                raise UsageError(f"screenshot: the file name must end in .png, got {args.screenshot!r}")
        check_record_args(args)
        if args.theme is not None and args.theme not in THEMES:
            raise UsageError(f"theme: must be one of {', '.join(THEMES)}, got {args.theme!r}")
    except (UsageError, ConfigError) as e:
        print(f"main.py: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT

    if not (os.environ.get("QT_QPA_PLATFORM") or os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        if not (args.screenshot or args.record):
            print("main.py: error: no display to open the window on (DISPLAY is not set); use --headless, "
                  "or QT_QPA_PLATFORM=offscreen with --screenshot", file=sys.stderr)
            return EXIT_BAD_INPUT
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # a screenshot needs no screen

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from .main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Gradient-flow simulator")
    app.setOrganizationName(ORGANISATION)
    if args.screenshot or args.record:
        window = MainWindow(config)
        prepare(window, args, compare)
        window.resize(1280, 800)
        window.show()
        if args.record:
            from .recorder import record_window
            return record_window(app, window, args.record, config.epochs, args.record_plot, args.record_every)
        return take_screenshot(app, window, args.screenshot, config.epochs)

    settings = None if os.environ.get("GRADFLOW_SETTINGS_OFF") else QSettings(ORGANISATION, APPLICATION)
    given = any(a.startswith("--") and a not in ("--quiet",) for a in argv)
    if not given and settings is not None:  # no flags: carry on where the last session left off
        config = MainWindow.config_from_settings(settings) or config
    window = MainWindow(config, settings)
    prepare(window, args, compare)
    window.show()
    app.aboutToQuit.connect(window.shutdown)  # however the app ends, the trainer's thread is joined
    return app.exec()


def check_record_args(args) -> None:
    if args.data:  # the window's trainer is built from the config alone so far
        raise UsageError("data: the window cannot train on a data file yet; use --headless --data FILE.csv")
    if not args.record:
        if args.record_every is not None or args.record_plot:
            raise UsageError("record_every and record_plot need --record FILE.gif")
        return
    from .recorder import check_target
    check_writable("record", args.record)
    problem = check_target(args.record, args.record_plot, args.record_every)
    if problem:
        raise UsageError(problem)


def prepare(window, args, compare) -> None:
    """What the command line asks of the window beyond its config."""
    if args.preset:
        window.show_lesson(args.preset)
    if args.theory:
        window.theoryCheck.setChecked(True)
    if args.theme:
        window.set_theme(args.theme)
    if compare is not None:
        window.start_compare(*compare)


def take_screenshot(app, window, path: str, epochs: int) -> int:
    """Train to ``epochs`` in the window, draw, save the whole window as PNG, and close."""
    from PySide6.QtCore import QTimer

    status = {"code": 0}

    def start():
        window.toggle_run() if window.state == "ready" else QTimer.singleShot(50, start)

    def poll():
        snap = window.last_snapshot
        finished = snap is not None and snap.kind in ("done", "diverged") and len(window.history) >= min(
            epochs, snap.epoch)
        if window.state in ("done", "diverged") and finished:
            QTimer.singleShot(300, shoot)  # let the last frame paint
        else:
            QTimer.singleShot(50, poll)

    def shoot():
        if not window.save_screenshot(path):
            print(f"main.py: error: {window.messageLabel.text()}", file=sys.stderr)
            status["code"] = 1
        window.close()
        app.quit()

    QTimer.singleShot(100, start)
    QTimer.singleShot(200, poll)
    app.exec()
    return status["code"]
