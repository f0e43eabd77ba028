"""The window's trainer: ``core.runtime.runner.Runner`` in a thread of this process, or in a process of its own.

``TrainingWorker`` is the window's one handle on the trainer, whichever way it runs (``mode``):

- "thread": the runner runs in the worker's QThread, with a ``core.runtime.runner.ThreadChannel``: commands
  through a queue, flags as threading.Events, snapshots through the queued ``snapshot`` signal. The
  GUI thread and the trainer share one GIL, so snapshots are spaced to leave the GUI thread
  ``GUI_SHARE["thread"]`` of the time, and the trainer steps aside while a frame is drawn.
- "process": the runner runs in a child process (``core.runtime.runner_process.TrainerProcess``); the
  worker's QThread receives its snapshots from a pipe and emits the same signals. The GUI has a core
  of its own, so snapshots come as often as the window can draw them within ``GUI_SHARE["process"]``
  of its time (at most ``max_rate`` a second), less while the trainer gets less than a core (other
  programs busy: ``_trainer_starved``). A child that dies is said in the window and replaced
  by a new one from the seed; one that cannot start is replaced by the thread, saying so.

The window cannot tell the two apart: the same commands, signals, snapshots and ``is_running``;
``trainer_step`` is run A's step count now, read from any thread in either mode.
"""
from __future__ import annotations

import sys
import threading
import time

import numpy as np

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from core import ExperimentConfig
from core.runtime.runner import (Batch, Configure, Kind, Rebuild, Run, Runner, RunView, Snapshot,  # noqa: F401
                         SnapshotAssembler, Step, ThreadChannel, _Paused, _Wake)
from core.runtime.runner_process import MODES, TrainerProcess, auto_mode, ended_message, env_mode

_chosen: list = []   # the mode the command line or the stored setting chose for this process


def choose_mode(mode: str | None) -> None:
    """Where the trainers of this process's windows run (None: GRADFLOW_TRAINER, else auto_mode)."""
    if mode is not None and mode not in MODES:
        raise ValueError(f"trainer: must be one of {', '.join(MODES)}, got {mode!r}")
    _chosen[:] = [mode] if mode else []


def current_mode() -> str:
    """The command line's choice, else GRADFLOW_TRAINER's, else the stored setting's, else auto_mode()."""
    return (_chosen[0] if _chosen else None) or env_mode() or auto_mode()


class TrainingWorker(QObject):
    snapshot = Signal(object)
    failed = Signal(str, object)   # why a command was refused, and the config the session still trains with

    # The share of its time the GUI thread may spend on frames. Thread: it shares the GIL with training.
    # Process: it has a core of its own. A frame of the dashboard costs the GUI thread 17 - 21 ms at 8 - 20 layers
    # of 32 (docs/PERFORMANCE.md): at half the core that allowed ~24 snapshots a second, and one snapshot's trip
    # from the trainer (the pipe, unpickling) made it 17 - 22 redraws a second. 70% allows the full max_rate (30)
    # with such frames; the window still answers input between frames (the longest wait for a key is one frame,
    # whatever the share).
    GUI_SHARE = {"thread": 0.08, "process": 0.7}
    FRAME_SMOOTHING = 0.3   # the frame cost the pacing uses: an average, so one slow frame does not halve the rate

    def __init__(self, config: ExperimentConfig, max_rate: float = 30.0, mode: str = "thread"):
        super().__init__()
        if mode not in MODES:
            raise ValueError(f"trainer: must be one of {', '.join(MODES)}, got {mode!r}")
        self.mode = mode
        self.max_rate = max_rate
        self._initial = config
        self._lock = threading.Lock()     # guards swapping the link (a trainer process replaced)
        self._stopping = threading.Event()
        self._last: dict = {"generation": 0, "config": config, "compare": None, "data": None}
        self._crash: str | None = None    # what a trainer process said before it ended
        self._pending: list = []          # commands posted during the GUI thread's current event
        self.native_thread_id: int | None = None
        self._cpu_seen, self._starved = None, 1.0   # process mode: (time, trainer CPU) at the last frame; the factor
        self._frame_cpu: float | None = None   # the GUI thread's CPU seconds a frame, smoothed
        if mode == "thread":
            self._use_thread()
        else:
            self._assemble = SnapshotAssembler()
            try:
                self._link = TrainerProcess(config, max_rate)
            except (OSError, RuntimeError) as e:   # e.g. no process may be started here: train in this one
                self.mode = "thread"
                self._use_thread()
                self._crash = (f"The trainer could not start a process of its own ({e}), so it runs in the "
                               "window's process instead.")

    def _use_thread(self) -> None:
        # The GUI thread gets the GIL within 1 ms of asking, not the default 5 ms: a frame
        # makes hundreds of short Python calls, each of which would otherwise wait.
        sys.setswitchinterval(0.001)
        self._assemble = SnapshotAssembler()   # each trainer's distributions arrive as what is new
        self._link = ThreadChannel(lambda snap: self.snapshot.emit(self._assemble(snap)), self.failed.emit)
        if self._stopping.is_set():   # stopped while a trainer process was being replaced by this thread
            self._link.stop.set()

    # -- called from the GUI thread -------------------------------------------------------
    def post(self, command) -> None:
        """Queue ``command``; the commands posted while the GUI thread handles one event (one user action, e.g. a
        story's config and its data set) reach the trainer together, on the event loop's next turn, so it
        merges them the same way whichever mode it runs in and however fast it wakes."""
        if isinstance(command, Rebuild) and self.mode == "process":   # what a replacement trainer process starts from
            self._last["compare"] = command.compare
            if command.data is not ...:
                self._last["data"] = command.data
        self._pending.append(command)
        if len(self._pending) == 1:
            QTimer.singleShot(0, lambda: self._flush())   # a plain callable: runs on this (the GUI) thread

    def _flush(self) -> None:
        commands, self._pending = self._pending, []
        if commands:
            with self._lock:   # a pacing sleep ends: commands are handled between batches
                self._link.put(commands[0] if len(commands) == 1 else Batch(tuple(commands)))

    def set_pace(self, steps_per_second: float) -> None:
        """Steps per second while running (0: as fast as it goes); read by the trainer before each batch."""
        with self._lock:
            self._link.pace = max(0.0, float(steps_per_second))
            self._link.wake_up()   # a long sleep for the old pace ends now

    def set_shown(self, mask: int) -> None:
        """Which costly extras the window shows now (core.runtime.messages.SHOWN_*): a running trainer makes only
        those, and one that comes into sight at the next snapshot."""
        with self._lock:
            if self._link.shown != mask:
                self._link.shown = mask

    def pause(self) -> None:
        """Takes effect within one layer's work: a step in progress is abandoned unchanged (the next Run
        takes the same batch), a pacing sleep ends at once, and the PAUSED snapshot leaves out a costly
        prediction picture, sent right after it."""
        with self._lock:
            self._link.running.clear()
        self.post(_Paused())

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            self._link.running.clear()
            self._link.stop.set()
            self._link.put(_Wake())

    def acknowledge(self, gui_cpu_seconds: float = 0.0) -> None:
        """The window has drawn the last snapshot, which cost its GUI thread ``gui_cpu_seconds``: space the next
        snapshots so that frames take about their share of the GUI thread's time."""
        share = self.GUI_SHARE[self.mode] * self._trainer_starved()
        last = self._frame_cpu if self.is_running else None   # a run's frames: stepped or rebuilt ones differ
        if last is not None:   # one frame at most twice the average: a lasting change is followed within frames
            gui_cpu_seconds = min(gui_cpu_seconds, 2 * last)
        self._frame_cpu = gui_cpu_seconds if last is None else last + self.FRAME_SMOOTHING * (gui_cpu_seconds - last)
        with self._lock:
            self._link.min_interval = min(1.0, max(1.0 / self.max_rate, self._frame_cpu / share))
            self._link.drawn.set()
        if not self.is_running:
            self._frame_cpu = None

    def _trainer_starved(self) -> float:
        """Process mode: 1 while the trainer process gets (nearly) a core of its own, less as it gets less (other
        programs busy on the cores the window would draw on): then the window's frames would take from training,
        so it draws fewer, down to the thread's share. 1 in thread mode, and while paced or not running."""
        now = time.perf_counter()
        cpu = getattr(self._link, "cpu_seconds", None)
        last, self._cpu_seen = self._cpu_seen, (now, cpu)
        if cpu is None or last is None or last[1] is None or not self.is_running or self._link.pace > 0:
            return 1.0
        wall = now - last[0]
        if wall < 0.02:
            return self._starved
        got = (cpu - last[1]) / wall   # the share of a core the trainer had since the last frame
        target = float(np.clip((got - 0.5) / 0.4, self.GUI_SHARE["thread"] / self.GUI_SHARE["process"], 1.0))
        self._starved += 0.3 * (target - self._starved)   # smoothed: one slow interval is not a trend
        return self._starved

    @property
    def is_running(self) -> bool:
        return self._link.running.is_set()

    @property
    def trainer_step(self) -> int:
        """Run A's step count as of its latest batch (read only; from any thread, in either mode)."""
        return self._link.step

    # -- the worker thread --------------------------------------------------------------
    @Slot()
    def loop(self) -> None:
        self.native_thread_id = threading.get_native_id()   # the worker thread's, for benchmarks' CPU times
        if self.mode == "process":
            self._relay()
            if self.mode == "process":
                return
        if self._crash:   # said once the window listens (the worker was made before its signals were connected)
            self.failed.emit(self._crash, self._last["config"])
        Runner(self._link, self._last["config"], self.max_rate, self._last["generation"],
               self._last["compare"], self._last["data"]).run()

    def _relay(self) -> None:
        """Process mode: pass the child's snapshots and refusals on as signals until stopped; replace a
        child that died. Returns having switched to the thread when a child could not start."""
        while not self._stopping.is_set():
            message = self._link.receive(0.1)
            if message is None or message[0] == "started":
                continue
            if message[0] == "snapshot":
                self._remember(message[1])
                self.snapshot.emit(self._assemble(message[1]))
            elif message[0] == "failed":
                self.failed.emit(message[1], message[2])
            elif message[0] == "crashed":
                self._crash = message[1]
            elif message[0] == "unreadable":
                self._link.drawn.set()   # nothing to draw: the next snapshot may come
                self.failed.emit(message[1], self._last["config"])
            elif message[0] == "ended" and not self._stopping.is_set():
                if not self._replace(message[1]):
                    return
        self._link.shutdown()

    def _remember(self, snap: Snapshot) -> None:
        """What a replacement child would start from: the config, comparison and data file trained with."""
        last = self._last
        last["generation"], last["config"] = snap.generation, snap.config
        if snap.kind is Kind.REBUILT:
            last["compare"] = last["compare"] if snap.b is not None else None
            last["data"] = last["data"] if snap.data_source is not None else None

    def _replace(self, exitcode) -> bool:
        """A child ended unbidden: start another from the seed (False: it never started; use the thread)."""
        dead = self._link
        why = self._crash or f"The trainer process {ended_message(exitcode)}."
        self._crash = None
        dead.shutdown(0.5)
        last = self._last
        config, compare, data = last["config"], last["compare"], last["data"]
        then = "A new one started from the seed: the history was cleared."
        if dead.started and dead.snapshots == 0:   # it died building these networks: not again
            config, compare, data = ExperimentConfig(), None, None
            then = "It ended while building its networks, so a new one started with the default settings."
        if dead.started and not (dead.snapshots == 0 and dead.config == config):   # (the defaults failed too)
            try:
                with self._lock:
                    self._link = TrainerProcess(config, self.max_rate, last["generation"], compare, data)
                self.failed.emit(f"{why} {then}", config)
                return True
            except (OSError, RuntimeError) as e:
                why = f"{why} A new one could not start ({e}), so"
        else:
            why = f"{why} It could not {'start' if not dead.started else 'build even the default network'}, so"
        with self._lock:
            self.mode = "thread"
            self._use_thread()
        last["config"], last["compare"], last["data"] = config, compare, data   # what loop() starts the thread with
        self.failed.emit(f"{why} the trainer runs in the window's process instead (from the seed).", config)
        return False
