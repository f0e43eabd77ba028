"""Files from the window: open, save, export, screenshot, animations."""
