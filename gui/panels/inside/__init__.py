"""The Inside page: distributions, the forward signal, the network picture, rewind."""
