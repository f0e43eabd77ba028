"""A sweep over two settings drawn as a heatmap while it runs."""
