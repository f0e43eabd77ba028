"""The trainer in a process of its own: the window's GUI thread gets a core (and a GIL) to itself.

The child is started with multiprocessing's "spawn" (a fresh interpreter: never a fork of a process
whose Qt threads are running) and runs the same ``core.runtime.runner.Runner`` as the thread does, with a
``PipeChannel``. It imports no Qt. Between the two processes:

- commands go through a pipe (pickled dataclasses; a sender thread writes them, so the GUI thread
  never blocks on a child busy with a long step);
- the flags and numbers both sides read often (running, stop, drawn, the pace, the spacing of
  snapshots, run A's step count) live in a small block of shared memory, one double each: a read
  between a step's layers costs a memory load, not a system call;
- snapshots come back through a second pipe, pickled (measured in docs/PERFORMANCE.md: a few
  hundred microseconds even for the largest network, against milliseconds of drawing), widened to
  ``PIPE_BYTES`` so that sending one never waits for the window to read it.

``TrainerProcess`` is the window's handle: ``put``, the flags, ``receive`` and ``shutdown`` (stop,
join with a timeout, then terminate, then kill: no orphan, no zombie). A child that dies (killed, a
crash) is noticed by ``receive`` through the process's sentinel, never by a hang.
"""
from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import signal
import sys
import threading
import time
import types
from multiprocessing import resource_tracker
from multiprocessing.connection import wait

RUNNING, STOP, DRAWN, PACE, MIN_INTERVAL, STEP, CPU, SENT, SHOWN = range(9)

MODES = ("thread", "process")   # where the window's trainer runs (--trainer, GRADFLOW_TRAINER, View menu)
ENV = "GRADFLOW_TRAINER"


# Snapshots of small, fast networks carry tens of steps and their distribution records: 40 - 150 kB. A pipe holds
# 64 kB by default, so the trainer's send waited for the window's process to read each one (a wake-up and a
# reschedule on a busy machine, every frame); with room for a few of them it never waits (the window draws one
# snapshot at a time, so at most one is in the pipe besides small messages).
PIPE_BYTES = 1 << 20


def widen_pipe(conn, size: int = PIPE_BYTES) -> int:
    """Let the pipe under ``conn`` hold ``size`` bytes where the system allows it (Linux, within
    /proc/sys/fs/pipe-max-size); returns what it holds now (0: not known on this system)."""
    try:
        import fcntl
    except ImportError:   # not a POSIX system
        return 0
    if not hasattr(fcntl, "F_SETPIPE_SZ"):
        return 0
    try:
        return fcntl.fcntl(conn.fileno(), fcntl.F_SETPIPE_SZ, size)
    except OSError:   # above the system's limit for this user: keep what it has
        try:
            return fcntl.fcntl(conn.fileno(), fcntl.F_GETPIPE_SZ)
        except OSError:
            return 0


def usable_cores() -> int:
    """Cores this process may run on (its affinity, where the system says; else all)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def auto_mode() -> str:
    """Where the trainer runs unless told: its own process when the window can have a core of its own
    (measured in docs/PERFORMANCE.md), else a thread (one core: two processes would only take turns)."""
    return "process" if usable_cores() >= 2 else "thread"


def env_mode() -> str | None:
    """The mode GRADFLOW_TRAINER names (for tests and benchmarks), None when unset; ValueError when bad."""
    value = os.environ.get(ENV, "")
    if value and value not in MODES:
        raise ValueError(f"{ENV}: must be one of {', '.join(MODES)}, got {value[:40]!r}")
    return value or None


def shared_block(ctx):
    """The numbers the window and its trainer process share (RUNNING ... SHOWN), as a new trainer starts: a
    ``ctx.RawArray`` of doubles, all 0 but SHOWN (every costly extra shown)."""
    from core.runtime.messages import SHOWN_ALL
    values = ctx.RawArray("d", SHOWN + 1)
    values[SHOWN] = SHOWN_ALL
    return values


class SharedFlag:
    """A flag in shared memory with threading.Event's is_set/set/clear (no waiting: wake-ups go
    through the command pipe)."""

    def __init__(self, values, index: int):
        self._values, self._index = values, index

    def is_set(self) -> bool:
        return self._values[self._index] != 0.0

    def set(self) -> None:
        self._values[self._index] = 1.0

    def clear(self) -> None:
        self._values[self._index] = 0.0


class PipeChannel:
    """The child's side of the channel (see core.runtime.runner): commands from one pipe, snapshots into the other."""

    shares_gil = False

    def __init__(self, commands, results, values):
        self._commands, self._results, self._values = commands, results, values
        self.running, self.stop, self.drawn = (SharedFlag(values, i) for i in (RUNNING, STOP, DRAWN))

    pace = property(lambda self: self._values[PACE])
    min_interval = property(lambda self: self._values[MIN_INTERVAL])
    shown = property(lambda self: int(self._values[SHOWN]))   # core.runtime.messages.SHOWN_* of the window

    # A system call per step costs a fast step several per cent on a busy machine (a poll 10 us, the process's CPU
    # time 4 us, against 300 - 600 us for a step of 8 - 20 layers of 32): while running, the pipe is looked at only
    # when the window has counted a command into SENT, or every LOOK_EVERY seconds (a window that has gone away),
    # and the CPU time is read every CPU_EVERY seconds.
    LOOK_EVERY, CPU_EVERY = 0.1, 0.002
    _received, _next_look, _next_cpu = 0, 0.0, 0.0

    def get(self, timeout: float):
        if timeout <= 0 and self._values[SENT] <= self._received:
            now = time.perf_counter()
            if now < self._next_look:
                return None
            self._next_look = now + self.LOOK_EVERY
        try:
            if not self._commands.poll(timeout):
                return None
            command = self._commands.recv()
            self._received += 1
            return command
        except (EOFError, OSError):   # the window's process has gone: end
            self.stop.set()
            return None

    def pending(self) -> bool:
        return self._commands.poll()

    def sleep(self, seconds: float) -> bool:
        return self._commands.poll(seconds)   # any command (pause, stop and a new pace send one) ends it

    def step_aside(self) -> None:
        pass   # the window draws on another core: nothing to give way to

    def publish_step(self, step: int) -> None:
        self._values[STEP] = step
        now = time.perf_counter()
        if now >= self._next_cpu:
            self._next_cpu = now + self.CPU_EVERY
            self._values[CPU] = time.process_time()   # how much of a core it gets: the window's pacing reads it

    def emit(self, snapshot) -> None:
        self._send(("snapshot", snapshot))

    def fail(self, message: str, config) -> None:
        self._send(("failed", message, config))

    def _send(self, message) -> None:
        try:
            self._results.send(message)
        except (BrokenPipeError, EOFError, OSError):   # the window's process has gone: end
            self.stop.set()


def child_main(commands, results, values, config, max_rate: float, generation: int, compare, data) -> None:
    """The trainer process's body (spawned: imports only core)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl+C reaches the whole process group: the window decides
    if _HAS_SIGMASK:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})   # blocked while it started (a pending one is dropped)
    from core.runtime.runner import Runner, crash_message
    from core.runtime.setup import configure_process
    setup = configure_process()   # the BLAS threads the window's process chose (inherited variables), the allocator
    channel = PipeChannel(commands, results, values)
    channel._send(("started", sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "shiboken6")), setup))
    try:
        Runner(channel, config, max_rate, generation, compare, data).run()
    except BaseException as e:   # noqa: BLE001 -- said to the window, then the process ends
        channel._send(("crashed", crash_message(e)))
        raise SystemExit(1)


def ended_message(exitcode: int | None) -> str:
    """How a trainer process ended, in words."""
    if exitcode is None:
        return "did not answer and was stopped"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        hint = " (the system may have run out of memory)" if -exitcode == signal.SIGKILL else ""
        return f"was ended by {name}{hint}"
    return f"ended with exit code {exitcode}"


_starting = threading.Lock()
_HAS_SIGMASK = hasattr(signal, "pthread_sigmask")


@contextlib.contextmanager
def _without_main_module():
    """While a child is started: a "spawn" child runs the parent's main script again (as __mp_main__) unless
    that is a module run with -m; the trainer needs nothing from it, and a script that builds a window at its
    top level (or just imports Qt) would do so in the child too. The child is told of an empty __main__."""
    with _starting:
        main = sys.modules["__main__"]
        sys.modules["__main__"] = types.ModuleType("__main__")
        # Ctrl+C reaches the whole process group: a child still starting would die of it with a traceback.
        # It starts with SIGINT blocked (a thread's mask survives fork and exec) and ignores it from child_main,
        # as multiprocessing starts its resource tracker; which it does first (unblocking SIGINT after it).
        blocked = None
        if _HAS_SIGMASK:
            resource_tracker.ensure_running()
            blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            yield
        finally:
            sys.modules["__main__"] = main
            if blocked is not None:
                signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


class TrainerProcess:
    """The window's handle on a trainer process (see the module's docstring). Thread-safe: ``put`` and the
    flags from the GUI thread, ``receive`` and ``shutdown`` from the worker thread."""

    def __init__(self, config, max_rate: float = 30.0, generation: int = 0, compare=None, data=None):
        ctx = multiprocessing.get_context("spawn")
        self.config = config     # what it was started with
        self._values = shared_block(ctx)
        self.running, self.stop, self.drawn = (SharedFlag(self._values, i) for i in (RUNNING, STOP, DRAWN))
        self.drawn.set()
        child_commands, self._commands = ctx.Pipe(duplex=False)
        self._results, child_results = ctx.Pipe(duplex=False)
        self.pipe_bytes = widen_pipe(child_results)   # the trainer never waits for the window to read a snapshot
        self.process = ctx.Process(target=child_main, name="trainer", daemon=True,
                                   args=(child_commands, child_results, self._values, config, max_rate,
                                         generation, compare, data))
        with _without_main_module():
            self.process.start()
        child_commands.close()   # the child holds its ends: when it ends, ours read EOF
        child_results.close()
        self.started = False     # the child has said it runs
        self.snapshots = 0       # snapshots received from it
        self.qt_modules: list | None = None   # Qt modules the child had imported when it started (should be none)
        self.process_setup: dict | None = None   # what core.runtime.setup.configure_process did in the child
        self._outbox: queue.SimpleQueue = queue.SimpleQueue()
        self._sender = threading.Thread(target=self._send_commands, name="trainer-commands", daemon=True)
        self._sender.start()

    # -- the window's side ---------------------------------------------------------------------
    def put(self, command) -> None:
        self._outbox.put(command)

    def wake_up(self) -> None:
        from core.runtime.messages import _Wake
        self.put(_Wake())

    pace = property(lambda self: self._values[PACE], lambda self, v: self._set(PACE, v))
    min_interval = property(lambda self: self._values[MIN_INTERVAL], lambda self, v: self._set(MIN_INTERVAL, v))
    shown = property(lambda self: int(self._values[SHOWN]), lambda self, v: self._set(SHOWN, v))
    step = property(lambda self: int(self._values[STEP]))
    cpu_seconds = property(lambda self: self._values[CPU])   # the child's CPU time, as of its latest step

    def _set(self, index: int, value: float) -> None:
        self._values[index] = float(value)

    def _send_commands(self) -> None:
        while (command := self._outbox.get()) is not None:
            try:
                self._commands.send(command)
                self._values[SENT] += 1   # the child looks at the pipe while running only when this count grows
            except (BrokenPipeError, EOFError, OSError):
                return   # the child has gone: receive() says so
            except Exception as e:   # noqa: BLE001 -- a command that does not pickle (a bug): say so, send the rest
                print(f"trainer process: a command could not be sent: {type(e).__name__}: {e}", file=sys.stderr)

    def receive(self, timeout: float):
        """The child's next message, None after ``timeout``, or ("ended", exitcode) once it has ended
        (every message it sent before is delivered first)."""
        ready = wait([self._results, self.process.sentinel], timeout)
        if not ready:
            return None
        if self._results in ready or self._results.poll():
            try:
                message = self._results.recv()
            except (EOFError, OSError):
                message = None
            except Exception as e:   # noqa: BLE001 -- a message that does not unpickle here (a bug): say so
                return ("unreadable", f"A message from the trainer process could not be read ({type(e).__name__}: "
                                      f"{e}).")
            if message is not None:
                if message[0] == "started":
                    _, self.qt_modules, *setup = message   # ("started", Qt modules, what the set-up did)
                    self.started, self.process_setup = True, setup[0] if setup else None
                elif message[0] == "snapshot":
                    self.snapshots += 1
                return message
        self.process.join(5.0)
        return ("ended", self.process.exitcode)

    def shutdown(self, grace: float = 2.0) -> int | None:
        """Stop the child: it ends within one layer's work; after ``grace`` seconds it is terminated, then
        killed. Joined (no zombie); the pipes and the sender thread are closed. Returns its exit code."""
        self.running.clear()
        self.stop.set()
        self.wake_up()
        deadline = time.monotonic() + grace
        while self.process.exitcode is None and time.monotonic() < deadline:
            # drain what it sends meanwhile: a child blocked writing a snapshot would never see the stop
            if self._results in wait([self._results, self.process.sentinel], deadline - time.monotonic()):
                try:
                    self._results.recv()
                except (EOFError, OSError):
                    self.process.join(deadline - time.monotonic())
        if self.process.exitcode is None:
            self.process.terminate()
            self.process.join(1.0)
        if self.process.exitcode is None:
            self.process.kill()
            self.process.join()
        self._outbox.put(None)
        self._sender.join(1.0)
        for conn in (self._commands, self._results):
            conn.close()
        code = self.process.exitcode
        self.process.close()
        return code
