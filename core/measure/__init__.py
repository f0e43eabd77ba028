"""core/measure."""
