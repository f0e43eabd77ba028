"""gui/bridge."""
