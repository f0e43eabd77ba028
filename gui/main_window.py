"""The simulator's window: controls on the left, live plots on the right.

The window holds the experiment's config (the model) and mirrors it in the controls
both ways: ``set_config`` updates the controls; a control's change builds a new config,
which is validated by ``core`` before anything else happens. Training runs in a
``TrainingWorker`` on its own QThread; this window only draws what it sends.
"""
from __future__ import annotations

import json
import math
import os
import tempfile
import time

import numpy as np
from PySide6.QtCore import QByteArray, QEvent, QRect, QSettings, QThread, QTimer, Qt, Slot
from PySide6.QtGui import QAction, QActionGroup, QGuiApplication, QKeySequence, QPainter, QShortcut
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import (QAbstractSpinBox, QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGridLayout,
                               QFileDialog, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QMainWindow, QProgressBar, QPushButton, QScrollArea, QSlider, QSpinBox, QSplitter, QTabWidget, QTextBrowser, QVBoxLayout, QWidget)

from core import ACTIVATIONS, LIVE_FIELDS, ConfigError, ExperimentConfig
from core.compare import COMPARABLE
from core.config import FIELD_SPECS, parse_field
from core.datasets import DATASET_LABELS
from core.history import EpochHistory
from core.initializers import INIT_LABELS
from core.optimizers import OPTIMIZER_LABELS
from core.presets import PRESETS
from core.resources import check_fits
from core.records import file_mode, history_csv, load_experiment, save_experiment, write_atomically
from core.theory import predicted_profile

from . import theme
from .help import HELP_HTML
from .plots import DecisionBoundary, FlowHeatmap, GradientBars, LossCurves, UpdateRatios
from .worker import Snapshot, TrainingWorker

def chain_html(chain) -> str:
    """The chain rule as a table: from the loss down to layer 1, with the running product."""
    rows = "".join(
        f"<tr><td align=right>{l.layer}</td><td align=right>{l.deriv_abs_mean:.3g}</td>"
        f"<td align=right>{'—' if i == 0 else f'{l.gain:.3g}'}</td><td align=right>{l.product:.3g}</td></tr>"
        for i, l in enumerate(chain.links))
    return (f"<p><b>{chain.text()}</b></p>"
            "<p>Each layer multiplies the back-propagated gradient δ = dL/dz by its gain "
            "‖δ<sub>l</sub>‖ / ‖δ<sub>l+1</sub>‖; the product is how much reaches layer 1.</p>"
            "<table cellspacing=0 cellpadding=3 border=1>"
            "<tr><th>layer</th><th>mean |φ′(z)|</th><th>gain</th><th>product</th></tr>"
            f"{rows}</table>")


STATE_COLOURS = {"ready": "#333333", "running": "#2e7d32", "paused": "#8a6d00", "done": "#1f5fa8",
                 "diverged": "#b00020"}
LR_MIN, LR_MAX = 1e-5, 10.0


def _named(widget, name: str, tip: str):
    """Give a widget its object name (tests and automation find it by that) and a one-sentence tooltip."""
    widget.setObjectName(name)
    widget.setToolTip(tip)
    return widget


def _spin(name: str, lo: int, hi: int, tip: str) -> QSpinBox:
    w = QSpinBox()
    w.setObjectName(name)
    w.setRange(lo, hi)
    w.setKeyboardTracking(False)  # typing "100" must not rebuild at 1 and 10 on the way
    w.setToolTip(tip)
    return w


def _dspin(name: str, lo: float, hi: float, decimals: int, tip: str) -> QDoubleSpinBox:
    w = QDoubleSpinBox()
    w.setObjectName(name)
    w.setDecimals(decimals)
    w.setRange(lo, hi)
    w.setKeyboardTracking(False)
    w.setStepType(QDoubleSpinBox.AdaptiveDecimalStepType)
    w.setToolTip(tip)
    return w


def _combo(name: str, labels: dict, tip: str) -> QComboBox:
    w = QComboBox()
    w.setObjectName(name)
    for key, label in labels.items():
        w.addItem(label, key)
    w.setToolTip(tip)
    return w


def _button(name: str, text: str, tip: str) -> QPushButton:
    w = QPushButton(text)
    w.setObjectName(name)
    w.setToolTip(tip)
    return w


class MainWindow(QMainWindow):
    def __init__(self, config: ExperimentConfig | None = None, settings: QSettings | None = None):
        """``settings``: where window geometry, splitters, theme and the last config persist (none in tests)."""
        super().__init__()
        self.settings = settings
        self.theme_name = "system"
        self.setWindowTitle("Gradient-flow simulator: vanishing and exploding gradients, live")
        self.config = config if config is not None else ExperimentConfig()
        self.history = EpochHistory(self.config.n_weight_layers)
        self.state = "ready"
        self.last_snapshot: Snapshot | None = None
        self._generation = 0
        self._step_pending = False
        self._closing = False
        self._gui_cpu = time.thread_time()
        self.history_b: EpochHistory | None = None
        self.comparing = False
        self._build_controls()
        self._build_lesson_controls()
        self._build_plots()
        self._build_status()
        self._build_menus()
        self._build_shortcuts()
        self._show_config(self.config)
        self._connect_controls()
        self._replay_expected: EpochHistory | None = None  # set by open_experiment, read when drawing
        self._start_worker()
        self.resize(1280, 800)
        self.restore_settings()
        self.set_theme(self.theme_name)
        hints = QGuiApplication.styleHints()
        if hasattr(hints, "colorSchemeChanged"):  # "Follow the system" follows it live
            hints.colorSchemeChanged.connect(self._on_system_scheme)

    # -- construction ------------------------------------------------------------------------
    def _build_controls(self) -> None:
        spec = FIELD_SPECS
        self.depthSpin = _spin("depthSpin", *spec["depth"][1:3], "Number of hidden layers. Deeper networks multiply "
                               "more per-layer factors into each gradient.")
        self.widthSpin = _spin("widthSpin", *spec["width"][1:3], "Units in each hidden layer.")
        self.activationCombo = _combo("activationCombo", {k: a.label for k, a in ACTIVATIONS.items()},
                                      "The non-linearity phi. Its derivative phi' is one factor per layer in the chain rule.")
        self.initCombo = _combo("initCombo", INIT_LABELS, "How the weights start. Xavier suits sigmoid/tanh, He suits "
                                "ReLU; N(0, 1) is the naive choice that explodes wide networks.")
        self.initGainSpin = _dspin("initGainSpin", 0.01, 100.0, 2, "Multiplies the initial weights' standard deviation.")
        self.residualCheck = _named(QCheckBox("Residual connections"), "residualCheck",
                                    "Hidden layers 2..depth compute h + phi(hW + b): the identity path carries "
                                    "the gradient past saturated units.")
        self.datasetCombo = _combo("datasetCombo", DATASET_LABELS, "The problem to learn: five 2-D classification "
                                   "sets and a 1-D regression.")
        self.optimizerCombo = _combo("optimizerCombo", OPTIMIZER_LABELS, "The update rule. Applies to the running "
                                     "network without a reset.")
        self.lrSpin = _dspin("lrSpin", LR_MIN, LR_MAX, 6, "Learning rate: w_new = w_old - lr * dL/dw. Applies at once.")
        self.lrSlider = QSlider(Qt.Horizontal)
        self.lrSlider.setObjectName("lrSlider")
        self.lrSlider.setRange(-50, 10)  # tenths of a decade: 1e-5 .. 1e1
        self.lrSlider.setToolTip("Learning rate on a log scale from 1e-5 to 10.")
        self.batchSpin = _spin("batchSpin", *spec["batch_size"][1:3], "Samples per gradient step.")
        self.epochsSpin = _spin("epochsSpin", *spec["epochs"][1:3], "Run trains until this epoch, then stops.")
        self.seedSpin = _spin("seedSpin", 0, 2**31 - 1, "Random seed for data, initial weights and batch order: "
                              "the same seed gives the same run.")
        self.clipCheck = _named(QCheckBox("Clip gradient norm at"), "clipCheck",
                                "Rescale the whole gradient when its global norm exceeds the threshold "
                                "(Pascanu et al. 2013): same direction, bounded step.")
        self.clipSpin = _dspin("clipSpin", 1e-3, 1e6, 3, "Largest global gradient norm allowed when clipping is on.")
        self.stepBatchButton = _button("stepBatchButton", "Step batch", "Train on one batch, then update every plot (B).")
        self.stepEpochButton = _button("stepEpochButton", "Step epoch", "Train one epoch, then update every plot (N).")
        self.runButton = _button("runButton", "Run", "Train continuously until the set epoch; press again to pause (Space).")
        self.resetButton = _button("resetButton", "Reset", "Rebuild the network from the seed and clear the history (R).")
        self.messageLabel = QLabel("")
        self.messageLabel.setObjectName("messageLabel")
        self.messageLabel.setWordWrap(True)
        self.messageLabel.setToolTip("What just happened: errors in red, notices in grey.")

        net = QGroupBox("Network")
        f = QFormLayout(net)
        f.addRow("Hidden layers", self.depthSpin)
        f.addRow("Width", self.widthSpin)
        f.addRow("Activation", self.activationCombo)
        f.addRow("Initialisation", self.initCombo)
        f.addRow("Init gain", self.initGainSpin)
        f.addRow(self.residualCheck)
        train = QGroupBox("Training")
        f = QFormLayout(train)
        f.addRow("Dataset", self.datasetCombo)
        f.addRow("Optimiser", self.optimizerCombo)
        lr_row = QHBoxLayout()
        lr_row.addWidget(self.lrSlider, 1)
        lr_row.addWidget(self.lrSpin)
        f.addRow("Learning rate", lr_row)
        f.addRow("Batch size", self.batchSpin)
        f.addRow("Epochs", self.epochsSpin)
        f.addRow("Seed", self.seedSpin)
        clip_row = QHBoxLayout()
        clip_row.addWidget(self.clipCheck)
        clip_row.addWidget(self.clipSpin)
        f.addRow(clip_row)
        buttons = QGridLayout()
        buttons.addWidget(self.stepBatchButton, 0, 0)
        buttons.addWidget(self.stepEpochButton, 0, 1)
        buttons.addWidget(self.runButton, 1, 0)
        buttons.addWidget(self.resetButton, 1, 1)

        panel = QWidget()
        v = QVBoxLayout(panel)
        v.addWidget(net)
        v.addWidget(train)
        v.addLayout(buttons)
        v.addWidget(self.messageLabel)
        self.extraControls = QVBoxLayout()  # presets and lessons add themselves here
        v.addLayout(self.extraControls)
        v.addStretch(1)
        self.controlPanel = QScrollArea()
        self.controlPanel.setWidget(panel)
        self.controlPanel.setWidgetResizable(True)
        self.controlPanel.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.controlPanel.setMinimumWidth(310)

    def _build_lesson_controls(self) -> None:
        self.presetCombo = QComboBox()
        self.presetCombo.setObjectName("presetCombo")
        self.presetCombo.addItem("Choose a story…", None)
        for p in PRESETS.values():
            self.presetCombo.addItem(p.name, p.name)
            self.presetCombo.setItemData(self.presetCombo.count() - 1, p.summary, Qt.ToolTipRole)
        self.presetCombo.setToolTip("Load a preset: a configuration that tells one story of gradient flow.")
        self.lessonLabel = _named(QLabel("Pick a story to load its settings and read what to watch."), "lessonLabel",
                                  "What to watch in the current preset, what happens and why.")
        self.lessonLabel.setWordWrap(True)
        self.lessonLabel.setTextFormat(Qt.RichText)
        self.theoryCheck = _named(QCheckBox("Theory overlay"), "theoryCheck",
                                  "Draw the mean-field prediction over the bars: back-propagated gradients change "
                                  "by sqrt(chi_1) per layer (Poole et al. 2016).")
        self.phaseLabel = _named(QLabel(""), "phaseLabel", "Mean-field phase of this network: ordered (gradients "
                                 "vanish), chaotic (they explode) or near the edge of chaos.")
        self.phaseLabel.setWordWrap(True)
        box = QGroupBox("Stories")
        v = QVBoxLayout(box)
        v.addWidget(self.presetCombo)
        v.addWidget(self.lessonLabel)
        v.addWidget(self.theoryCheck)
        v.addWidget(self.phaseLabel)
        self.extraControls.addWidget(box)

        self.compareFieldCombo = _combo("compareFieldCombo", {f: f.replace("_", " ") for f in COMPARABLE},
                                        "The one setting run B changes; data, seed and batches stay the same.")
        self.compareValueEdit = _named(QLineEdit("relu"), "compareValueEdit",
                                       "B's value for that setting, e.g. relu, he, 0.01.")
        self.compareButton = _button("compareButton", "Compare A / B", "Duplicate this run into B with one setting "
                                     "changed; both step together and show side by side.")
        self.compareButton.setCheckable(True)
        box = QGroupBox("Compare")
        f = QFormLayout(box)
        f.addRow("B changes", self.compareFieldCombo)
        f.addRow("to", self.compareValueEdit)
        f.addRow(self.compareButton)
        self.extraControls.addWidget(box)

    def _build_plots(self) -> None:
        self.gradients = GradientBars()
        self.loss = LossCurves()
        self.heatmap = FlowHeatmap()
        self.updates = UpdateRatios()
        self.boundary = DecisionBoundary()
        self.gradientPlot, self.lossPlot = self.gradients.widget, self.loss.widget
        self.heatmapPlot, self.updatePlot, self.boundaryPlot = self.heatmap.widget, self.updates.widget, self.boundary.widget
        self.lossLogCheck = QCheckBox("log scale")
        self.lossLogCheck.setObjectName("lossLogCheck")
        self.lossLogCheck.setToolTip("Show the loss on a logarithmic axis.")
        self.lossLogCheck.toggled.connect(self._on_loss_log)

        loss_box = QWidget()
        lv = QVBoxLayout(loss_box)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(self.lossPlot, 1)
        lv.addWidget(self.lossLogCheck, 0, Qt.AlignRight)
        self.topSplitter = QSplitter(Qt.Horizontal)
        self.topSplitter.addWidget(self.gradientPlot)
        self.topSplitter.addWidget(self.heatmapPlot)
        self.topSplitter.setSizes([560, 400])
        self.chainView = QTextBrowser()
        self.chainView.setObjectName("chainView")
        self.chainView.setToolTip("The chain rule for the latest batch with its real numbers: each layer's mean "
                                  "|phi'|, its backward gain, and the running product from the output down.")
        self.lessonTabs = QTabWidget()
        self.lessonTabs.setObjectName("lessonTabs")
        self.lessonTabs.addTab(self.boundaryPlot, "Prediction")
        self.lessonTabs.addTab(self.chainView, "Chain rule")
        self.helpView = QTextBrowser()
        self.helpView.setObjectName("helpView")
        self.helpView.setHtml(HELP_HTML)
        self.helpView.setToolTip("What each plot shows and why gradients vanish or explode.")
        self.lessonTabs.addTab(self.helpView, "Help")
        self.bottomSplitter = QSplitter(Qt.Horizontal)
        for w in (loss_box, self.updatePlot, self.lessonTabs):
            self.bottomSplitter.addWidget(w)
        self.bottomSplitter.setSizes([320, 320, 320])
        self.plotSplitter = QSplitter(Qt.Vertical)
        self.plotSplitter.addWidget(self.topSplitter)
        self.plotSplitter.addWidget(self.bottomSplitter)
        self.splitter = QSplitter(Qt.Horizontal)
        self.splitter.addWidget(self.controlPanel)
        self.splitter.addWidget(self.plotSplitter)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([330, 950])
        self.setCentralWidget(self.splitter)

    def _build_status(self) -> None:
        self.epochLabel = QLabel("Epoch 0")
        self.stepLabel = QLabel("step 0")
        self.lossLabel = QLabel("loss –")
        self.stateLabel = QLabel("ready")
        self.speedLabel = QLabel("")
        tips = {"epochLabel": "Completed epochs.", "stepLabel": "Completed batches (gradient steps).",
                "lossLabel": "Loss of the latest batch.", "stateLabel": "ready, running, paused, done or diverged.",
                "speedLabel": "Training speed while running."}
        self.progressBar = QProgressBar()
        self.progressBar.setMaximumWidth(160)
        self.progressBar.setFormat("%v / %m epochs")
        self.progressBar.setVisible(False)
        tips["progressBar"] = "Progress toward the epoch where Run stops."
        for name, tip in tips.items():
            w = getattr(self, name)
            w.setObjectName(name)
            w.setToolTip(tip)
            self.statusBar().addPermanentWidget(w)

    def _build_menus(self) -> None:
        def action(menu, text, slot, shortcut=None, tip=""):
            a = QAction(text, self)
            if shortcut:
                a.setShortcut(QKeySequence(shortcut))
            a.setStatusTip(tip)
            a.triggered.connect(slot)
            menu.addAction(a)
            return a
        f = self.menuBar().addMenu("&File")
        json_files, png = "JSON (*.json)", "PNG image (*.png)"
        action(f, "&Open experiment…", lambda: self._ask_then(
            False, "Open experiment", "Experiments (*.json);;All files (*)", ".json", self.open_experiment),
            "Ctrl+O", "Open an experiment or config JSON file.")
        action(f, "&Save experiment…", lambda: self._ask_then(
            True, "Save experiment", json_files, ".json", self.save_experiment),
            "Ctrl+S", "Save the config and the recorded history as JSON.")
        action(f, "Save &config only…", lambda: self._ask_then(
            True, "Save config", json_files, ".json", lambda p: self.save_experiment(p, include_history=False)),
            None, "Save the config alone as JSON.")
        f.addSeparator()
        action(f, "&Export statistics as CSV…", lambda: self._ask_then(
            True, "Export statistics", "CSV (*.csv)", ".csv", self.export_csv), "Ctrl+E", "One row per epoch.")
        plots = f.addMenu("Export &plot")
        for name, label in (("gradientPlot", "Gradient bars"), ("lossPlot", "Loss"), ("heatmapPlot", "Gradient flow"),
                            ("updatePlot", "Update ratio"), ("boundaryPlot", "Prediction")):
            action(plots, f"{label}…", lambda _=False, n=name: self._ask_then(
                True, "Export plot", f"{png};;SVG drawing (*.svg)", ".png", lambda p: self.export_plot(n, p)),
                None, "PNG or SVG.")
        action(f, "Save screens&hot…", lambda: self._ask_then(
            True, "Save screenshot", png, ".png", self.save_screenshot), None, "A PNG of the whole window.")
        f.addSeparator()
        action(f, "&Quit", self.close, "Ctrl+Q")
        v = self.menuBar().addMenu("&View")
        themes = v.addMenu("&Theme")
        self.themeGroup = QActionGroup(self)
        self.themeActions = {}
        for name in theme.THEMES:
            a = action(themes, name.capitalize() if name != "system" else "Follow the system",
                       lambda _=False, n=name: self.set_theme(n))
            a.setCheckable(True)
            self.themeGroup.addAction(a)
            self.themeActions[name] = a
        h = self.menuBar().addMenu("&Help")
        action(h, "&What am I looking at?", self.show_help, "F1")

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

    SHORTCUT_KEYS = (Qt.Key_N, Qt.Key_B, Qt.Key_R, Qt.Key_Space)

    def eventFilter(self, obj, event) -> bool:
        if (event.type() == QEvent.ShortcutOverride and event.key() in self.SHORTCUT_KEYS
                and event.modifiers() == Qt.NoModifier):
            event.ignore()  # not claimed by the line edit, so the window's shortcut fires
            return True
        return super().eventFilter(obj, event)

    # -- the worker ---------------------------------------------------------------------
    def _start_worker(self) -> None:
        self.worker = TrainingWorker(self.config)
        self.thread_ = QThread()
        self.thread_.setObjectName("trainer")
        self.worker.moveToThread(self.thread_)
        self.thread_.started.connect(self.worker.loop)
        self.worker.snapshot.connect(self._on_snapshot)
        self.worker.failed.connect(self._on_failed)
        self.thread_.start()

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Stop training and join the thread. True when the thread has ended.

        The stop flag is checked between batches; one batch of the largest network (100 layers
        of 1024 units, batch 100,000) can take longer than ``timeout_ms``. Then the window says so
        and waits on: destroying a running QThread would abort the process."""
        if self._closing:
            return not self.thread_.isRunning()
        self._closing = True
        self.worker.stop()
        self.thread_.quit()
        ended = self.thread_.wait(timeout_ms)
        if not ended:
            self.statusBar().showMessage("Finishing the current batch before closing…")
            ended = self.thread_.wait()
        try:
            self.worker.snapshot.disconnect(self._on_snapshot)
            self.worker.failed.disconnect(self._on_failed)
            hints = QGuiApplication.styleHints()
            if hasattr(hints, "colorSchemeChanged"):
                hints.colorSchemeChanged.disconnect(self._on_system_scheme)
        except (RuntimeError, TypeError):
            pass
        return ended

    def closeEvent(self, event) -> None:
        self.save_settings()
        self.shutdown()
        super().closeEvent(event)

    # -- model to view ------------------------------------------------------------------
    def set_config(self, config: ExperimentConfig) -> bool:
        """Show ``config`` in the controls and apply it: live settings at once, the rest by rebuilding.
        A config too large for this machine's memory is refused with a visible message (False)."""
        try:
            check_fits(config)
        except ConfigError as e:
            self.show_message(str(e), error=True)
            self._show_config(self.config)  # the controls go back to the config in use
            return False
        old = self.config
        self.config = config
        self._show_config(config)
        changed = [k for k, v in config.to_dict().items() if old.to_dict()[k] != v]
        if any(k not in LIVE_FIELDS for k in changed):
            self._rebuild(f"Network rebuilt ({', '.join(changed)} changed): history cleared.")
        elif changed:
            self.worker.post("apply", {k: getattr(config, k) for k in changed})
        return True

    def _show_config(self, c: ExperimentConfig) -> None:
        widgets = [self.depthSpin, self.widthSpin, self.activationCombo, self.initCombo, self.initGainSpin,
                   self.residualCheck, self.datasetCombo, self.optimizerCombo, self.lrSpin, self.lrSlider,
                   self.batchSpin, self.epochsSpin, self.seedSpin, self.clipCheck, self.clipSpin]
        for w in widgets:
            w.blockSignals(True)
        try:
            self.depthSpin.setValue(c.depth)
            self.widthSpin.setValue(c.width)
            for combo, value in ((self.activationCombo, c.activation), (self.initCombo, c.init),
                                 (self.datasetCombo, c.dataset), (self.optimizerCombo, c.optimizer)):
                combo.setCurrentIndex(combo.findData(value))
            self.initGainSpin.setValue(c.init_gain)
            self.residualCheck.setChecked(c.residual)
            self.lrSpin.setValue(c.lr)
            self.lrSlider.setValue(round(10 * math.log10(c.lr)))
            self.batchSpin.setValue(c.batch_size)
            self.epochsSpin.setValue(c.epochs)
            self.seedSpin.setValue(min(c.seed, self.seedSpin.maximum()))
            self.clipCheck.setChecked(c.clip_norm is not None)
            self.clipSpin.setEnabled(c.clip_norm is not None)
            if c.clip_norm is not None:
                self.clipSpin.setValue(c.clip_norm)
            elif self.clipSpin.value() == 0:
                self.clipSpin.setValue(1.0)
        finally:
            for w in widgets:
                w.blockSignals(False)

    # -- view to model ------------------------------------------------------------------
    def _connect_controls(self) -> None:
        for field, spin in (("depth", self.depthSpin), ("width", self.widthSpin), ("batch_size", self.batchSpin),
                            ("epochs", self.epochsSpin), ("seed", self.seedSpin)):
            spin.valueChanged.connect(lambda v, f=field: self._change(f, int(v)))
        for field, combo in (("activation", self.activationCombo), ("init", self.initCombo),
                             ("dataset", self.datasetCombo), ("optimizer", self.optimizerCombo)):
            combo.currentIndexChanged.connect(lambda i, f=field, c=combo: self._change(f, c.itemData(i)))
        self.initGainSpin.valueChanged.connect(lambda v: self._change("init_gain", float(v)))
        self.residualCheck.toggled.connect(lambda on: self._change("residual", bool(on)))
        self.lrSpin.valueChanged.connect(lambda v: self._change("lr", float(v)))
        self.lrSlider.valueChanged.connect(lambda v: self._change("lr", float(f"{10 ** (v / 10):.3g}")))
        self.clipCheck.toggled.connect(lambda on: self._change("clip_norm", float(self.clipSpin.value()) if on else None))
        self.clipSpin.valueChanged.connect(lambda v: self.clipCheck.isChecked() and self._change("clip_norm", float(v)))
        self.presetCombo.currentIndexChanged.connect(self._on_preset)
        self.theoryCheck.toggled.connect(lambda on: self.last_snapshot and self._draw_bars(self.last_snapshot))
        self.compareButton.toggled.connect(self._on_compare)
        self.stepBatchButton.clicked.connect(self.step_batch)
        self.stepEpochButton.clicked.connect(self.step_epoch)
        self.runButton.clicked.connect(self.toggle_run)
        self.resetButton.clicked.connect(self.reset)

    def _change(self, field: str, value) -> None:
        try:
            config = self.config.replace(**{field: value})
        except ConfigError as e:
            self.show_message(str(e), error=True)
            self._show_config(self.config)  # the controls go back to the valid config
            return
        if config == self.config:
            return
        if self.set_config(config) and field in LIVE_FIELDS:
            self.show_message(f"{field} = {value}: applied to the running network.")

    # -- actions ------------------------------------------------------------------------
    def _rebuild(self, message: str) -> None:
        self._step_pending = False
        self.worker.post("rebuild", self.config)
        self.show_message(message)
        self.statusBar().showMessage(message, 5000)

    def reset(self) -> None:
        self._rebuild("Reset: network rebuilt from the seed, history cleared.")

    def step_batch(self) -> None:
        self._step("step_batch")

    def step_epoch(self) -> None:
        self._step("step_epoch")

    def _step(self, command: str) -> None:
        if self._step_pending or self.worker.is_running or self.state == "running":
            return  # one step at a time: clicks during a step are ignored, never queued up
        if self.state == "diverged":
            self.show_message("The run diverged: press Reset to start again.", error=True)
            return
        self._step_pending = True
        self._update_buttons()
        self.worker.post(command)

    def toggle_run(self) -> None:
        if self.state == "running":
            self.worker.pause()
            self.state = "paused"
            self.show_message("Paused: Step batch and Step epoch work from here; Run continues.")
        else:
            if self.state == "diverged":
                self.show_message("The run diverged: press Reset to start again.", error=True)
                return
            if self._step_pending:
                return
            done = len(self.history)
            target = self.config.epochs if done < self.config.epochs else done + self.config.epochs
            self.worker.post("run", target)
            self.state = "running"
            self.show_message(f"Running to epoch {target}.")
        self._update_buttons()

    def load_preset(self, name: str) -> None:
        """Load a preset's config and show its lesson."""
        self.show_lesson(name)
        self.set_config(PRESETS[name].config())

    def show_lesson(self, name: str) -> None:
        """Select a preset in the picker and show its text, without changing the config."""
        p = PRESETS[name]
        self.presetCombo.blockSignals(True)
        self.presetCombo.setCurrentIndex(self.presetCombo.findData(name))
        self.presetCombo.blockSignals(False)
        self.lessonLabel.setText(f"<b>{p.name}</b>: {p.summary}.<br><b>Watch</b> {p.watch}<br>"
                                 f"<b>What happens:</b> {p.happens}<br><b>Why:</b> {p.why}")

    def _on_preset(self, index: int) -> None:
        name = self.presetCombo.itemData(index)
        if name:
            self.load_preset(name)

    def start_compare(self, field: str, value) -> bool:
        """Compare this run with a B that differs in ``field``; False (with a visible message) if not allowed."""
        from core.compare import Comparison
        try:
            Comparison.check(self.config, field, value)
        except ConfigError as e:
            self.show_message(str(e), error=True)
            self._show_comparing(False)
            return False
        self._show_comparing(True)
        self._step_pending = False
        self.worker.post("compare", ((field, value), self.config))
        self.show_message(f"Comparing A ({field} = {getattr(self.config, field)}) with B ({field} = {value}): "
                          "same data, seed and batches.")
        return True

    def _show_comparing(self, on: bool) -> None:
        """Set the Compare button without triggering it."""
        self.compareButton.blockSignals(True)
        self.compareButton.setChecked(on)
        self.compareButton.blockSignals(False)

    def stop_compare(self) -> None:
        self._show_comparing(False)
        self._step_pending = False
        self.worker.post("compare", (None, self.config))
        self.show_message("Comparison ended: one run again, history cleared.")

    def _on_compare(self, on: bool) -> None:
        if not on:
            self.stop_compare()
            return
        field = self.compareFieldCombo.currentData()
        try:
            value = parse_field(field, self.compareValueEdit.text())
        except ConfigError as e:
            self.show_message(f"compare: {e}", error=True)
            self._show_comparing(False)
            return
        self.start_compare(field, value)

    # -- files ---------------------------------------------------------------------------
    def save_experiment(self, path: str, include_history: bool = True) -> bool:
        return self._write(path, lambda: save_experiment(path, self.config, self.history if include_history else None),
                           f"Saved the experiment to {path}" + (f" ({len(self.history)} epochs)." if include_history else "."))

    def export_csv(self, path: str) -> bool:
        return self._write(path, lambda: write_atomically(path, history_csv(self.history)),
                           f"Exported {len(self.history)} epochs to {path}.")

    def export_plot(self, name: str, path: str) -> bool:
        """Export one plot (by object name) as PNG, or SVG when the name ends in .svg."""
        import pyqtgraph.exporters as exporters
        widget = getattr(self, name)
        svg = path.lower().endswith(".svg")

        def render_svg(tmp: str) -> None:
            # pyqtgraph's SVGExporter fails on this Qt's path syntax (pyqtgraph issue #3485):
            # Qt's own SVG generator renders the plot as vectors instead.
            gen = QSvgGenerator()
            gen.setFileName(tmp)
            gen.setSize(widget.size())
            gen.setViewBox(QRect(0, 0, widget.width(), widget.height()))
            gen.setTitle(widget.getPlotItem().titleLabel.text)
            painter = QPainter(gen)
            widget.render(painter)
            painter.end()

        def export():
            if svg:
                self._export_via_temp(path, ".svg", render_svg)
            else:
                self._export_via_temp(path, ".png", exporters.ImageExporter(widget.getPlotItem()).export)
        return self._write(path, export, f"Exported the plot to {path}.")

    def save_screenshot(self, path: str) -> bool:
        def grab_into(tmp: str) -> None:
            if not self.grab().save(tmp, "PNG"):
                raise OSError(f"Qt could not encode the window as PNG for {path}")
        return self._write(path, lambda: self._export_via_temp(path, ".png", grab_into),
                           f"Saved a screenshot to {path}.")

    @staticmethod
    def _export_via_temp(path: str, suffix: str, export) -> None:
        """Exporters write a file by name: give them a temporary one beside ``path``, then rename it."""
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=suffix, dir=os.path.dirname(os.path.abspath(path)))
        os.close(fd)
        try:
            export(tmp)
            os.chmod(tmp, file_mode(path))
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def _write(self, path: str, write, done: str) -> bool:
        try:
            write()
        except (OSError, ValueError, RuntimeError) as e:
            self.show_message(f"Could not write {path}: {getattr(e, 'strerror', None) or e}", error=True)
            return False
        self.show_message(done)
        return True

    def open_experiment(self, path: str) -> bool:
        """Open an experiment (or config) file. With a recorded history, the run is replayed from its seed to
        the same epoch, so the plots and the network agree, and checked against the recording."""
        try:
            config, history = load_experiment(path)
        except ConfigError as e:
            self.show_message(f"Could not open {path}: {e}", error=True)
            return False
        try:
            check_fits(config)
        except ConfigError as e:
            self.show_message(f"Could not open {path}: {e}", error=True)
            return False
        if self.comparing:
            self.stop_compare()
        self.config = config
        self._show_config(config)
        self._rebuild(f"Opened {path}.")
        self._replay_expected = history if history is not None and len(history) else None
        if self._replay_expected is not None:
            n = len(history)
            self.worker.post("run", n)
            self.state = "running"
            self.show_message(f"Opened {path}: replaying its {n} recorded epochs (same seed, same result).")
        self._update_buttons()
        return True

    def _check_replay(self) -> None:
        expected, self._replay_expected = self._replay_expected, None
        n = min(len(expected), len(self.history))
        same = n == len(expected) and all(
            np.allclose(expected.layer(k)[:n], self.history.layer(k)[:n], rtol=1e-9, equal_nan=True)
            for k in ("grad_norm", "update_ratio")) and np.allclose(
            expected.scalar("train_loss")[:n], self.history.scalar("train_loss")[:n], rtol=1e-9, equal_nan=True)
        if same:
            self.show_message(f"Replayed {n} epochs: identical to the recorded history.")
        else:
            self.show_message(f"Replayed {len(self.history)} epochs, but they differ from the recorded history "
                              "(recorded by another version, or edited).", error=True)

    def _ask(self, save: bool, title: str, filters: str, suffix: str) -> str | None:
        dialog = QFileDialog.getSaveFileName if save else QFileDialog.getOpenFileName
        path, _ = dialog(self, title, "", filters)
        if not path:
            return None
        if save and not os.path.splitext(path)[1]:
            path += suffix
        return path

    def _ask_then(self, save: bool, title: str, filters: str, suffix: str, act) -> None:
        """Ask for a file name with a dialog, then call ``act(path)`` unless the dialog was cancelled."""
        path = self._ask(save, title, filters, suffix)
        if path:
            act(path)

    # -- look and settings -----------------------------------------------------------------
    def set_theme(self, name: str) -> None:
        self.theme_name = name if name in theme.THEMES else "system"
        self.theme_mode = theme.apply([self.gradientPlot, self.lossPlot, self.heatmapPlot, self.updatePlot,
                                       self.boundaryPlot], self.theme_name)
        self.themeActions[self.theme_name].setChecked(True)

    def _on_system_scheme(self, *_) -> None:
        if self.theme_name == "system" and not self._closing:
            self.set_theme("system")

    def show_help(self) -> None:
        self.lessonTabs.setCurrentWidget(self.helpView)

    SPLITTERS = ("splitter", "plotSplitter", "topSplitter", "bottomSplitter")

    def restore_settings(self) -> None:
        s = self.settings
        if s is None:
            return
        geometry = s.value("window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        for name in self.SPLITTERS:
            state = s.value(f"window/{name}")
            if isinstance(state, QByteArray):
                getattr(self, name).restoreState(state)
        self.theme_name = str(s.value("view/theme", "system"))

    def save_settings(self) -> None:
        s = self.settings
        if s is None:
            return
        s.setValue("window/geometry", self.saveGeometry())
        for name in self.SPLITTERS:
            s.setValue(f"window/{name}", getattr(self, name).saveState())
        s.setValue("view/theme", self.theme_name)
        s.setValue("experiment/config", json.dumps(self.config.to_dict()))
        s.sync()

    @staticmethod
    def config_from_settings(settings: QSettings) -> ExperimentConfig | None:
        """The last session's config, or None when there is none or it is no longer valid."""
        text = settings.value("experiment/config")
        try:
            return ExperimentConfig.from_dict(json.loads(text)) if text else None
        except (ValueError, TypeError):
            return None

    def show_message(self, text: str, error: bool = False) -> None:
        self.messageLabel.setText(text)
        self.messageLabel.setStyleSheet(f"color: {'#b00020' if error else '#555555'};")
        if error:
            self.statusBar().showMessage(text, 8000)

    # -- drawing what the worker sent -----------------------------------------------------
    @Slot(object)
    def _on_snapshot(self, snap: Snapshot) -> None:
        assert QThread.currentThread() is self.thread(), "snapshots must be drawn on the GUI thread"
        try:
            if snap.generation < self._generation:
                return  # from a network that has since been rebuilt
            if snap.kind == "rebuilt":
                self._generation = snap.generation
                self.comparing = snap.b is not None
                self.history_b = EpochHistory(snap.b.n_layers) if snap.b is not None else None
                self.loss.set_compare(self.comparing)
                self.gradients.set_run_labels(None)
                if not self.comparing and self.compareButton.isChecked():
                    self._show_comparing(False)
                self.history.clear(snap.n_layers)
                self.heatmap.clear(snap.n_layers)
                self.boundary.set_data(*snap.data)
                self.loss.update([], [], [])
                grad, grad_b = snap.initial_grad_norm
                self.gradients.update(grad, caption="at initialisation, before any step", grad_norms_b=grad_b)
                self.gradients.show_theory(predicted_profile(snap.config, grad, snap.phase.factor),
                                           self.theoryCheck.isChecked())
            self.history.extend(snap.new_epochs)
            if snap.b is not None and self.history_b is not None:
                self.history_b.extend(snap.b.new_epochs)
            self.last_snapshot = snap
            self.state = snap.state
            if snap.kind in ("batch", "epoch", "diverged", "rebuilt"):
                self._step_pending = False
            self._draw(snap)
            if snap.message:
                self.show_message(snap.message, error=snap.state == "diverged")
        finally:
            # Acknowledge once the plots have painted: the scene processes its dirty items in a
            # queued call and then posts the paint, so two queued hops land after both.
            QTimer.singleShot(0, lambda: QTimer.singleShot(0, self._acknowledge))

    def _acknowledge(self) -> None:
        # GUI-thread CPU time since the last frame: drawing, painting and all else.
        cpu = time.thread_time()
        self.worker.acknowledge(cpu - self._gui_cpu)
        self._gui_cpu = cpu

    def _draw(self, snap: Snapshot) -> None:
        b = snap.last_batch
        if snap.new_epochs or (b is not None and snap.kind != "rebuilt"):
            self._draw_bars(snap)
        if snap.new_epochs:
            hb = self.history_b
            self.loss.update(self.history.scalar("epoch"), self.history.scalar("train_loss"),
                             self.history.scalar("val_loss"),
                             (hb.scalar("epoch"), hb.scalar("train_loss"), hb.scalar("val_loss")) if hb else None)
            self.heatmap.update(self.history.layer("grad_norm"))
        if snap.chain is not None:
            self.chainView.setHtml(chain_html(snap.chain))
        if snap.phase is not None:
            self.phaseLabel.setText(f"Mean-field phase: {snap.phase} (chi_1 = {snap.phase.chi1:.3g})"
                                    + (" — residual connections are outside this theory" if snap.config.residual else ""))
        if snap.boundary is not None:
            self.boundary.update(snap.boundary)
        self.epochLabel.setText(f"Epoch {snap.epoch}")
        self.stepLabel.setText(f"step {snap.step}")
        self.lossLabel.setText(f"loss {b.loss:.4g}" if b is not None else "loss –")
        self.stateLabel.setText(snap.state)
        self.stateLabel.setStyleSheet(f"color: {STATE_COLOURS.get(snap.state, '#333')}; font-weight: bold;")
        self.speedLabel.setText(f"{snap.steps_per_second:,.0f} steps/s" if snap.state == "running" else "")
        self.progressBar.setVisible(snap.state == "running" and snap.target_epoch > 0)
        if snap.target_epoch > 0:
            self.progressBar.setRange(0, snap.target_epoch)
            self.progressBar.setValue(min(snap.epoch, snap.target_epoch))
        if self._replay_expected is not None and snap.kind in ("done", "diverged"):
            self._check_replay()
        elif snap.kind == "diverged" and snap.divergence is not None and not snap.message:
            d = snap.divergence
            self.show_message(f"Diverged at epoch {d.epoch}, step {d.step}: non-finite {d.quantity} in layer "
                              f"{d.layer}. Training stopped; press Reset.", error=True)
        elif snap.kind == "done":
            self.show_message(f"Reached epoch {snap.epoch}. Run continues for {self.config.epochs} more.")
        self._update_buttons()

    def _draw_bars(self, snap: Snapshot) -> None:
        """Bars and update ratios: the last epoch's means when one just finished, else the latest batch;
        after a divergence, the last batch whose numbers were all finite, with the failing layer outlined."""
        if snap.divergence is not None and snap.last_finite_batch is not None:
            stats, caption = snap.last_finite_batch, f"step {snap.last_finite_batch.step}, before the divergence"
        elif snap.new_epochs:
            stats, caption = snap.new_epochs[-1], "mean over the last epoch"
        elif snap.last_batch is not None:
            stats, caption = snap.last_batch, "latest batch"
        else:
            return
        other = None
        if snap.b is not None:
            other = snap.b.new_epochs[-1] if snap.b.new_epochs else snap.b.last_batch
            self.gradients.set_run_labels((snap.b.label_a, snap.b.label))
        else:
            self.gradients.set_run_labels(None)
        self.gradients.update(stats.grad_norm, self._marked_layer(snap), caption,
                              None if other is None else other.grad_norm)
        self.gradients.show_theory(predicted_profile(snap.config, stats.grad_norm, snap.phase.factor)
                                   if snap.phase is not None else None, self.theoryCheck.isChecked())
        self.updates.update(stats.update_ratio, None if other is None else other.update_ratio)

    def _marked_layer(self, snap: Snapshot):
        return snap.divergence.layer if snap.divergence is not None else None

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._step_pending = False
        if self.state == "running" and not self.worker.is_running:
            self.state = "paused"
        self.show_message(message, error=True)
        self._update_buttons()

    def _on_loss_log(self, on: bool) -> None:
        self.loss.set_log(on)
        self.loss.update(self.history.scalar("epoch"), self.history.scalar("train_loss"), self.history.scalar("val_loss"))

    def _update_buttons(self) -> None:
        running = self.state == "running"
        stepping_ok = not running and not self._step_pending and self.state != "diverged"
        self.stepBatchButton.setEnabled(stepping_ok)
        self.stepEpochButton.setEnabled(stepping_ok)
        self.runButton.setText("Pause" if running else "Run")
        self.runButton.setEnabled(self.state != "diverged" and not self._step_pending)
