"""What the window remembers between launches (QSettings): geometry, splitters, theme, the last config.

The window composes; this module owns the keys and how each value is read back. A stored config is
read like a config file (core.reader's limits), so a hostile value falls back to the defaults, saying why.
"""
from __future__ import annotations

import json

from PySide6.QtCore import QByteArray, QSettings

from core import ConfigError, ExperimentConfig
from core.fileio import shorten
from core.reader import parse


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
