"""Every entry point's exit status: 0 done, 1 a run that failed (a write failed mid-run, a sweep's worker
died, memory ran out), 2 bad usage or bad input (refused before anything runs), 128 + the signal's number when
interrupted (130 for Ctrl+C, 143 for SIGTERM). Each failure is one line on stderr, never a traceback.

Ctrl+C and SIGTERM are handled at any moment, imports included: this module imports only ``signal``, so an
entry point installs ``run_entry`` before NumPy or Qt load. The entry points' own handlers (core.cli's stop_on_signals, the window's CloseOnSignal) take over once they run; a
second signal ends the process at once (the default action)."""
from __future__ import annotations

import signal
import sys

SIGNALS = (signal.SIGINT, signal.SIGTERM)
EXIT_DONE, EXIT_RUN_FAILED, EXIT_BAD_INPUT = 0, 1, 2


class RunFailed(Exception):
    """A run that started and could not finish (exit status 1); the message is the one line to print."""


class Interrupted(KeyboardInterrupt):
    """SIGTERM or SIGINT arrived: unwinds like Ctrl+C, so every ``with`` and ``finally`` cleans up."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


_received: list[int] = []   # every SIGINT/SIGTERM handled so far, in order


def raise_interrupted(signum, _frame) -> None:
    """The handler: remember the signal, make the next one fatal, raise Interrupted in the main thread."""
    _received.append(signum)
    for s in SIGNALS:
        signal.signal(s, signal.SIG_DFL)
    raise Interrupted(signum)


def raise_if_signalled() -> None:
    """Raise Interrupted if a signal was handled before, even though its exception was lost: Python drops an
    exception raised while a ``__del__`` or a garbage-collector callback runs ("Exception ignored in ..."), and
    the handler has already made the next signal fatal, so the run would go on with no way to stop it but
    SIGKILL. Loops call this once per unit of work (the headless run: each epoch)."""
    if _received:
        raise Interrupted(_received[0])


def forget_signals() -> None:
    """The signals so far were dealt with (their run ended): a later run in this process starts afresh."""
    _received.clear()


def raise_on_signals() -> None:
    """From now on SIGINT and SIGTERM raise Interrupted in the main thread."""
    for s in SIGNALS:
        signal.signal(s, raise_interrupted)


def exit_status(error: KeyboardInterrupt) -> int:
    return 128 + getattr(error, "signum", signal.SIGINT)


def run_entry(main, name: str) -> int:
    """``main()``'s exit status; a signal before ``main`` handles signals itself ends it with one line."""
    raise_on_signals()
    try:
        return main()
    except KeyboardInterrupt as e:
        print(f"{name}: interrupted by {signal.Signals(exit_status(e) - 128).name}", file=sys.stderr, flush=True)
        return exit_status(e)
