"""Between the window and the trainer: the session model, the worker, the garbage-collector guard."""
