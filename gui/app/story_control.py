"""The window's side of a story (issue 21): choosing one sets its whole view, the story panel follows the session
model's story state, and the claims it quotes are read from the run through ``core.stories.claims``."""
from __future__ import annotations

from core.stories.claims import RunSoFar, claims
from core.stories.presets import PRESETS, lesson_point, lesson_point_text, story_view
from core.training.session import RunState

PAGES = ("gradients", "inside")   # the dashboard's pages, in order (as gui/app/start.py's --page)


class StoryControl:
    """Connects the session model's story to the story panel, the picker and the views a story sets."""

    def __init__(self, window):
        self.window, self.model, self.panel = window, window.model, window.storyPanel
        self.model.storyChanged.connect(self.show)
        self.chain = None   # the latest chain rule sent (snapshots carry it only now and then)
        self.model.rebuilt.connect(self._rebuilt)
        self.model.measured.connect(self._measured)
        self.panel.lessonPointClicked.connect(self.go_to_lesson_point)

    def choose(self, name: str | None) -> None:
        """The story ``name`` (None: none) is the one shown; a story also sets its whole view."""
        self.model.set_story(name, PRESETS[name].config() if name else None)
        if name:
            self.set_view(PRESETS[name])

    def set_view(self, preset) -> None:
        """The story's quantity, theory overlay, loss scale, page, lesson tab and pace; the rest: defaults."""
        w, view = self.window, story_view(preset)
        if "quantity" not in preset.view and "||dL/dz||" in preset.watch:   # a story that says to watch δ
            view["quantity"] = "delta_norms"
        w.gradientQuantityCombo.setCurrentIndex(w.gradientQuantityCombo.findData(view["quantity"]))
        w.theoryCheck.setChecked(view["theory"])
        w.lossLogCheck.setChecked(view["loss_log"])
        w.plotPages.setCurrentIndex(PAGES.index(view["page"]))
        tabs = w.lessonTabs
        wanted = [i for i in range(tabs.count()) if tabs.tabText(i) == view["tab"] and tabs.isTabVisible(i)]
        visible = [i for i in range(tabs.count()) if tabs.isTabVisible(i)]
        tabs.setCurrentIndex((wanted or visible or [0])[0])
        w.speedSpin.setValue(view["pace"])

    def show(self) -> None:
        m = self.model
        preset = PRESETS.get(m.story) if m.story else None
        self.window.controls.show_lesson(m.story, m.story_stale)
        self.panel.show_story(preset, m.story_stale, m.story_why, lesson_point_text(preset) if preset else "")
        self.show_claims()

    def _rebuilt(self, _snap) -> None:
        self.chain = None

    def _measured(self, snap) -> None:
        self.chain = snap.chain if snap.chain is not None else self.chain
        self.show_claims()

    def show_claims(self) -> None:
        m = self.model
        preset = PRESETS.get(m.story) if m.story else None
        if preset is None or m.story_stale:   # the numbers are the story's settings' claims: not judged on others
            self.panel.show_claims([])
            return
        snap = m.last
        latest = None if snap is None else (snap.last_finite_batch if snap.divergence is not None
                                            else snap.last_batch)
        run = RunSoFar(m.history, m.steps, m.first_batch, latest, None if snap is None else snap.divergence,
                       self.chain, m.initial_time_grad)
        self.panel.show_claims(claims(preset, run))

    def go_to_lesson_point(self) -> None:
        if self.model.story is not None and not self.model.story_stale:
            self.model.go_to(*lesson_point(PRESETS[self.model.story]))

    def lesson_point(self) -> tuple | None:
        """The chosen story's lesson point, None without a story or once the settings departed from it."""
        m = self.model
        return lesson_point(PRESETS[m.story]) if m.story is not None and not m.story_stale else None

    def at_lesson_point(self) -> bool:
        """The run has reached the story's lesson point (or diverged on the way) and nothing is pending:
        what is drawn now is the story's picture."""
        m, point = self.model, self.lesson_point()
        if point is None or m._step_pending or m.state == RunState.RUNNING:
            return False
        if m.state == RunState.DIVERGED:
            return True
        unit, n = point
        return len(m.steps) >= n and m.first_batch is not None if unit == "batches" else len(m.history) >= n
