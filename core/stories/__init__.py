"""core/stories."""
