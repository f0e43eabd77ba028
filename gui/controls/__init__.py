"""gui/controls."""
