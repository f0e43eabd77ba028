"""Views of the gradient through time, for the kinds that take sequences."""
