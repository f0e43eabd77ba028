"""The control panel: one editor per config field, generated from ``core.config.FIELD_SPECS``.

A field's kind picks its editor (one map, ``EDITORS``): choice -> combo box, int -> spin box,
float -> spin box (plus a log slider when the spec asks), optional float -> check box and
spin box, bool -> check box. Ranges, labels and tooltips come from the spec, and the spin
boxes show any valid value exactly (``lr=50``, ``init_gain=0.001``, ``seed=4294967295``), so
a field added to the table appears here with no edit. The panel only reports edits
(``fieldEdited``); the session model decides what they mean and calls ``show_config``.
"""
from __future__ import annotations

import os

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGridLayout, QGroupBox,
                               QHBoxLayout, QLabel, QLineEdit, QPushButton, QScrollArea, QVBoxLayout, QWidget)

from core.training.compare import COMPARABLE
from core.config import FIELD_SPECS, RECURRENT_GROUP, TRANSFORMER_GROUP
from core.nn.kinds import kind_of
from core.data.datasets import SEQUENCE_DATASETS
from core.stories.presets import PRESETS

from gui.app import theme
from gui.controls.editors import EDITORS
from gui.widgets import named, plain_label

TOP_GROUPS = ("Network", RECURRENT_GROUP, TRANSFORMER_GROUP, "Training")   # other groups a spec names go below the stories


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
        for form in forms.values():   # a choice too long to sit beside its label goes under it (issue 21)
            form.setRowWrapPolicy(QFormLayout.WrapLongRows)
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
        # the story shown, chosen again while marked stale: no index change, so only ``activated`` says it
        combo.activated.connect(lambda i: self._stale_story and combo.itemData(i) == self._stale_story
                                and self.presetChosen.emit(self._stale_story))
        self._stale_story = None
        theory = named(QCheckBox("Theory overlay"), "theoryCheck",
                       "Draw the mean-field prediction over the bars: back-propagated gradients change "
                       "by sqrt(chi_1) per layer (Poole et al. 2016).")
        phase = plain_label("", "phaseLabel", "Mean-field phase of this network: ordered (gradients vanish), "
                                              "chaotic (they explode) or near the edge of chaos.")
        box = QGroupBox("Stories")
        v = QVBoxLayout(box)
        for w in (combo, theory, phase):   # the story's text: the story panel beside the plots (issue 21)
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
        kind = kind_of(config)
        self.groups[RECURRENT_GROUP].setVisible(kind.sequences or config.dataset in SEQUENCE_DATASETS)
        self.groups[TRANSFORMER_GROUP].setVisible(any(kind.uses(f) for f, e in self.editors.items()
                                                      if e.spec.group == TRANSFORMER_GROUP))   # only where it acts
        self._dataset = config.dataset
        self._enable_for(kind)
        for field, e in self.editors.items():
            for w in e.widgets():
                w.blockSignals(True)
            try:
                e.show(getattr(config, field))
            finally:
                for w in e.widgets():
                    w.blockSignals(False)

        self._show_data_file()

    def _enable_for(self, kind) -> None:
        """Editors of the fields ``kind`` does not use are disabled; their tooltip says why (the registry's).
        Only what this disabled is enabled again (an editor may disable a part of itself, e.g. clipping's box)."""
        for field, e in self.editors.items():
            used = kind.uses(field)
            for w in e.widgets():
                if w.property("usedTip") is None:
                    w.setProperty("usedTip", w.toolTip())
                if not used:
                    w.setEnabled(False)
                    w.setToolTip(f"{w.property('usedTip')} Does not apply to model {kind.name}: "
                                 f"{kind.why_unused(field)}.")
                elif w.property("kindDisabled"):
                    w.setEnabled(True)
                    w.setToolTip(w.property("usedTip"))
                w.setProperty("kindDisabled", not used)

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
            combo.updateGeometry()

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

    def show_lesson(self, name: str | None, stale: bool = False) -> None:
        """Select a story in the picker (quietly); None: no story. ``stale``: its entry says the settings changed
        (every other entry shows its plain name)."""
        combo = self.widgets["presetCombo"]
        combo.blockSignals(True)
        for i in range(1, combo.count()):
            combo.setItemText(i, combo.itemData(i))
        i = combo.findData(name) if name else 0
        combo.setCurrentIndex(i)
        if name and stale:
            combo.setItemText(i, f"{name} (settings changed)")
        self._stale_story = name if stale else None
        combo.blockSignals(False)

    def show_message(self, text: str | None = None, error: bool | None = None) -> None:
        """A message in the theme's notice or error colour; no arguments: the shown one, recoloured."""
        if text is not None:
            self.messageLabel.setText(text)
            self._error = bool(error)
        colour = theme.text_colour("error" if getattr(self, "_error", False) else "notice")
        self.messageLabel.setStyleSheet(f"color: {colour};")
