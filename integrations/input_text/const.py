"""Constants of input_text."""

DOMAIN = "input_text"
CONF_INITIAL = "initial"
CONF_MIN = "min"
CONF_MAX = "max"
CONF_PATTERN = "pattern"
CONF_MODE = "mode"
MODES = ("text", "password")
MAX_LENGTH_STATE = 255  # a state is at most 255 characters, as in Home Assistant
