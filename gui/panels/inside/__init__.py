"""gui/panels/inside."""
