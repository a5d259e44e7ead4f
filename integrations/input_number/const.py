"""Constants of input_number."""

DOMAIN = "input_number"
CONF_INITIAL = "initial"
CONF_MIN = "min"
CONF_MAX = "max"
CONF_STEP = "step"
CONF_MODE = "mode"
MODES = ("slider", "box")
