"""gui/panels/recurrent."""
