"""The control panel: one editor per config field, generated from ``core.config.FIELD_SPECS``.

A field's kind picks its editor (one map, ``EDITORS``): choice -> combo box, int -> spin box,
float -> spin box (plus a log slider when the spec asks), optional float -> check box and
spin box, bool -> check box. Ranges, labels and tooltips come from the spec, and the spin
boxes show any valid value exactly (``lr=50``, ``init_gain=0.001``, ``seed=4294967295``), so
a field added to the table appears here with no edit. The panel only reports edits
(``fieldEdited``); the session model decides what they mean and calls ``show_config``.
"""
from __future__ import annotations

import math
import os

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGridLayout, QGroupBox,
                               QHBoxLayout, QLabel, QLineEdit, QPushButton, QScrollArea, QSlider, QSpinBox,
                               QVBoxLayout, QWidget)

from core.training.compare import COMPARABLE
from core.config import FIELD_SPECS, RECURRENT_GROUP, FieldSpec
from core.data.datasets import SEQUENCE_DATASETS
from core.stories.presets import PRESETS

from gui.app import theme
from gui.widgets import named, plain_label  # noqa: F401  (moved to gui/widgets.py; kept importable from here)

INT_MAX = 2**31 - 1   # QSpinBox holds a C int; larger integer fields use ExactSpinBox


def editor_name(field: str, spec: FieldSpec) -> str:
    if spec.widget:
        return spec.widget
    head, *rest = field.split("_")
    suffix = {"choice": "Combo", "bool": "Check"}.get(spec.kind, "Spin")
    return head + "".join(p.capitalize() for p in rest) + suffix


class ExactSpinBox(QDoubleSpinBox):
    """A spin box that keeps and shows any double exactly (shortest round-trip text), not rounded to
    a few decimals; ``integer`` for whole numbers beyond a C int (the seed goes to 2**32 - 1)."""

    def __init__(self, lo: float, hi: float, integer: bool = False, step_decimals: int = 3, lo_open: bool = False):
        super().__init__()
        self.integer, self.step_decimals, self.lo_open = integer, step_decimals, lo_open
        self.setDecimals(0 if integer else 323)   # Qt rounds values to this many decimals
        self.setRange(lo, hi)
        # Qt sizes a spin box by its range's texts ("100"); values like 0.000123 need more room.
        sample = str(int(hi)) if integer else "0.0001234"
        self.setMinimumWidth(self.fontMetrics().horizontalAdvance(sample) + 36)

    def textFromValue(self, value: float) -> str:
        if self.integer:
            return str(int(value))
        text = repr(float(value))
        return text[:-2] if text.endswith(".0") else text

    def stepBy(self, steps: int) -> None:
        """Arrows and Page keys: a tenth of the value's decade (0.001 -> 0.0011), never finer than the
        spec's ``decimals``; an open lower bound is approached a decade at a time, never reached."""
        if self.integer:
            return super().stepBy(steps)
        v = self.value()
        step = max(10 ** (math.floor(math.log10(abs(v))) - 1) if v else 0.0, 10.0 ** -self.step_decimals)
        new = float(f"{v + steps * step:.12g}")
        if new <= self.minimum() and self.lo_open:
            new = v / 10 if v > self.minimum() else v
        self.setValue(min(max(new, self.minimum()), self.maximum()))

    def valueFromText(self, text: str) -> float:
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):
        try:
            value = float(text)
            ok = math.isfinite(value) and (not self.integer or value.is_integer())
            state = QValidator.Acceptable if ok and self.minimum() <= value <= self.maximum() \
                else QValidator.Intermediate
        except ValueError:
            partial = text.strip().lower().rstrip("e+-.") in ("", "-", "+") or text.strip()[-1:] in "eE+-."
            state = QValidator.Intermediate if partial else QValidator.Invalid
        return state, text, pos


class Editor(QObject):
    """The widgets of one field; ``edited(field, value)`` when the user changes them."""

    edited = Signal(str, object)

    def __init__(self, field: str, spec: FieldSpec):
        super().__init__()
        self.field, self.spec, self.name = field, spec, editor_name(field, spec)

    def row(self):
        """(caption or None, widget or layout) for a form."""
        raise NotImplementedError

    def show(self, value) -> None:
        raise NotImplementedError

    def value(self):
        """The value the editor shows."""
        raise NotImplementedError

    def widgets(self) -> list:
        raise NotImplementedError


def _number_box(field: str, spec: FieldSpec, name: str):
    if spec.kind == "int" and spec.hi <= INT_MAX:
        w = QSpinBox()
        w.setRange(int(spec.lo), int(spec.hi))
    else:
        # An open lower bound stays in the box's range: typing it gets the config's message, not a silent clamp.
        w = ExactSpinBox(spec.lo, spec.hi, integer=spec.kind == "int", step_decimals=spec.decimals,
                         lo_open=spec.lo_open)
    w.setKeyboardTracking(False)  # typing "100" must not rebuild at 1 and 10 on the way
    return named(w, name, spec.tip)


class NumberEditor(Editor):
    def __init__(self, field: str, spec: FieldSpec):
        super().__init__(field, spec)
        self.box = _number_box(field, spec, self.name)
        self.box.valueChanged.connect(lambda v: self.edited.emit(field, self._value(v)))
        self.slider = None
        if spec.log:
            lo, hi = (round(10 * math.log10(x)) for x in spec.log)
            self.slider = named(QSlider(Qt.Horizontal), self.name.replace("Spin", "Slider"),
                                f"{spec.label} on a log scale from {spec.log[0]:g} to {spec.log[1]:g}.")
            self.slider.setRange(lo, hi)   # tenths of a decade
            self.slider.valueChanged.connect(lambda v: self.edited.emit(field, float(f"{10 ** (v / 10):.3g}")))

    def _value(self, v):
        return int(round(v)) if self.spec.kind == "int" else float(v)

    def row(self):
        if self.slider is None:
            return self.spec.label, self.box
        line = QHBoxLayout()
        line.addWidget(self.slider, 1)
        line.addWidget(self.box)
        return self.spec.label, line

    def value(self):
        return self._value(self.box.value())

    def show(self, value) -> None:
        self.box.setValue(value)
        if self.slider is not None:
            self.slider.setValue(round(10 * math.log10(value)))

    def widgets(self) -> list:
        return [self.box] + ([self.slider] if self.slider is not None else [])


class ChoiceEditor(Editor):
    def __init__(self, field: str, spec: FieldSpec):
        super().__init__(field, spec)
        self.combo = named(QComboBox(), self.name, spec.tip)
        for key, label in zip(spec.choices, spec.labels):
            self.combo.addItem(label, key)
            self.combo.setItemData(self.combo.count() - 1, label, Qt.ToolTipRole)
        # sized by the panel, not by the longest label ("Adding problem (sequence, regression)"): a long
        # choice is elided in the closed box, never pushes the panel's buttons out of view
        self.combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(8)
        self.combo.currentIndexChanged.connect(lambda i: self.edited.emit(field, self.combo.itemData(i)))

    def row(self):
        return self.spec.label, self.combo

    def show(self, value) -> None:
        self.combo.setCurrentIndex(self.combo.findData(value))

    def value(self):
        return self.combo.currentData()

    def widgets(self) -> list:
        return [self.combo]


class BoolEditor(Editor):
    def __init__(self, field: str, spec: FieldSpec):
        super().__init__(field, spec)
        self.check = named(QCheckBox(spec.label), self.name, spec.tip)
        self.check.toggled.connect(lambda on: self.edited.emit(field, bool(on)))

    def row(self):
        return None, self.check

    def show(self, value) -> None:
        self.check.setChecked(value)

    def value(self):
        return self.check.isChecked()

    def widgets(self) -> list:
        return [self.check]


class OptionalNumberEditor(Editor):
    """A check box (off: None) and the number it enables."""

    def __init__(self, field: str, spec: FieldSpec):
        super().__init__(field, spec)
        check_name = self.name.replace("Spin", "Check") if self.name.endswith("Spin") else self.name + "Check"
        self.check = named(QCheckBox(spec.label), check_name, f"On: {spec.tip} Off: none.")
        self.box = _number_box(field, spec, self.name)
        self.box.setValue(1.0)
        self.check.toggled.connect(lambda on: self.edited.emit(field, float(self.box.value()) if on else None))
        self.box.valueChanged.connect(lambda v: self.check.isChecked() and self.edited.emit(field, float(v)))

    def row(self):
        line = QHBoxLayout()
        line.addWidget(self.check)
        line.addWidget(self.box)
        return None, line

    def show(self, value) -> None:
        self.check.setChecked(value is not None)
        self.box.setEnabled(value is not None)
        if value is not None:
            self.box.setValue(value)

    def value(self):
        return float(self.box.value()) if self.check.isChecked() else None

    def widgets(self) -> list:
        return [self.check, self.box]


EDITORS = {"int": NumberEditor, "float": NumberEditor, "optional_float": OptionalNumberEditor,
           "bool": BoolEditor, "choice": ChoiceEditor}
TOP_GROUPS = ("Network", RECURRENT_GROUP, "Training")   # other groups a spec names go below the stories


class ControlPanel(QScrollArea):
    """The editors, the step/run buttons, the message line, the stories and the A/B comparison."""

    fieldEdited = Signal(str, object)        # a field and the value the user chose
    presetChosen = Signal(str)
    compareToggled = Signal(bool)
    paceEdited = Signal(float)               # steps per second while running; 0: as fast as it goes

    def __init__(self, actions: dict):
        super().__init__()
        self.setObjectName("controlPanel")
        self._data_file, self._dataset = None, None   # a data file's name while the session trains on one
        self.editors = {f: EDITORS[s.kind](f, s) for f, s in FIELD_SPECS.items()}
        self.widgets = {w.objectName(): w for e in self.editors.values() for w in e.widgets()}
        panel = QWidget()
        v = QVBoxLayout(panel)
        self.groups = {g: QGroupBox(g) for g in TOP_GROUPS + tuple(e.spec.group for e in self.editors.values())}
        forms = {g: QFormLayout(box) for g, box in self.groups.items()}
        for e in self.editors.values():
            e.edited.connect(self._edited)
            caption, item = e.row()
            forms[e.spec.group].addRow(caption, item) if caption else forms[e.spec.group].addRow(item)
        for g in TOP_GROUPS:
            v.addWidget(self.groups[g])
        v.addLayout(self._buttons(actions))
        v.addLayout(self._pace())
        self.messageLabel = plain_label("", "messageLabel", "What just happened: errors in red, notices in grey.")
        v.addWidget(self.messageLabel)
        v.addWidget(self._stories())
        v.addWidget(self._compare())
        for g, form in forms.items():   # settings one changes less often, below the stories
            if g not in TOP_GROUPS and form.rowCount():
                v.addWidget(self.groups[g])
        v.addStretch(1)
        self.setWidget(panel)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setMinimumWidth(310)

    def _buttons(self, actions: dict) -> QGridLayout:
        grid = QGridLayout()
        for i, (name, action) in enumerate(actions.items()):
            button = named(QPushButton(action.text()), name, action.toolTip())
            button.clicked.connect(action.trigger)
            action.changed.connect(lambda b=button, a=action: (b.setEnabled(a.isEnabled()), b.setText(a.text())))
            self.widgets[name] = button
            grid.addWidget(button, i // 2, i % 2)
        return grid

    def _pace(self) -> QHBoxLayout:
        spin = named(QDoubleSpinBox(), "speedSpin", "Steps per second while running: slow a run down to watch "
                     "each step (e.g. 2 for the exploding story); 0 = as fast as it goes.")
        spin.setRange(0.0, 1000.0)
        spin.setDecimals(1)
        spin.setSingleStep(1.0)
        spin.setSpecialValueText("as fast as it goes")
        spin.setSuffix(" steps/s")
        spin.valueChanged.connect(self.paceEdited)
        self.widgets["speedSpin"] = spin
        row = QHBoxLayout()
        row.addWidget(QLabel("Pace"))
        row.addWidget(spin, 1)
        return row

    def _stories(self) -> QGroupBox:
        combo = named(QComboBox(), "presetCombo", "Load a preset: a configuration that tells one story of "
                                                  "gradient flow.")
        combo.addItem("Choose a story…", None)
        for p in PRESETS.values():
            combo.addItem(p.name, p.name)
            combo.setItemData(combo.count() - 1, p.summary, Qt.ToolTipRole)
        combo.currentIndexChanged.connect(lambda i: combo.itemData(i) and self.presetChosen.emit(combo.itemData(i)))
        lesson = plain_label("Pick a story to load its settings and read what to watch.", "lessonLabel",
                             "What to watch in the current preset, what happens and why.")
        theory = named(QCheckBox("Theory overlay"), "theoryCheck",
                       "Draw the mean-field prediction over the bars: back-propagated gradients change "
                       "by sqrt(chi_1) per layer (Poole et al. 2016).")
        phase = plain_label("", "phaseLabel", "Mean-field phase of this network: ordered (gradients vanish), "
                                              "chaotic (they explode) or near the edge of chaos.")
        box = QGroupBox("Stories")
        v = QVBoxLayout(box)
        for w in (combo, lesson, theory, phase):
            v.addWidget(w)
            self.widgets[w.objectName()] = w
        return box

    def _compare(self) -> QGroupBox:
        field = named(QComboBox(), "compareFieldCombo", "The one setting run B changes; data, seed and batches "
                                                        "stay the same.")
        for f in COMPARABLE:
            field.addItem(f.replace("_", " "), f)
        value = named(QLineEdit("relu"), "compareValueEdit", "B's value for that setting, e.g. relu, he, 0.01.")
        button = named(QPushButton("Compare A / B"), "compareButton", "Duplicate this run into B with one setting "
                       "changed; both step together and show side by side.")
        button.setCheckable(True)
        button.toggled.connect(self.compareToggled)
        box = QGroupBox("Compare")
        f = QFormLayout(box)
        f.addRow("B changes", field)
        f.addRow("to", value)
        f.addRow(button)
        for w in (field, value, button):
            self.widgets[w.objectName()] = w
        return box

    def show_config(self, config) -> None:
        """Show every field of ``config`` exactly, without reporting it as an edit. The recurrent settings
        show only where they act: a recurrent model, or a sequence task (whose length an MLP reads too)."""
        self.groups[RECURRENT_GROUP].setVisible(config.model != "mlp" or config.dataset in SEQUENCE_DATASETS)
        self._dataset = config.dataset
        for field, e in self.editors.items():
            for w in e.widgets():
                w.blockSignals(True)
            try:
                e.show(getattr(config, field))
            finally:
                for w in e.widgets():
                    w.blockSignals(False)

        self._show_data_file()

    # The dataset box's entry for a data file opened with File > Open data (not a config value).
    DATA_FILE = "\0data file"

    def _edited(self, field: str, value) -> None:
        if value != self.DATA_FILE:   # the data file's entry is chosen already (it is shown, not chosen)
            self.fieldEdited.emit(field, value)

    def show_data_source(self, source: dict | None) -> None:
        """The data set trained on: a data file's name as the dataset box's current entry while the session
        trains on one (the config's built-in name would be untrue), removed once a built-in one is chosen."""
        self._data_file = os.path.basename(source["path"]) if source else None
        self._show_data_file()

    def _show_data_file(self) -> None:
        combo = self.editors["dataset"].combo
        combo.blockSignals(True)
        try:
            i = combo.findData(self.DATA_FILE)
            if self._data_file is None:
                if i >= 0:
                    combo.removeItem(i)
                    self.editors["dataset"].show(self._dataset)
                return
            if i < 0:
                combo.addItem("", self.DATA_FILE)
                i = combo.count() - 1
            combo.setItemText(i, f"file: {self._data_file}")   # item text is plain: a name is data, not markup
            combo.setItemData(i, "The data file opened with File > Open data. Choose a built-in data set to "
                                 "leave it.", Qt.ToolTipRole)
            combo.setCurrentIndex(i)
        finally:
            combo.blockSignals(False)

    def shown_values(self) -> dict:
        """Field -> the value its editor shows: equal to the config's fields after ``show_config``."""
        return {field: e.value() for field, e in self.editors.items()}

    def show_comparing(self, on: bool) -> None:
        """The Compare button follows the session's state; setting it is not a click."""
        button = self.widgets["compareButton"]
        button.blockSignals(True)
        button.setChecked(on)
        button.blockSignals(False)

    def compare_request(self) -> tuple[str, str]:
        return self.widgets["compareFieldCombo"].currentData(), self.widgets["compareValueEdit"].text()

    def show_lesson(self, name: str) -> None:
        """Select a preset in the picker (quietly) and show its text; None: no story."""
        combo = self.widgets["presetCombo"]
        combo.blockSignals(True)
        combo.setCurrentIndex(combo.findData(name) if name else 0)
        combo.blockSignals(False)
        if name is None:
            self.widgets["lessonLabel"].setText("Pick a story to load its settings and read what to watch.")
            return
        p = PRESETS[name]
        self.widgets["lessonLabel"].setText(f"{p.name}: {p.summary}.\nWatch {p.watch}\n"
                                            f"What happens: {p.happens}\nWhy: {p.why}")

    def show_message(self, text: str | None = None, error: bool | None = None) -> None:
        """A message in the theme's notice or error colour; no arguments: the shown one, recoloured."""
        if text is not None:
            self.messageLabel.setText(text)
            self._error = bool(error)
        colour = theme.text_colour("error" if getattr(self, "_error", False) else "notice")
        self.messageLabel.setStyleSheet(f"color: {colour};")
