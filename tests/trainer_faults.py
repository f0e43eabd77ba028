"""A trainer process that cannot start (tests/gui/test_trainer_process.py): imported by the spawned child."""
import os


def exit_at_once(*_args) -> None:
    os._exit(3)


def start_then_exit(commands, results, *_args) -> None:
    """Says it runs, then ends before any snapshot (as one killed while building a network too large)."""
    results.send(("started", []))
    os._exit(4)
