"""Constants of input_select."""

DOMAIN = "input_select"
CONF_INITIAL = "initial"
CONF_OPTIONS = "options"
