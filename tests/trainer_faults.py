"""A trainer process that cannot start (tests/gui/test_trainer_process.py): imported by the spawned child."""
import os


def exit_at_once(*_args) -> None:
    os._exit(3)
