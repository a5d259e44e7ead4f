"""Constants of input_button."""

DOMAIN = "input_button"
