"""Open, save, export and screenshot: every write goes through core's one write path (``core.io.fileio``).

An exporter that fails without raising (pyqtgraph's exporters may: #3485) is caught there by
its result or an empty file, so the old file stays and the window says what went wrong.
"""
from __future__ import annotations

import os

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QInputDialog, QLabel, QMessageBox, QStackedWidget

from core import ConfigError
from core.io.export_size import PLOT_SCALE, SCREEN_DPI, WINDOW_SCALE, dpi_of, pixels
from core.io.fileio import check_target
from core.io.formats import CONFIG, CSV, DATA, PLOT, RECORD, SCREENSHOT, STATS_CSV, SVG, TABLE_PLOT, extension
from core.training.precision_step import precision_columns   # issue 24
from core.io.records import history_csv, load_experiment, save_experiment, table_csv, write_atomically
from core.runtime.resources import check_fits
from core.training.session import RunState
from core.training.trainer import check_data
from core.data.userdata import load_for, load_source, source_of_experiment

from gui.app import theme
from gui.files.export import in_sight, laid_out, plot_png as render_png, widget_png, widget_svg as render_svg, write_image
from gui.panels import views

def export_choices(width: int, height: int) -> dict[str, float]:
    """File > Export plot's sizes: label -> scale (the second, twice the on-screen size, is the default)."""
    def label(scale, head):
        return "{} ({}x{} px, {:g} DPI)".format(head, *pixels(width, height, scale), round(dpi_of(scale)))
    sizes = {label(s, f"{s:g}x the screen") + (", the default" if s == PLOT_SCALE else ""): s for s in (1, 2, 3, 4)}
    sizes.update({label(d / SCREEN_DPI, f"{d} DPI for print"): d / SCREEN_DPI for d in (300, 600)})
    return sizes


INSIDE = tuple(v.object_name for v in views.VIEWS if v.place.startswith("inside/"))   # issue 12: these export CSV too


def shown_for_this_network(widget, window) -> bool:
    """False when the dashboard hid the plot (or a row holding it) because it does not apply, e.g. the
    time-step plot of an MLP; a plot on a tab that is merely not in front still counts as shown."""
    w = widget
    while w is not None and w is not window:
        parent = w.parentWidget()
        if w.isHidden() and not isinstance(parent, QStackedWidget):
            return False
        w = parent
    return True


class FileActions:
    """What the File menu does, for a window with a session model, a dashboard and a message line."""

    def __init__(self, window):
        self.window = window
        self.keep_theme = False   # exports are drawn light (for print and slides) unless this is on
        self.dialog: QMessageBox | None = None   # the one "could not open" dialog, reused
        self.recorder = None                     # the recording in progress (gui.files.recorder.Recorder)
        self.loader = None                       # the data file being read (gui.files.data_loader.DataLoader)

    @property
    def model(self):
        return self.window.model

    def _write(self, path: str, data, done: str) -> bool:
        """``data``: text to write, or ``write()`` that writes it (gui/files/export.py, checked by core)."""
        try:
            data() if callable(data) else write_atomically(path, data)
        except (OSError, ValueError, RuntimeError) as e:
            self.model.say(f"Could not write {path}: {getattr(e, 'strerror', None) or e}", error=True)
            return False
        self.model.say(done)
        return True

    def refuse(self, title: str, text: str) -> None:
        """A file could not be used: say so on the message line and in a dialog, both in plain text (the text
        quotes file names and values), without blocking: the window keeps working."""
        self.model.say(text, error=True)
        if self.dialog is None:
            self.dialog = QMessageBox(QMessageBox.Warning, title, "", QMessageBox.Ok, self.window)
            self.dialog.setObjectName("fileErrorDialog")
            self.dialog.setTextFormat(Qt.PlainText)
        self.dialog.setWindowTitle(title)
        self.dialog.setText(text)
        for label in self.dialog.findChildren(QLabel):   # the icon's label too: no label here reads markup
            label.setTextFormat(Qt.PlainText)
        self.dialog.open()

    def save_experiment(self, path: str, include_history: bool = True) -> bool:
        m = self.model
        history = m.history if include_history else None
        try:
            inside = self.window.dashboard.inside.view if include_history else None   # issue 12
            save_experiment(path, m.config, history, m.data_source, inside=inside)
        except (OSError, ValueError) as e:
            m.say(f"Could not write {path}: {getattr(e, 'strerror', None) or e}", error=True)
            return False
        m.say(f"Saved the experiment to {path}" + (f" ({len(m.history)} epochs)." if include_history else "."))
        return True

    def export_csv(self, path: str) -> bool:
        h = self.model.history
        return self._write(path, history_csv(h, precision_columns(self.model.config)),
                           f"Exported {len(h)} epochs to {path}.")

    def export_plot(self, name: str, path: str, scale: float | None = None) -> bool:
        """Export one plot (by object name, or its registry name) as PNG, or SVG when the name ends in .svg; the
        inside views (issue 12) also as CSV, the numbers they show, when the name ends in .csv. A PNG is drawn at
        ``scale`` times the on-screen size (default export_size.PLOT_SCALE) and records its DPI."""
        scale = PLOT_SCALE if scale is None else scale
        view = views.by_name(name)
        name = view.object_name if view is not None else name
        self.window.dashboard.draw_shown(everything=True)   # a plot not in front has the latest data too
        inside = self.window.dashboard.inside_plots.get(name)
        fmt = (TABLE_PLOT if inside is not None else PLOT).choose(path)
        if fmt is CSV:
            head, rows = inside.table()
            return self._write(path, table_csv(head, rows), f"Exported {len(rows)} rows of the plot to {path}.")
        widget = self.window.dashboard.plot_widgets.get(name)
        if widget is None:
            self.model.say(f"Could not export: no plot named {name!r}.", error=True)
            return False
        if not shown_for_this_network(widget, self.window):
            self.model.say(f"Could not export: {name} is not shown for this network.", error=True)
            return False
        def render(w, tmp):
            return render_svg(w, tmp) if fmt is SVG else render_png(w, tmp, scale)
        shown = getattr(self.window, "theme_mode", "light")

        def draw(tmp):
            if shown == "light" or self.keep_theme:
                return render(widget, tmp)
            theme.style_plot(widget, "light")
            try:
                return render(widget, tmp)
            finally:
                theme.style_plot(widget, shown)
        with in_sight(widget):   # as it is drawn in front, whatever page or tab is in front now
            laid_out(widget)
            size = "" if fmt is SVG else " ({}x{} px, {:g} DPI)".format(*pixels(widget.width(), widget.height(),
                                                                                 scale), dpi_of(scale))
            return self._write(path, lambda: write_image(path, widget, fmt, lambda _w, tmp: draw(tmp)),
                               f"Exported the plot to {path}{size}.")

    def save_screenshot(self, path: str, scale: float | None = None) -> bool:
        """The whole window as PNG, at ``scale`` times its on-screen size (default: as on screen)."""
        scale = WINDOW_SCALE if scale is None else scale
        return self._write(path, lambda: write_image(path, self.window, SCREENSHOT.default,
                                                     lambda w, tmp: widget_png(w, tmp, scale)),
                           f"Saved a screenshot to {path}.")

    def ask_export(self, name: str, path: str) -> None:
        """File > Export plot: a PNG asks how large (export_size: a scale of the on-screen size or a print DPI)."""
        view = views.by_name(name)
        widget = self.window.dashboard.plot_widgets.get(view.object_name if view is not None else name)
        if widget is None or extension(path) != ".png":
            self.window.export_plot(name, path)
            return
        choices = export_choices(widget.width(), widget.height())
        text, ok = QInputDialog.getItem(self.window, "Export plot", "Size of the PNG (the plot is "
                                        f"{widget.width()}x{widget.height()} on screen):", list(choices), 1, False)
        if ok:
            self.window.export_plot(name, path, choices[text])

    def open_experiment(self, path: str) -> bool:
        """Open an experiment (or config) file. With a recorded history, the run is replayed from its seed to
        the same epoch, so the plots and the network agree, and checked against the recording."""
        m = self.model
        try:
            config, history = load_experiment(path)
            check_fits(config)
            source = source_of_experiment(path)   # a data file it was trained on: checked to be the same
            data = load_source(source, config) if source is not None else None
            check_data(config, data)
        except ConfigError as e:
            self.refuse("Could not open the experiment", f"Could not open {path}: {e}")
            return False
        self.window.show_lesson(None)   # the previous story no longer describes what is shown
        m.open(config, history, path, data)
        return True

    def open_data(self, path: str) -> bool:
        """Train on a CSV file's data (core.data.userdata); a malformed file is refused whole, with a dialog.
        A file of BACKGROUND_BYTES or more is read off the GUI thread with a progress bar and Cancel
        (gui/files/data_loader.py): True then means the reading started."""
        from gui.files import data_loader
        m = self.model
        if self.loader is not None and self.loader.running:
            self.refuse("Could not open the data", f"Could not open {path}: {self.loader.path} is still being read")
            return False
        try:
            big = os.path.getsize(path) >= data_loader.BACKGROUND_BYTES
        except (OSError, ValueError):
            big = False   # the reader names what is wrong
        if big:
            self.loader = data_loader.DataLoader(self.window, m.config, path, lambda d: self._use_data(path, d),
                                                 lambda text: self.refuse("Could not open the data", text))
            self.loader.start()
            return True
        try:
            data = load_for(m.config, path)
            check_fits(m.config, data.n_features)
            check_data(m.config, data)
        except ConfigError as e:
            self.refuse("Could not open the data", f"Could not open {path}: {e}")
            return False
        self._use_data(path, data)
        return True

    def _use_data(self, path: str, data) -> None:
        m = self.model
        rows = len(data.y_train) + len(data.y_val)
        task = {"classification": "binary classification", "multiclass": f"{data.n_classes} classes"}.get(
            data.task, "regression")
        m.set_data(data, f"Opened the data {path}: {rows} rows, {data.n_features} features, {task} "
                         f"({len(data.y_train)} to train on, {len(data.y_val)} to validate); network rebuilt.")

    def record(self, path: str, epochs: int, plot: str | None = None, every: int | None = None) -> bool:
        """Record an animation of the run from the seed (gui/files/recorder.py): one frame per epoch up to ``epochs``."""
        from gui.files.recorder import Recorder
        from gui.files.recorder import check_target as record_problem
        problem = record_problem(path, plot, every, self.model.config.model)
        try:
            check_target(path)
        except OSError as e:
            problem = problem or f"record: cannot write {path}: {e.strerror or e}"
        if problem or (self.recorder is not None and not self.recorder.done):
            self.refuse("Could not record", problem or "record: a recording is already running")
            return False
        if self.window.state != RunState.READY:
            self.model.reset()   # the animation starts at initialisation
        self.recorder = Recorder(self.window, path, epochs, plot, every, on_done=self._recorded)
        self.recorder.start()
        self.model.say(f"Recording {epochs} epochs to {path}…")
        return True

    def _recorded(self) -> None:
        r = self.recorder
        if r.error:
            self.refuse("Could not record", f"record: {r.error}")
        else:
            self.model.say(f"Recorded {len(r.frames)} frames to {r.path}.")

    def ask_record(self) -> None:
        epochs, ok = QInputDialog.getInt(self.window, "Record", "Epochs to record (one frame each, from the seed):",
                                         min(self.model.config.epochs, 30), 1, 1000)
        if ok:
            self.ask(True, "Record an animation", RECORD, lambda p: self.record(p, epochs))

    def ask(self, save: bool, title: str, role, act) -> None:
        """Ask for a file name with a dialog showing ``role``'s formats (core.io.formats), then call ``act(path)``
        unless the dialog was cancelled; a name saved without an extension gets the role's first."""
        dialog = QFileDialog.getSaveFileName if save else QFileDialog.getOpenFileName
        path, _ = dialog(self.window, title, "", role.filters(any_file=not save))
        if not path:
            return
        if save and not extension(path):
            path += role.default.ext
        act(path)

    def action(self, menu, text, slot, shortcut=None, tip="") -> QAction:
        a = QAction(text, self.window)
        if shortcut:
            a.setShortcut(QKeySequence(shortcut))
        a.setStatusTip(tip)
        a.triggered.connect(slot)
        menu.addAction(a)
        return a

    def add_menu(self, f, plots) -> None:
        """The File menu; ``plots``: (object name, label) of the plots that can be exported."""
        action, ask, w = self.action, self.ask, self.window
        action(f, "&Open experiment…", lambda: ask(False, "Open experiment", CONFIG, w.open_experiment),
               "Ctrl+O", "Open an experiment or config JSON file.")
        action(f, "&Save experiment…", lambda: ask(True, "Save experiment", CONFIG, w.save_experiment),
               "Ctrl+S", "Save the config and the recorded history as JSON.")
        action(f, "Open &data…", lambda: ask(False, "Open data", DATA, w.open_data),
               None, "Train on a CSV file: numeric columns, the last the label or target, an optional header.")
        action(f, "Save &config only…", lambda: ask(True, "Save config", CONFIG,
                                                    lambda p: w.save_experiment(p, include_history=False)),
               None, "Save the config alone as JSON (what --config reads).")
        f.addSeparator()
        action(f, "&Export statistics as CSV…", lambda: ask(True, "Export statistics", STATS_CSV, w.export_csv),
               "Ctrl+E", "One row per epoch.")
        menu = f.addMenu("Export &plot")
        for name, label in plots:
            role = TABLE_PLOT if name in INSIDE else PLOT
            action(menu, f"{label}…", lambda _=False, n=name, r=role: ask(
                True, "Export plot", r, lambda p: self.ask_export(n, p)), None,
                " or ".join(f.ext[1:].upper() for f in role.formats) + ".")
        keep = action(f, "Export plots in the window's &theme", lambda on: setattr(self, "keep_theme", on), None,
                      "Off: exported plots have a light background whatever the theme.")
        keep.setCheckable(True)
        keep.setObjectName("keepThemeAction")
        self.keepThemeAction = keep
        action(f, "Save screens&hot…", lambda: ask(True, "Save screenshot", SCREENSHOT, w.save_screenshot),
               None, "A PNG of the whole window.")
        action(f, "&Record…", self.ask_record, None, "An animation of the run from the seed, one frame per epoch.")
        f.addSeparator()
        action(f, "&Quit", w.close, "Ctrl+Q")
