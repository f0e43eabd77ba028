"""core/sweep."""
