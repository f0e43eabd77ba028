"""gui/panels."""
