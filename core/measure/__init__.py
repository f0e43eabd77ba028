"""Theory and derived views of the numbers: mean-field theory, regimes, the chain rule, the gradient through time, the Inside page's distributions."""
