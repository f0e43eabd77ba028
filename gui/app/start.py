"""Start the window: ``python main.py [--preset NAME] [config flags]`` (or ``make run``).

The window takes the same flags as the command line (``--config``, ``--preset``, ``--depth`` ...);
bad ones exit with status 2 and one line on stderr, before any window opens. Without any,
it reopens the last session's config. ``--screenshot FILE.png`` trains in the window (a ``--preset`` story
to its lesson point, in the story's view; else for ``--epochs``), saves a PNG of it and exits (works with
QT_QPA_PLATFORM=offscreen); ``--record FILE.gif``
does the same, saving an animation (gui/files/recorder.py). Ctrl+C and SIGTERM close the window as its
Close button does (settings saved, trainer stopped); the exit status is then 128 + the signal's number.
"""
from __future__ import annotations

import os
import signal
import sys

from core import ConfigError
from core.io.fileio import shorten
from core.io.export_size import PLOT_SCALE, WINDOW_SCALE, export_scale
from core.io.formats import PLOT_SCREENSHOT, SCREENSHOT, FormatError
from core.cli import (EXIT_BAD_INPUT, UsageError, build_parser, check_flags, check_writable, config_from_args,
                      error_line, parse_compare)
from core.runtime.runner_process import MODES as TRAINERS, env_mode

from gui.panels import views
from gui.panels.views import NAMES   # Qt-free

ORGANISATION, APPLICATION = "gradient-flow", "simulator"
THEMES = ("system", "light", "dark")   # gui.app.theme.THEMES, without importing Qt before the arguments are checked
PAGES = ("gradients", "inside")        # the dashboard's pages of plots, in order


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        args, config, compare = checked_args(argv)
    except (UsageError, ConfigError, FormatError) as e:
        print(f"main.py: error: {error_line(str(e))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    closer = CloseOnSignal()

    if not (os.environ.get("QT_QPA_PLATFORM") or os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        if not (args.screenshot or args.record):
            print("main.py: error: no display to open the window on (DISPLAY is not set); use --headless, "
                  "or QT_QPA_PLATFORM=offscreen with --screenshot", file=sys.stderr)
            return EXIT_BAD_INPUT
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # a screenshot needs no screen

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from gui.app import settings as stored
    from gui.app.main_window import MainWindow
    from gui.bridge.worker import choose_mode

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Gradient-flow simulator")
    app.setOrganizationName(ORGANISATION)
    settings = None if os.environ.get("GRADFLOW_SETTINGS_OFF") else QSettings(ORGANISATION, APPLICATION)
    # where the trainer runs: --trainer, else GRADFLOW_TRAINER, else the View menu's stored choice, else by cores
    choose_mode(args.trainer or (None if env_mode() or settings is None else stored.stored_trainer(settings)))
    if args.screenshot or args.record:
        return closer.exit_status(run_once(app, MainWindow(config), args, config, compare, closer))

    given = any(a.startswith("--") and a not in ("--quiet",) for a in argv)
    if not given and settings is not None:  # no flags: carry on where the last session left off
        window = MainWindow.from_settings(settings, config)
    else:
        window = MainWindow(config, settings)
    prepare(window, args, compare)
    window.show()
    closer.attach(window)
    app.aboutToQuit.connect(window.shutdown)  # however the app ends, the trainer's thread is joined
    return closer.exit_status(app.exec())


def checked_args(argv: list[str]):
    """(args, config, compare) from the command line; UsageError, ConfigError or FormatError names what is wrong."""
    args = build_parser(NAMES).parse_args(argv)
    check_flags(args, "window")
    config = config_from_args(args)
    compare = parse_compare(args.compare, config) if args.compare is not None else None
    if args.screenshot is not None:
        check_writable("screenshot", args.screenshot)
        (PLOT_SCREENSHOT if args.export_plot else SCREENSHOT).choose(args.screenshot)
    check_record_args(args, config)
    args.scale = check_export_args(args, config)
    check_choices(args)
    return args, config, compare


def run_once(app, window, args, config, compare, closer) -> int:
    """--screenshot or --record: train in a shown window, save the picture or the animation, close."""
    prepare(window, args, compare)
    window.resize(1280, 800)
    window.show()
    closer.attach(window)
    if args.record:
        from gui.files.recorder import record_window
        return record_window(app, window, args.record, config.epochs, args.record_plot, args.record_every,
                             args.scale)
    if args.export_plot:
        return take_screenshot(app, window, args.screenshot, config.epochs,
                               lambda path: window.export_plot(args.export_plot, path, args.scale))
    return take_screenshot(app, window, args.screenshot, config.epochs,
                           lambda path: window.save_screenshot(path, args.scale))


class CloseOnSignal:
    """Ctrl+C (SIGINT) and SIGTERM close the window as its Close button does: settings saved, trainer stopped.

    Qt's event loop runs in C++, and Python runs a signal handler only when it next runs Python code: a
    timer wakes the interpreter every 200 ms. A signal before the window exists closes it once it does;
    a second signal ends the process at once (the default action)."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self):
        self.signum = None
        self.window = None
        for s in self.SIGNALS:
            signal.signal(s, self._caught)

    def _caught(self, signum, _frame) -> None:
        self.signum = self.signum or signum
        for s in self.SIGNALS:
            signal.signal(s, signal.SIG_DFL)
        if self.window is not None:
            self._close()

    def attach(self, window) -> None:
        from PySide6.QtCore import QTimer
        self.window = window
        self._wake = QTimer(window)
        self._wake.timeout.connect(lambda: None)
        self._wake.start(200)
        if self.signum is not None:
            QTimer.singleShot(0, self._close)

    def _close(self) -> None:
        from PySide6.QtWidgets import QApplication
        modal = QApplication.activeModalWidget()  # e.g. a file dialog: its own event loop would keep running
        if modal is not None and modal is not self.window:
            modal.close()
        self.window.close()

    def exit_status(self, code: int) -> int:
        return 128 + self.signum if self.signum else code


def check_choices(args) -> None:
    """The window's flags that name one of a few choices, and GRADFLOW_TRAINER (for tests and benchmarks)."""
    if args.theme is not None and args.theme not in THEMES:
        raise UsageError(f"theme: must be one of {', '.join(THEMES)}, got {args.theme!r}")
    if args.page is not None and args.page not in PAGES:
        raise UsageError(f"page: must be one of {', '.join(PAGES)}, got {shorten(repr(args.page))}")
    if args.trainer is not None and args.trainer not in TRAINERS:
        raise UsageError(f"trainer: must be one of {', '.join(TRAINERS)}, got {shorten(repr(args.trainer))}")
    try:
        env_mode()
    except ValueError as e:
        raise UsageError(str(e)) from None


def check_export_args(args, config) -> float:
    """--export-plot, --export-scale, --export-dpi (issue 21): the scale to draw at; UsageError or ConfigError
    naming the flag, the value and what is allowed."""
    sized = args.export_scale is not None or args.export_dpi is not None
    if sized and not (args.screenshot or args.record):
        raise UsageError("export_scale and export_dpi need --screenshot FILE.png or --record FILE.gif")
    if args.export_plot is not None:
        if not args.screenshot:
            raise UsageError("export_plot needs --screenshot FILE.png (with --record, --record-plot picks the plot)")
        view = views.by_name(args.export_plot)
        if view is None:
            raise UsageError(f"export_plot must be one of {', '.join(NAMES)}, got {shorten(repr(args.export_plot))}")
        if not view.supports(config.model):
            raise UsageError(f"export_plot: {view.name} is shown for {view.shown_for()} only, got model "
                             f"{config.model!r}")
    default = PLOT_SCALE if args.export_plot else WINDOW_SCALE
    return export_scale(args.export_scale, args.export_dpi, default)


def check_record_args(args, config) -> None:
    if not args.record:
        if args.record_every is not None or args.record_plot:
            raise UsageError("record_every and record_plot need --record FILE.gif")
        return
    from gui.files.recorder import check_target
    check_writable("record", args.record)
    problem = check_target(args.record, args.record_plot, args.record_every, config.model)
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
    if args.page:
        window.plotPages.setCurrentIndex(PAGES.index(args.page))
    if compare is not None:
        window.start_compare(*compare)


def take_screenshot(app, window, path: str, epochs: int, save=None) -> int:
    """Take the run to the story's lesson point (with a story whose settings are unchanged: its picture), else
    train to ``epochs``; draw, save the whole window as PNG (or ``save(path)``: one plot), and close."""
    save = save or window.save_screenshot
    from PySide6.QtCore import QTimer

    from core.runtime.runner import Kind
    from core.training.session import RunState

    status = {"code": 0}
    story = window.story.lesson_point() is not None

    def start():
        if window.state != RunState.READY:
            QTimer.singleShot(50, start)
        elif story:
            window.story.go_to_lesson_point()
        else:
            window.toggle_run()

    def trained() -> bool:
        if story:
            return window.story.at_lesson_point()
        snap = window.last_snapshot
        finished = snap is not None and snap.kind in (Kind.DONE, Kind.DIVERGED) and len(window.history) >= min(
            epochs, snap.epoch)
        return window.state in (RunState.DONE, RunState.DIVERGED) and finished

    def poll():
        if not window.isVisible():  # closed by a signal: no screenshot
            return
        if trained():
            QTimer.singleShot(300, shoot)  # let the last frame paint
        else:
            QTimer.singleShot(50, poll)

    def shoot():
        if not window.isVisible():
            return
        if not save(path):
            print(f"main.py: error: {window.messageLabel.text()}", file=sys.stderr)
            status["code"] = 1
        window.close()
        app.quit()

    QTimer.singleShot(100, start)
    QTimer.singleShot(200, poll)
    app.exec()
    return status["code"]
