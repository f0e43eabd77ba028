"""What a network trains on: the built-in data sets and your own CSV file."""
