"""Constants of input_boolean."""

DOMAIN = "input_boolean"
CONF_INITIAL = "initial"
