"""core/nn."""
