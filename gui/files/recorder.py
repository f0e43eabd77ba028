"""Animations of a run: ``--record FILE.gif`` (or .mp4) steps the window and grabs a frame at a time.

The recorder drives the window through its own Step epoch / Step batch commands, so every frame
shows what the window drew from the core's numbers for exactly that epoch (or every N steps):
one frame at initialisation, then one per epoch (``every`` None) or one every ``every`` steps,
up to ``epochs`` or a divergence. A frame is the whole window, or one plot (``plot``, a name in
PLOTS, the view registry's names), at ``scale`` times its on-screen size (--export-scale / --export-dpi), with a
band below it saying the epoch and step it shows (gui/files/stamp.py; ``Recorder.stamps`` lists them). GIFs are encoded by Pillow, MP4 by imageio with its ffmpeg plugin where installed; the
file is written through core's atomic writer, so a failed recording leaves no partial file.
"""
from __future__ import annotations

import sys
import time

import numpy as np
from PySide6.QtCore import QTimer

from core.io.formats import GIF, MP4, RECORD, FormatError, write_animation
from core.io.records import write_atomically
from core.runtime.runner import Kind
from core.training.session import RunState

from gui.files.export import frame_of  # noqa: F401  (the recorder's frames; tests import it from here)
from gui.files.stamp import stamp_text, stamped
from gui.panels import views

# --record-plot NAME -> the window's attribute holding that plot's widget: every view of the registry
PLOTS = {v.name: v.object_name for v in views.VIEWS}
FORMATS = tuple(f.ext for f in RECORD.formats)
FRAME_MS = 200  # how long each frame shows in the animation
STALL_SECONDS = 120  # no answer from the window for this long: give up rather than hang


def check_target(path: str, plot: str | None, every: int | None, model: str | None = None) -> str | None:
    """Why this recording cannot be made (one line naming the flag), or None. ``model``: the network's kind,
    when known: a view it does not show cannot be recorded."""
    try:
        fmt = RECORD.choose(path)
    except FormatError as e:
        return str(e)
    if fmt is MP4 and mp4_writer_missing():
        return f"record: writing .mp4 needs imageio and imageio-ffmpeg ({mp4_writer_missing()}); .gif works as is"
    if fmt is GIF and _import_error("PIL.Image"):
        return f"record: writing .gif needs Pillow ({_import_error('PIL.Image')}): pip install Pillow"
    view = views.by_name(plot) if plot is not None else None
    if plot is not None and view is None:
        return f"record_plot must be one of {', '.join(views.names())}, got {plot!r}"
    if view is not None and model is not None and not view.supports(model):
        return f"record_plot: {plot} is shown for {view.shown_for()} only, got model {model!r}"
    if every is not None and every < 1:
        return f"record_every must be a whole number of steps from 1 up, got {every}"
    return None


def _import_error(module: str) -> str | None:
    try:
        __import__(module)
    except ImportError as e:
        return str(e)
    return None


def mp4_writer_missing() -> str | None:
    return _import_error("imageio.v3") or _import_error("imageio_ffmpeg")


def encode(frames: list, path: str, frame_ms: int = FRAME_MS) -> bytes:
    """The frames as a looping GIF (Pillow) or an MP4 (imageio-ffmpeg), chosen by the file name."""
    return write_animation(frames, RECORD.choose(path), frame_ms)


class Recorder:
    """Steps ``window`` to ``epochs`` and keeps one frame per epoch (or every ``every`` steps)."""

    def __init__(self, window, path: str, epochs: int, plot: str | None = None, every: int | None = None,
                 on_done=None, scale: float = 1.0):
        self.window, self.path, self.epochs, self.every, self.on_done = window, path, epochs, every, on_done
        self.widget = getattr(window, views.by_name(plot).object_name) if plot else window
        self.scale = scale   # frames drawn at this times the on-screen size (core.io.export_size checked it)
        self.frames: list[np.ndarray] = []
        self.stamps: list[str] = []   # what each frame's band says (gui/files/stamp.py), in order
        self.error: str | None = None
        self.done = False
        self._seen = None  # the snapshot the last frame was taken after
        self._asked = 0.0  # when the latest step was asked for

    def start(self) -> None:
        """Begin once the window has its network (the first snapshot); it calls finish() at the end."""
        if self.window.state != RunState.READY or self.window.last_snapshot is None:
            QTimer.singleShot(50, self.start)
            return
        self._settle(self._grab_then_step)

    def _settle(self, then) -> None:
        # the window paints in queued calls after a snapshot is drawn: let them run first
        QTimer.singleShot(0, lambda: QTimer.singleShot(0, lambda: QTimer.singleShot(30, then)))

    def _grab_then_step(self) -> None:
        self.window.dashboard.draw_shown(everything=True)   # the recorded plot may be on a page not in front
        snap = self.window.last_snapshot
        self.stamps.append(stamp_text(snap.epoch, snap.step, self.window.state == RunState.DIVERGED))
        self.frames.append(stamped(frame_of(self.widget, self.scale), self.stamps[-1], self.scale))
        self._seen = snap
        w = self.window
        if len(w.history) >= self.epochs or w.state == RunState.DIVERGED:
            self.finish()
            return
        self._steps_left = self.every or 1
        self._step()

    def _step(self) -> None:
        self._seen = self.window.last_snapshot
        self._asked = time.monotonic()
        self.window.step_batch() if self.every else self.window.step_epoch()
        self._wait()

    def _wait(self) -> None:
        snap = self.window.last_snapshot
        if snap is self._seen or snap.kind not in (Kind.BATCH, Kind.EPOCH, Kind.DIVERGED):
            if time.monotonic() - self._asked > STALL_SECONDS:
                self.error = f"the window did not finish a step in {STALL_SECONDS} s: " \
                             f"{self.window.messageLabel.text() or 'no message'}"
                self.done = True
                self.on_done and self.on_done()
                return
            QTimer.singleShot(10, self._wait)
            return
        self._steps_left -= 1
        if self._steps_left > 0 and snap.kind != Kind.DIVERGED and len(self.window.history) < self.epochs:
            self._step()
        else:
            self._settle(self._grab_then_step)

    def finish(self) -> None:
        try:
            write_atomically(self.path, encode(self.frames, self.path))
        except (OSError, ValueError, RuntimeError) as e:
            self.error = f"cannot write {self.path!r}: {getattr(e, 'strerror', None) or e}"
        self.done = True
        if self.on_done is not None:
            self.on_done()


def record_window(app, window, path: str, epochs: int, plot: str | None, every: int | None,
                  scale: float = 1.0) -> int:
    """Run the recording in the (shown) window, then close it; the exit status (1 when it failed)."""
    def finished():
        window.close()
        app.quit()
    recorder = Recorder(window, path, epochs, plot, every, on_done=finished, scale=scale)
    QTimer.singleShot(100, recorder.start)
    app.exec()
    if recorder.error:
        print(f"main.py: error: record: {recorder.error}", file=sys.stderr)
        return 1
    return 0
