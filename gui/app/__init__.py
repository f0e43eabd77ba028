"""The window as a whole: start-up, the main window, its remembered settings and themes."""
