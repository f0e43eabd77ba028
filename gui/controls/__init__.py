"""The settings column: the control panel and its generated editors."""
