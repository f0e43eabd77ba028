"""Issue 24: the loss scale's editor: an editable combo box of none, dynamic and a few static scales; any
positive number can be typed. What it sends is checked by core (``FieldSpec.check``), which says what is wrong."""
from __future__ import annotations

from PySide6.QtWidgets import QComboBox

from core.config import FieldSpec

from gui.controls.editors import Editor
from gui.widgets import named

CHOICES = ("none", "dynamic", "128", "1024", "65536")


class _Combo(QComboBox):
    def wheelEvent(self, event):   # noqa: N802 (Qt's name): scrolling the panel must not change the scale
        if self.hasFocus():
            super().wheelEvent(event)
        else:
            event.ignore()


class LossScaleEditor(Editor):
    def __init__(self, field: str, spec: FieldSpec):
        super().__init__(field, spec)
        self.combo = named(_Combo(), self.name, spec.tip)
        self.combo.setEditable(True)
        self.combo.addItems(CHOICES)
        self.combo.setInsertPolicy(QComboBox.NoInsert)
        self.combo.textActivated.connect(lambda text: self.edited.emit(field, self._parsed(text)))

    @staticmethod
    def _parsed(text: str):
        t = text.strip().lower()
        if t in ("none", "dynamic"):
            return t
        try:
            return float(t)
        except ValueError:
            return text   # core refuses it, naming the field and what is allowed

    def row(self):
        return self.spec.label, self.combo

    def show(self, value) -> None:
        self.combo.setEditText(value if isinstance(value, str) else f"{value:g}")

    def value(self):
        return self._parsed(self.combo.currentText())

    def widgets(self) -> list:
        return [self.combo]
