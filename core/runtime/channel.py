"""The channel of a ``Runner`` in a thread of the window's process (see ``core.runtime.runner`` for what a
channel offers; ``core.runtime.runner_process.PipeChannel`` is the one for a trainer in its own process)."""
from __future__ import annotations

import queue
import threading

from core.runtime.messages import SHOWN_ALL


class ThreadChannel:
    """The channel of a runner in a thread of the window's process: a queue and threading.Events.
    ``emit`` and ``fail`` are the worker's Qt signals' emit (queued to the GUI thread)."""

    shares_gil = True

    def __init__(self, emit, fail):
        self.emit, self.fail = emit, fail
        self.commands: queue.SimpleQueue = queue.SimpleQueue()
        self.running, self.stop, self.drawn = threading.Event(), threading.Event(), threading.Event()
        self.drawn.set()
        self.wake = threading.Event()   # ends a pacing sleep at once (a command, pause, stop, a new pace)
        self.pace = 0.0                 # steps per second while running; 0: as fast as it goes
        self.min_interval = 0.0         # seconds between snapshots while running
        self.shown = SHOWN_ALL          # the costly extras the window shows (core.runtime.messages.SHOWN_*)
        self.step = 0                   # run A's steps, as of the latest batch (read from any thread)

    # the window's side
    def put(self, command) -> None:
        self.commands.put(command)
        self.wake.set()

    def wake_up(self) -> None:
        self.wake.set()

    # the runner's side
    def get(self, timeout: float):
        try:
            return self.commands.get(timeout=timeout) if timeout > 0 else self.commands.get_nowait()
        except queue.Empty:
            return None

    def pending(self) -> bool:
        return not self.commands.empty()

    def sleep(self, seconds: float) -> bool:
        self.wake.clear()
        return self.wake.wait(seconds)

    def step_aside(self) -> None:
        # Drawing and training share the GIL, and a frame drawn without contention costs a fraction
        # of one drawn against training: wait (briefly) until the window has drawn.
        self.drawn.wait(0.1)

    def publish_step(self, step: int) -> None:
        self.step = step
