"""Constants of counter."""

DOMAIN = "counter"
CONF_INITIAL = "initial"
CONF_STEP = "step"
CONF_MINIMUM = "minimum"
CONF_MAXIMUM = "maximum"
CONF_RESTORE = "restore"
