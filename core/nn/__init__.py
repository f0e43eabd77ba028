"""The networks: the model interface, the model-kind registry, MLP, RNN/LSTM/GRU, Transformer, activations, initialisers, losses, optimisers."""
