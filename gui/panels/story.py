"""The story panel, beside the plots (above the settings, outside their scrolled column): Run/Step/Reset, the story's text, its lesson point as a button, and the
numbers it quotes read live from the run with a mark where each claim holds now.

It shows what it is given: the session model says which story is chosen and whether the settings still match
it; ``core.stories.claims`` says what each quoted number is now and whether its claim holds.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QFrame, QGridLayout, QLabel, QPushButton, QScrollArea, QSizePolicy, QVBoxLayout,
                               QWidget)

from gui.app import theme
from gui.widgets import named, plain_label, restyle

NO_STORY = "Pick a story to load its settings and read what to watch."
MARKS = {True: ("✓ holds", "running"), False: ("✗ not now", "error"), None: ("… not yet", "notice")}


def in_scroll_area(panel: QWidget) -> QScrollArea:
    """The panel as the window places it: in a short window it scrolls as a whole."""
    scroll = named(QScrollArea(), "storyScroll", "The story: its buttons, numbers and text.")
    scroll.setWidget(panel)
    scroll.setWidgetResizable(True)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
    scroll.setFrameShape(QFrame.NoFrame)
    return scroll


class StoryPanel(QWidget):
    """The story beside the plots. ``lessonPointClicked``: the user asked to take the run to the lesson point."""

    lessonPointClicked = Signal()
    BUTTONS = (("stepBatchButton", "storyStepBatchButton"), ("stepEpochButton", "storyStepEpochButton"),
               ("runButton", "storyRunButton"), ("resetButton", "storyResetButton"))

    def __init__(self, actions: dict):
        super().__init__()
        self.setObjectName("storyPanel")
        self.widgets: dict = {}
        v = QVBoxLayout(self)
        v.setContentsMargins(6, 6, 6, 6)
        v.addLayout(self._buttons(actions))
        self.title = self._add(plain_label("Story", "storyTitle", "The story shown: its name and summary."))
        self.title.setStyleSheet("font-weight: bold;")
        v.addWidget(self.title)
        self.stale = self._add(plain_label("", "storyStaleLabel", "Whether the settings still are the story's."))
        self.stale.hide()
        v.addWidget(self.stale)
        self.point = self._add(named(QPushButton("Run to the lesson point"), "lessonPointButton",
                                     "Take the run to where the story's headline shows (from the seed if it is "
                                     "already past it)."))
        self.point.clicked.connect(self.lessonPointClicked)
        v.addWidget(self.point)
        self.claimsBox = named(QFrame(), "storyClaims", "The numbers the story quotes, read from this run now; "
                                                        "the mark says whether the claim holds now.")
        self.claimsGrid = QGridLayout(self.claimsBox)
        self.claimsGrid.setContentsMargins(0, 0, 0, 0)
        self.claimsGrid.setColumnStretch(0, 1)
        self.claimsGrid.setVerticalSpacing(1)
        v.addWidget(self.claimsBox)
        self.lessonLabel = self._add(plain_label(NO_STORY, "lessonLabel", "What to watch in the current story, "
                                                                          "what happens and why."))
        self.lessonLabel.setAlignment(Qt.AlignTop | Qt.AlignLeft)
        self.lessonLabel.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        scroll = named(QScrollArea(), "storyTextScroll", "The story's text.")
        scroll.setWidget(self.lessonLabel)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        scroll.setFrameShape(QFrame.NoFrame)
        v.addWidget(scroll, 1)
        self._rows: list = []
        self.show_story(None)

    def _add(self, widget):
        self.widgets[widget.objectName()] = widget
        return widget

    def _buttons(self, actions: dict) -> QGridLayout:
        """The same actions as the settings column's buttons, here where they are always in view."""
        grid = QGridLayout()
        for i, (key, name) in enumerate(self.BUTTONS):
            action = actions[key]
            button = self._add(named(QPushButton(action.text()), name, action.toolTip()))
            button.clicked.connect(action.trigger)
            action.changed.connect(lambda b=button, a=action: (b.setEnabled(a.isEnabled()), b.setText(a.text())))
            button.setEnabled(action.isEnabled())
            grid.addWidget(button, i // 2, i % 2)
        return grid

    def show_story(self, preset, stale: bool = False, why: str = "", point_text: str = "") -> None:
        """``preset`` (None: no story); ``stale``: the settings departed from it (``why``)."""
        self.point.setVisible(preset is not None)
        if preset is None:
            self.title.setText("No story")
            self.lessonLabel.setText(NO_STORY)
            self.stale.hide()
            self.show_claims([])
            return
        self.title.setText(f"{preset.name}: {preset.summary}")
        self.lessonLabel.setText(f"Watch {preset.watch}\n\nWhat happens: {preset.happens}\n\nWhy: {preset.why}")
        self.point.setText(point_text)
        self.point.setEnabled(not stale)
        self.stale.setText(f"The settings changed ({why}): this text no longer describes the run. "
                           f"Choose {preset.name} again to restore it.")
        self.stale.setVisible(stale)
        self.recolour()

    def show_claims(self, claims: list) -> None:
        """One row per claim: what, its value now, and a mark (✓ holds, ✗ not now, … not judged yet)."""
        while len(self._rows) > len(claims):
            for w in self._rows.pop():
                self.claimsGrid.removeWidget(w)
                w.deleteLater()
        while len(self._rows) < len(claims):
            i = len(self._rows)
            row = (plain_label("", f"claimLabel{i}", "A number the story quotes."),
                   plain_label("", f"claimValue{i}", "Its value in this run now."),
                   plain_label("", f"claimMark{i}", "Whether the story's claim holds now."))
            row[0].setStyleSheet("font-style: italic;")
            row[1].setWordWrap(False)
            row[2].setWordWrap(False)
            self.claimsGrid.addWidget(row[0], 2 * i, 0, 1, 2)   # what, on a line of its own; value and mark under it
            self.claimsGrid.addWidget(row[1], 2 * i + 1, 0)
            self.claimsGrid.addWidget(row[2], 2 * i + 1, 1)
            self._rows.append(row)
        for row, c in zip(self._rows, claims):
            row[0].setText(c.label)
            row[1].setText(c.value)
            row[2].setText(MARKS[c.holds][0] if c.judged else "")   # no mark on a number no claim is about
            row[2].setProperty("holds", c.holds)
        self.claimsBox.setVisible(bool(claims))
        self.recolour()

    def claims_shown(self) -> list:
        """(label, value, mark) of each row, as shown."""
        return [tuple(w.text() for w in row) for row in self._rows]

    def recolour(self) -> None:
        """The marks and the stale note in the theme's colours (after a theme change too)."""
        for row in self._rows:
            restyle(row[2], f"color: {theme.text_colour(MARKS[row[2].property('holds')][1])};")
        restyle(self.stale, f"color: {theme.text_colour('error')};")
