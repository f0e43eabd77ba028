"""What the window remembers between launches (QSettings): geometry, splitters, theme, the last config, and
where the trainer runs (its own process or the window's; View menu).

The window composes; this module owns the keys and how each value is read back. A stored config is
read like a config file (core.io.reader's limits), so a hostile value falls back to the defaults, saying why.
"""
from __future__ import annotations

import json

from PySide6.QtCore import QByteArray, QSettings

from core import ConfigError, ExperimentConfig
from core.io.fileio import shorten
from core.io.reader import parse


def stored_config(settings: QSettings, problems: list | None = None) -> ExperimentConfig | None:
    """The last session's config, or None when there is none or it cannot be used; then a line saying why
    is appended to ``problems``."""
    text = settings.value("experiment/config")
    if text is None or text == "":
        return None
    try:
        if not isinstance(text, str):
            raise ConfigError("settings", f"settings: the stored config is {type(text).__name__}, not text")
        fields = parse(text, "experiment/config", "settings")
        if type(fields) is not dict:
            raise ConfigError("settings", "settings: the stored config is not a JSON object of fields")
        return ExperimentConfig.from_dict(fields)
    except (ConfigError, TypeError, ValueError) as e:
        if problems is not None:
            problems.append(f"The last session's config could not be restored ({shorten(e, 300)}); "
                            "starting with the default settings.")
        return None


def restore_layout(window, settings: QSettings) -> None:
    """Geometry, splitter sizes and the theme's name of the last session."""
    geometry = settings.value("window/geometry")
    if isinstance(geometry, QByteArray):
        window.restoreGeometry(geometry)
        window.splitter.resize(window.size())   # splitter sizes below are clamped to the width it has now
    for name in window.SPLITTERS:
        state = settings.value(f"window/{name}")
        if isinstance(state, QByteArray):
            getattr(window, name).restoreState(state)
    window.theme_name = str(settings.value("view/theme", "system"))


def save(window, settings: QSettings) -> None:
    """Everything restore_layout and stored_config read back."""
    settings.setValue("window/geometry", window.saveGeometry())
    for name in window.SPLITTERS:
        settings.setValue(f"window/{name}", getattr(window, name).saveState())
    settings.setValue("view/theme", window.theme_name)
    settings.setValue("experiment/config", json.dumps(window.config.to_dict()))
    settings.sync()


TRAINER_KEY = "view/trainer"


def stored_trainer(settings: QSettings) -> str | None:
    """Where the View menu said the trainer should run ("thread" or "process"), or None (not said, or unusable)."""
    from core.runtime.runner_process import MODES
    value = settings.value(TRAINER_KEY)
    return value if isinstance(value, str) and value in MODES else None


def add_trainer_action(window, menu):
    """View > Train in a process of its own: checked when this window's trainer runs in one; the choice is
    stored and takes effect when the simulator next starts (a running experiment is never restarted)."""
    from PySide6.QtGui import QAction
    a = QAction("Train in a separate &process", window)
    a.setObjectName("trainerProcessAction")
    a.setCheckable(True)
    a.setChecked(window.model.worker.mode == "process")
    a.setStatusTip("Run the trainer in a process of its own, so that drawing and training each get a core")

    def chosen(on: bool) -> None:
        mode = "process" if on else "thread"
        if window.settings is not None:
            window.settings.setValue(TRAINER_KEY, mode)
        where = {"process": "in a process of its own", "thread": "in the window's process"}
        current = window.model.worker.mode
        window.show_message(f"The trainer runs {where[mode]}; kept for the next starts." if mode == current else
                            f"The trainer will run {where[mode]} from the next start; it stays {where[current]} "
                            "until then.")
    a.toggled.connect(chosen)
    menu.addAction(a)
    return a
