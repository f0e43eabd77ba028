"""The simulator's window: composition, menus, shortcuts and the status bar (settings: gui/app/settings.py).

The experiment is owned by the session (``core.training.session`` in the worker thread, mirrored for
the views by ``SessionModel``); ``ControlPanel`` edits it, ``Dashboard`` draws it,
``FileActions`` reads and writes it. See docs/ARCHITECTURE.md.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QSettings, Qt
from PySide6.QtGui import QActionGroup, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import QAbstractSpinBox, QMainWindow, QSplitter

from core import ConfigError, ExperimentConfig
from core.config import parse_field
from core.stories.presets import PRESETS

from gui.app import settings as stored, theme
from gui.app.story_control import StoryControl
from gui.controls import wheel
from gui.controls.control_panel import ControlPanel
from gui.panels.dashboard import Dashboard
from gui.panels.story import StoryPanel, in_scroll_area
from gui.widgets import named
from gui.panels import views
from gui.files.actions import FileActions
from gui.bridge.session_model import SessionModel

PLOTS = tuple((v.object_name, v.label) for v in views.VIEWS)   # (object name, label) of the registry's views


class MainWindow(QMainWindow):
    SPLITTERS = ("splitter", "plotSplitter", "topSplitter", "bottomSplitter", "insideSplitter", "leftSplitter")
    SHORTCUT_KEYS = (Qt.Key_N, Qt.Key_B, Qt.Key_R, Qt.Key_Space)

    def __init__(self, config: ExperimentConfig | None = None, settings: QSettings | None = None):
        """``settings``: where window geometry, splitters, theme and the last config persist (none in tests)."""
        super().__init__()
        self.settings = settings
        self.theme_name = "system"
        self.setWindowTitle("Gradient-flow simulator: vanishing and exploding gradients, live")
        self.model = SessionModel(config if config is not None else ExperimentConfig(), self)
        self.controls = ControlPanel(self.model.actions)
        self.dashboard = Dashboard(self.controls.widgets["phaseLabel"], lambda: self.model.steps)
        self.files = FileActions(self)
        self.storyPanel = StoryPanel(self.model.actions)   # issue 21: the story beside the plots
        for name, widget in {**self.controls.widgets, **self.storyPanel.widgets}.items():   # object names stay
            setattr(self, name, widget)                                                      # attributes, as before
        for name, widget in self.dashboard.plot_widgets.items():
            setattr(self, name, widget)
        d = self.dashboard
        self.gradients, self.loss, self.heatmap = d.bars.plot, d.loss.plot, d.heatmap.plot
        self.updates, self.boundary, self.chainView = d.updates.plot, d.boundary.plot, d.chain.widget
        self.lossLogCheck, self.lessonTabs, self.helpView = d.loss.logCheck, d.lessonTabs, d.helpView
        self.lossFitCheck, self.gradientQuantityCombo = d.loss.fitCheck, d.bars.quantityCombo
        self.timeline = d.timeline.plot
        self.messageLabel, self.controlPanel = self.controls.messageLabel, self.controls
        self.topSplitter, self.bottomSplitter, self.plotSplitter = d.topSplitter, d.bottomSplitter, d.plotSplitter
        self.insideSplitter, self.plotPages = d.insideSplitter, d.pages
        self.leftSplitter = named(QSplitter(Qt.Vertical), "leftSplitter", "The story above the settings.")
        self.leftSplitter.addWidget(in_scroll_area(self.storyPanel))   # issue 21: the story beside the plots,
        self.leftSplitter.addWidget(self.controls)                     # its buttons always in view
        self.leftSplitter.setSizes([430, 330])
        self.splitter = QSplitter(Qt.Horizontal)
        self.splitter.addWidget(self.leftSplitter)
        self.splitter.addWidget(d.pages)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([330, 950])   # the story beside the plots; each plot keeps its room
        self.setCentralWidget(self.splitter)
        self._build_status()
        self._build_menus()
        self._build_shortcuts()
        self._connect()
        self.story = StoryControl(self)
        self._wheel_guard = wheel.guard(self)   # no setting changes under the wheel unless clicked into
        self.controls.show_config(self.model.config)
        self.resize(1280, 800)
        self.restore_settings()
        self.set_theme(self.theme_name)
        hints = QGuiApplication.styleHints()
        if hasattr(hints, "colorSchemeChanged"):  # "Follow the system" follows it live
            hints.colorSchemeChanged.connect(self._on_system_scheme)

    # -- what tests and scripts use -----------------------------------------------------------
    @property
    def config(self) -> ExperimentConfig:
        """The ExperimentConfig the window trains with."""
        return self.model.config

    state = property(lambda self: self.model.state)
    history = property(lambda self: self.model.history)
    history_b = property(lambda self: self.model.history_b)
    last_snapshot = property(lambda self: self.model.last)
    comparing = property(lambda self: self.model.comparing)
    worker = property(lambda self: self.model.worker)
    thread_ = property(lambda self: self.model.thread_)

    def set_config(self, config: ExperimentConfig) -> bool:
        return self.model.set_config(config)

    def load_preset(self, name: str) -> None:
        """Load a preset's config and show its lesson."""
        ok = self.set_config(PRESETS[name].config())
        self.show_lesson(name)   # after: the settings are the story's now (or it is marked at once if refused)
        if ok and self.model.data_source is not None:
            # a story is about its own data set (this Rebuild and the Configure above reach the trainer together)
            self.model.set_data(None, f"{name}: trained on its own data set, not the data file.")

    def show_lesson(self, name: str | None) -> None:
        """Choose a story (None: none) without changing the config: the picker, the story panel and the story's
        whole view (quantity, theory overlay, loss scale, page, pace) follow; it is marked once a setting departs."""
        self.story.choose(name)

    def start_compare(self, field: str, value) -> bool:
        return self.model.start_compare(field, value)

    def stop_compare(self) -> None:
        self.model.stop_compare()

    def open_experiment(self, path: str) -> bool:
        return self.files.open_experiment(path)

    def save_experiment(self, path: str, include_history: bool = True) -> bool:
        return self.files.save_experiment(path, include_history)

    def export_csv(self, path: str) -> bool:
        return self.files.export_csv(path)

    def open_data(self, path: str) -> bool:
        return self.files.open_data(path)

    def export_plot(self, name: str, path: str, scale: float | None = None) -> bool:
        return self.files.export_plot(name, path, scale)

    def save_screenshot(self, path: str, scale: float | None = None) -> bool:
        return self.files.save_screenshot(path, scale)

    def step_batch(self) -> None:
        self.model.step_batch()

    def step_epoch(self) -> None:
        self.model.step_epoch()

    def toggle_run(self) -> None:
        self.model.toggle_run()

    def reset(self) -> None:
        self.model.reset()

    def open_phase_diagram(self):
        """Sweep two settings around this config and watch the trainability map fill; a click loads a cell."""
        from gui.phase_diagram.view import open_phase_diagram
        dialog = open_phase_diagram(self, self.config, self.set_config)
        wheel.guard(dialog)   # its settings, too, change only when clicked into
        return dialog

    def open_seeds(self, workers: int | None = None):
        """View > Many seeds: this config from N seeds, the band of ||dL/dz_l|| beside Hanin & Rolnick's fan."""
        from gui.app.seeds_view import open_seeds
        dialog = open_seeds(self, self.config, workers)
        theme.apply([dialog.plot], self.theme_name)
        return dialog

    def open_reproductions(self, workers: int | None = None):
        """Help > Reproductions: the gallery's table; a row's setup opens here as a story."""
        from gui.app.reproductions import open_reproductions

        def open_story(config, text):
            if self.set_config(config):
                self.show_message(text)
        return open_reproductions(self, open_story, workers)

    def show_message(self, text: str, error: bool = False) -> None:
        self.controls.show_message(text, error)
        if error:
            self.statusBar().showMessage(text, 8000)

    # -- construction -------------------------------------------------------------------
    def _build_status(self) -> None:
        for name, widget in self.dashboard.status.widgets.items():
            setattr(self, name, widget)
            self.statusBar().addPermanentWidget(widget)

    def _build_menus(self) -> None:
        self.files.add_menu(self.menuBar().addMenu("&File"), [(v.object_name, v.label) for v in views.VIEWS])
        action = self.files.action
        view = self.menuBar().addMenu("&View")
        self.phaseDiagramAction = action(view, "&Phase diagram...", lambda _=False: self.open_phase_diagram())
        self.phaseDiagramAction.setObjectName("phaseDiagramAction")
        self.seedsAction = action(view, "&Many seeds...", lambda _=False: self.open_seeds())
        self.seedsAction.setObjectName("seedsAction")
        self.trainerAction = stored.add_trainer_action(self, view)
        themes = view.addMenu("&Theme")
        self.themeGroup = QActionGroup(self)
        self.themeActions = {}
        for name in theme.THEMES:
            a = action(themes, name.capitalize() if name != "system" else "Follow the system",
                       lambda _=False, n=name: self.set_theme(n))
            a.setCheckable(True)
            self.themeGroup.addAction(a)
            self.themeActions[name] = a
        help_menu = self.menuBar().addMenu("&Help")
        action(help_menu, "&What am I looking at?", self.show_help, "F1")
        self.reproductionsAction = action(help_menu, "&Reproductions...", lambda _=False: self.open_reproductions())
        self.reproductionsAction.setObjectName("reproductionsAction")

    def _build_shortcuts(self) -> None:
        # A focused spin box would swallow N, B, R and Space as (invalid) text: let them through.
        for spin in self.findChildren(QAbstractSpinBox):
            spin.installEventFilter(self)
            spin.lineEdit().installEventFilter(self)
        self._shortcuts = []
        for key, slot in (("Space", self.toggle_run), ("N", self.step_epoch), ("B", self.step_batch), ("R", self.reset)):
            s = QShortcut(QKeySequence(key), self)
            s.activated.connect(slot)
            self._shortcuts.append(s)

    def eventFilter(self, obj, event) -> bool:
        if (event.type() == QEvent.ShortcutOverride and event.key() in self.SHORTCUT_KEYS
                and event.modifiers() == Qt.NoModifier):
            event.ignore()  # not claimed by the line edit, so the window's shortcut fires
            return True
        return super().eventFilter(obj, event)

    def _connect(self) -> None:
        m, c = self.model, self.controls
        c.fieldEdited.connect(m.change)
        c.presetChosen.connect(self.load_preset)
        c.compareToggled.connect(self._on_compare)
        c.paceEdited.connect(m.set_pace)
        self.theoryCheck.toggled.connect(self.dashboard.set_theory)
        m.configChanged.connect(c.show_config)
        m.rebuilt.connect(lambda snap: c.show_data_source(snap.data_source))
        m.comparingChanged.connect(c.show_comparing)
        m.measured.connect(self._on_measured)
        m.message.connect(self.show_message)
        m.stateChanged.connect(self.dashboard.status.show_state)

    def _on_measured(self, snap) -> None:
        self.dashboard.show(snap, self.model.history, self.model.history_b)
        self.model.worker.set_shown(self.dashboard.costly_shown())   # what the trainer's next snapshots need

    def _on_compare(self, on: bool) -> None:
        if not on:
            self.stop_compare()
            return
        field, text = self.controls.compare_request()
        try:
            value = parse_field(field, text)
        except ConfigError as e:
            self.show_message(f"compare: {e}", error=True)
            self.controls.show_comparing(self.comparing)
            return
        self.start_compare(field, value)

    # -- look, settings, closing ----------------------------------------------------------
    def set_theme(self, name: str) -> None:
        self.theme_name = name if name in theme.THEMES else "system"
        self.theme_mode = theme.apply(list(self.dashboard.plot_widgets.values()), self.theme_name)
        self.themeActions[self.theme_name].setChecked(True)
        self.dashboard.status.show_state()
        self.controls.show_message()
        self.storyPanel.recolour()

    def _on_system_scheme(self, *_) -> None:
        if self.theme_name == "system" and not self.model.closing:
            self.set_theme("system")

    def show_help(self) -> None:
        self.lessonTabs.setCurrentWidget(self.helpView)

    def restore_settings(self) -> None:
        if self.settings is not None:
            stored.restore_layout(self, self.settings)

    def save_settings(self) -> None:
        if self.settings is not None:
            stored.save(self, self.settings)

    config_from_settings = staticmethod(stored.stored_config)

    @classmethod
    def from_settings(cls, settings: QSettings, fallback: ExperimentConfig) -> "MainWindow":
        """A window that carries on with the last session's config (else ``fallback``, saying why)."""
        problems: list = []
        window = cls(cls.config_from_settings(settings, problems) or fallback, settings)
        for text in problems:
            window.show_message(text, error=True)
        return window

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Stop training and join the thread (and a data file's reader). True when the thread has ended."""
        if self.files.loader is not None:
            self.files.loader.stop()
        ended = self.model.shutdown(timeout_ms, lambda: self.statusBar().showMessage(
            "Finishing the current batch before closing…"))
        hints = QGuiApplication.styleHints()
        if hasattr(hints, "colorSchemeChanged") and not getattr(self, "_scheme_disconnected", False):
            self._scheme_disconnected = True
            try:
                hints.colorSchemeChanged.disconnect(self._on_system_scheme)
            except (RuntimeError, TypeError):
                pass
        return ended

    def closeEvent(self, event) -> None:
        self.save_settings()
        self.shutdown()
        super().closeEvent(event)
