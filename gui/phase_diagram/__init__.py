"""gui/phase_diagram."""
