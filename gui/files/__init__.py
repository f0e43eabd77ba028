"""gui/files."""
