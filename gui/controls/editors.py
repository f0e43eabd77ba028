"""The editors of the control panel: one per config field kind (``EDITORS``), and the small widget helpers
every panel uses (``named``, ``plain_label``).

A field's kind picks its editor: choice -> combo box, int -> spin box, float -> spin box (plus a log slider
when the spec asks), optional float -> check box and spin box, bool -> check box. Ranges, labels and
tooltips come from the spec, and the spin boxes show any valid value exactly.
"""
from __future__ import annotations

import math

from PySide6.QtCore import QObject, QSize, Qt, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QHBoxLayout, QSlider, QSpinBox, QStyle,
                               QStyleOptionComboBox)

from core.config import FieldSpec

from gui.widgets import named

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


class WholeTextCombo(QComboBox):
    """A combo box never narrower than its current text (issue 21: combo boxes show their whole text); the
    settings column's form puts such a row's box under its label when it does not fit beside it."""

    def __init__(self):
        super().__init__()
        self.currentIndexChanged.connect(lambda _: self.updateGeometry())

    def _fit(self, hint: QSize) -> QSize:
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        text = QSize(self.fontMetrics().horizontalAdvance(self.currentText()) + 4, hint.height())
        need = self.style().sizeFromContents(QStyle.CT_ComboBox, option, text, self)
        return QSize(max(hint.width(), need.width()), hint.height())

    def minimumSizeHint(self) -> QSize:
        return self._fit(super().minimumSizeHint())

    def sizeHint(self) -> QSize:
        return self._fit(super().sizeHint())


class ChoiceEditor(Editor):
    def __init__(self, field: str, spec: FieldSpec):
        super().__init__(field, spec)
        self.combo = named(WholeTextCombo(), self.name, spec.tip)
        for key, label in zip(spec.choices, spec.labels):
            self.combo.addItem(label, key)
            self.combo.setItemData(self.combo.count() - 1, label, Qt.ToolTipRole)
        # sized by its current choice, not by the longest label ("Adding problem (sequence, regression)"): a
        # long choice goes under its label (the form wraps that row), never elided
        self.combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(8)
        self.combo.currentIndexChanged.connect(lambda i: self.edited.emit(field, self.combo.itemData(i)))

    def row(self):
        return self.spec.label, self.combo

    def show(self, value) -> None:
        self.combo.setCurrentIndex(self.combo.findData(value))
        self.combo.updateGeometry()   # shown with its signals blocked: its size follows the new text all the same

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

from gui.controls.scale_editor import LossScaleEditor  # noqa: E402  (issue 24; it subclasses Editor above)
EDITORS["loss_scale"] = LossScaleEditor
