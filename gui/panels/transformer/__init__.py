"""The Transformer's views (issue 22): gradient per block and sub-layer, attention map, token similarity."""
