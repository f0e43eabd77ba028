"""gui/app."""
