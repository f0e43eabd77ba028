"""The plots, one view a module, built from the view registry (views.py)."""
